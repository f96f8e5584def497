using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.SignWorker.Data;

/// <summary>The workers' own state: results and their claims, and the outcome outbox. Schema <c>signer</c>.</summary>
public sealed class SignerDbContext(DbContextOptions<SignerDbContext> options) : DbContext(options)
{
    public const string Schema = "signer";

    public DbSet<SignResultRecord> Results => Set<SignResultRecord>();

    public bool IsPostgres => !Database.ProviderName!.Contains("Sqlite", StringComparison.Ordinal);

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        if (IsPostgres)
        {
            modelBuilder.HasDefaultSchema(Schema);
        }

        modelBuilder.Entity<SignResultRecord>(e =>
        {
            e.ToTable("sign_results");
            // Partitioned by day (PostgreSQL), so the partition key is part of the key; request ids stay unique
            // because SignResultStore claims them under a per-request advisory lock.
            e.HasKey(x => new { x.RequestId, x.CreatedAt });
            e.HasIndex(x => x.RequestId);
            e.Property(x => x.TenantId).HasMaxLength(63);
            e.Property(x => x.Kid).HasMaxLength(128);
            e.Property(x => x.Format).HasMaxLength(8);
            e.Property(x => x.SigningMode).HasMaxLength(32);
            e.Property(x => x.Region).HasMaxLength(64);
            e.Property(x => x.TbsHash).HasMaxLength(64);
            e.Property(x => x.ErrorType).HasMaxLength(64);
            e.Property(x => x.ErrorMessage).HasMaxLength(1024);
            e.Property(x => x.ItemId).HasMaxLength(255);
            e.Property(x => x.ClaimedBy).HasMaxLength(128);
            e.HasIndex(x => new { x.BatchId, x.ItemIndex });
        });
    }

    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, string? postgres, string contentRoot) =>
        EdgeSigner.ServiceDefaults.DatabaseStore.Configure(options, postgres, contentRoot, Schema, "signer.db");
}

/// <summary>For <c>dotnet ef migrations add</c>: the PostgreSQL model; it never connects.</summary>
public sealed class SignerDbContextFactory : Microsoft.EntityFrameworkCore.Design.IDesignTimeDbContextFactory<SignerDbContext>
{
    public SignerDbContext CreateDbContext(string[] args) => new(EdgeSigner.ServiceDefaults.DatabaseStore.DesignTime<SignerDbContext>(SignerDbContext.Schema));
}
