using EdgeSigner.Ingress.Batches;
using EdgeSigner.Ingress.Flags;
using EdgeSigner.Ingress.RateLimiting;
using EdgeSigner.Ingress.Signing;
using EdgeSigner.Ingress.Tenants;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.Ingress.Data;

/// <summary>
/// The ingress's own state: tenants, their API key hashes and broker users, flags, rate buckets, idempotency keys, batches and
/// their results, and the public keys the workers announced. Schema <c>ingress</c> in PostgreSQL.
/// </summary>
public sealed class IngressDbContext(DbContextOptions<IngressDbContext> options) : DbContext(options)
{
    public const string Schema = "ingress";

    public DbSet<Tenant> Tenants => Set<Tenant>();
    public DbSet<TenantApiKey> ApiKeys => Set<TenantApiKey>();
    public DbSet<TenantBrokerUser> BrokerUsers => Set<TenantBrokerUser>();
    public DbSet<FlagStateRow> FlagState => Set<FlagStateRow>();
    public DbSet<RateBucketRow> RateBuckets => Set<RateBucketRow>();
    public DbSet<IdempotencyKeyRow> IdempotencyKeys => Set<IdempotencyKeyRow>();
    public DbSet<PublishedKeyRow> PublishedKeys => Set<PublishedKeyRow>();
    public DbSet<BatchRow> Batches => Set<BatchRow>();
    public DbSet<BatchItemRow> BatchItems => Set<BatchItemRow>();

    public bool IsSqlite => Database.ProviderName!.Contains("Sqlite", StringComparison.Ordinal);

    /// <summary>A table's name in raw SQL: schema-qualified in PostgreSQL, bare in the embedded SQLite store.</summary>
    public string Table(string name) => IsSqlite ? name : $"{Schema}.{name}";

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        if (!IsSqlite)
        {
            modelBuilder.HasDefaultSchema(Schema);
        }

        modelBuilder.Entity<Tenant>(e =>
        {
            e.ToTable("tenants");
            e.HasKey(x => x.TenantId);
            e.Property(x => x.TenantId).HasMaxLength(63);
            e.HasMany(x => x.ApiKeys).WithOne().HasForeignKey(x => x.TenantId);
        });
        modelBuilder.Entity<TenantApiKey>(e =>
        {
            e.ToTable("api_keys");
            e.HasKey(x => x.KeyId);
            e.Property(x => x.KeyId).HasMaxLength(32);
            e.Property(x => x.KeyHash).HasMaxLength(32);
            e.HasIndex(x => x.KeyHash).IsUnique();
        });
        modelBuilder.Entity<TenantBrokerUser>(e =>
        {
            e.ToTable("broker_users");
            e.HasKey(x => x.BrokerUser);
            e.Property(x => x.BrokerUser).HasMaxLength(255);
            e.Property(x => x.TenantId).HasMaxLength(63);
            e.HasOne<Tenant>().WithMany().HasForeignKey(x => x.TenantId);
            e.HasIndex(x => x.TenantId);
        });
        modelBuilder.Entity<IdempotencyKeyRow>(e =>
        {
            e.ToTable("idempotency_keys");
            e.HasKey(x => new { x.TenantId, x.Key });
            e.Property(x => x.TenantId).HasMaxLength(63);
            e.Property(x => x.Key).HasMaxLength(255);
            e.Property(x => x.RequestHash).HasMaxLength(32);
            e.HasIndex(x => x.CreatedAt);
        });
        modelBuilder.Entity<PublishedKeyRow>(e =>
        {
            e.ToTable("published_keys");
            e.HasKey(x => x.Kid);
            e.Property(x => x.Kid).HasMaxLength(128);
            e.Property(x => x.Fingerprint).HasMaxLength(64);
        });
        modelBuilder.Entity<RateBucketRow>(e =>
        {
            e.ToTable("rate_buckets");
            e.HasKey(x => x.TenantId);
            e.Property(x => x.TenantId).HasMaxLength(63);
        });
        modelBuilder.Entity<BatchRow>(e =>
        {
            e.ToTable("batches");
            e.HasKey(x => x.BatchId);
            e.Property(x => x.TenantId).HasMaxLength(63);
            e.Property(x => x.State).HasMaxLength(16);
            e.Property(x => x.ResultsQueue).HasMaxLength(255);
            e.HasIndex(x => x.CreatedAt);
        });
        modelBuilder.Entity<BatchItemRow>(e =>
        {
            e.ToTable("batch_items");
            e.HasKey(x => new { x.BatchId, x.ItemIndex });
            e.Property(x => x.ItemId).HasMaxLength(255);
            e.Property(x => x.Kid).HasMaxLength(128);
            e.Property(x => x.Format).HasMaxLength(8);
            e.Property(x => x.SigningMode).HasMaxLength(32);
            e.Property(x => x.TbsHash).HasMaxLength(64);
            e.Property(x => x.ErrorType).HasMaxLength(64);
        });
        modelBuilder.Entity<FlagStateRow>(e =>
        {
            e.ToTable("flag_state");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedNever();
            e.Property(x => x.Version).IsConcurrencyToken();
        });
    }

    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, string? postgres, string contentRoot) =>
        EdgeSigner.ServiceDefaults.DatabaseStore.Configure(options, postgres, contentRoot, Schema, "ingress.db");
}

/// <summary>For <c>dotnet ef migrations add</c>: the PostgreSQL model; it never connects.</summary>
public sealed class IngressDbContextFactory : Microsoft.EntityFrameworkCore.Design.IDesignTimeDbContextFactory<IngressDbContext>
{
    public IngressDbContext CreateDbContext(string[] args) => new(EdgeSigner.ServiceDefaults.DatabaseStore.DesignTime<IngressDbContext>(IngressDbContext.Schema));
}
