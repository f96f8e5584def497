using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.ServiceDefaults;

/// <summary>Where each service's EF Core store lives: a PostgreSQL schema, or a SQLite file in embedded mode.</summary>
public static class DatabaseStore
{
    /// <summary>
    /// PostgreSQL when <paramref name="postgres"/> is given (migration history kept in <paramref name="schema"/>),
    /// else the embedded SQLite file <c>data/<paramref name="sqliteFile"/></c> under the content root; snake_case names.
    /// </summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, string? postgres, string contentRoot, string schema, string sqliteFile)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (postgres is not null)
        {
            options.UseNpgsql(postgres, npgsql => npgsql.MigrationsHistoryTable("__EFMigrationsHistory", schema));
        }
        else
        {
            var directory = Path.Combine(contentRoot, "data");
            Directory.CreateDirectory(directory);
            options.UseSqlite($"Data Source={Path.Combine(directory, sqliteFile)}");
        }

        return options.UseSnakeCaseNamingConvention();
    }

    /// <summary>The options <c>dotnet ef migrations add</c> builds a context with: PostgreSQL, never connected.</summary>
    public static DbContextOptions<TContext> DesignTime<TContext>(string schema) where TContext : DbContext
    {
        var options = new DbContextOptionsBuilder<TContext>();
        Configure(options, "Host=localhost;Database=design", ".", schema, "design.db");
        return options.Options;
    }
}
