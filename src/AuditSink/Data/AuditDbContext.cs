using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.AuditSink.Data;

/// <summary>The audit store: schema <c>audit</c> in PostgreSQL, the same model in the embedded SQLite file.</summary>
public sealed class AuditDbContext(DbContextOptions<AuditDbContext> options) : DbContext(options)
{
    public const string Schema = "audit";

    public DbSet<SignEventRecord> SignEvents => Set<SignEventRecord>();
    public DbSet<AuditTrailRecord> AuditTrail => Set<AuditTrailRecord>();
    public DbSet<ChainAnchorRecord> ChainAnchors => Set<ChainAnchorRecord>();
    public DbSet<ErrorDetailRecord> ErrorDetails => Set<ErrorDetailRecord>();
    public DbSet<MetricsMinuteRecord> MetricsMinute => Set<MetricsMinuteRecord>();

    /// <summary>True for PostgreSQL (partitioned tables, SQL functions); false for the embedded SQLite store.</summary>
    public bool IsPostgres => !Database.ProviderName!.Contains("Sqlite", StringComparison.Ordinal);

    /// <summary>A table's name in raw SQL: schema-qualified in PostgreSQL, bare in the embedded SQLite store.</summary>
    public string Table(string name) => IsPostgres ? $"{Schema}.{name}" : name;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        if (IsPostgres)
        {
            modelBuilder.HasDefaultSchema(Schema);
        }

        // Partitioned tables (PostgreSQL) need the partition key in every unique key: hence (event_id, time) keys.

        modelBuilder.Entity<SignEventRecord>(e =>
        {
            e.ToTable("sign_events");
            e.HasKey(x => new { x.EventId, x.Timestamp });
            e.Property(x => x.EventType).HasMaxLength(32);
            e.Property(x => x.TenantId).HasMaxLength(63);
            e.Property(x => x.Region).HasMaxLength(64);
            e.Property(x => x.SigningMode).HasMaxLength(32);
            e.Property(x => x.Kid).HasMaxLength(128);
            e.Property(x => x.Format).HasMaxLength(8);
            e.Property(x => x.TbsHash).HasMaxLength(64);
            e.Property(x => x.KmsKeyId).HasMaxLength(2048);
            e.Property(x => x.KmsRegion).HasMaxLength(64);
            e.Property(x => x.ErrorType).HasMaxLength(64);
            e.Property(x => x.ErrorMessage).HasMaxLength(1024);
            e.Property(x => x.ItemId).HasMaxLength(255);
            e.Property(x => x.TWasmMs).HasColumnName("t_wasm_ms");
            e.Property(x => x.TKmsMs).HasColumnName("t_kms_ms");
            e.Property(x => x.TTotalMs).HasColumnName("t_total_ms");
            e.HasIndex(x => x.RequestId);
            e.HasIndex(x => new { x.TenantId, x.Timestamp });
        });
        modelBuilder.Entity<AuditTrailRecord>(e =>
        {
            e.ToTable("audit_trail");
            // Partitioned by recorded_at (the database's clock when written, in chain order), so retention always
            // drops a prefix of the chain; event ids are kept unique by the chained writer.
            e.HasKey(x => new { x.EventId, x.RecordedAt });
            e.HasIndex(x => x.Seq).IsUnique(false);
            e.Property(x => x.Category).HasMaxLength(32);
            e.Property(x => x.Actor).HasMaxLength(128);
            e.Property(x => x.SourceAddress).HasMaxLength(64);
            e.Property(x => x.Action).HasMaxLength(256);
            e.Property(x => x.Target).HasMaxLength(256);
            e.Property(x => x.Outcome).HasMaxLength(16);
            e.HasIndex(x => x.OccurredAt);
            e.HasIndex(x => new { x.Category, x.OccurredAt });
            e.Property(x => x.PrevHash).HasMaxLength(32);
            e.Property(x => x.RowHash).HasMaxLength(32);
        });
        modelBuilder.Entity<ChainAnchorRecord>(e =>
        {
            e.ToTable("chain_anchors");
            e.HasKey(x => x.Seq);
            e.Property(x => x.Seq).ValueGeneratedNever();
            e.Property(x => x.DroppedPartition).HasMaxLength(128);
        });
        modelBuilder.Entity<ErrorDetailRecord>(e =>
        {
            e.ToTable("error_details");
            e.HasKey(x => new { x.EventId, x.Timestamp });
            e.Property(x => x.TenantId).HasMaxLength(63);
            e.Property(x => x.ErrorType).HasMaxLength(64);
            e.Property(x => x.ErrorMessage).HasMaxLength(1024);
            e.Property(x => x.SigningMode).HasMaxLength(32);
            e.Property(x => x.KmsKeyId).HasMaxLength(2048);
            e.Property(x => x.KmsRegion).HasMaxLength(64);
            e.HasIndex(x => x.RequestId);
        });
        modelBuilder.Entity<MetricsMinuteRecord>(e =>
        {
            e.ToTable("metrics_minute");
            e.HasKey(x => new { x.Minute, x.TenantId, x.Region, x.SigningMode });
            e.Property(x => x.TenantId).HasMaxLength(63);
            e.Property(x => x.Region).HasMaxLength(64);
            e.Property(x => x.SigningMode).HasMaxLength(32);
            e.Property(x => x.P50Ms).HasColumnName("p50_ms");
            e.Property(x => x.P95Ms).HasColumnName("p95_ms");
            e.Property(x => x.P99Ms).HasColumnName("p99_ms");
        });
    }

    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, string? postgres, string contentRoot) =>
        EdgeSigner.ServiceDefaults.DatabaseStore.Configure(options, postgres, contentRoot, Schema, "audit.db");
}

/// <summary>For <c>dotnet ef migrations add</c>: the PostgreSQL model; it never connects.</summary>
public sealed class AuditDbContextFactory : Microsoft.EntityFrameworkCore.Design.IDesignTimeDbContextFactory<AuditDbContext>
{
    public AuditDbContext CreateDbContext(string[] args) => new(EdgeSigner.ServiceDefaults.DatabaseStore.DesignTime<AuditDbContext>(AuditDbContext.Schema));
}
