using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeSigner.AuditSink.Tests;

/// <summary>A running audit sink on its own PostgreSQL database and RabbitMQ virtual host, with seeding and SQL helpers.</summary>
public sealed class AuditDb : IAsyncDisposable
{
    private AuditDb(Pipeline pipeline) => Pipeline = pipeline;

    public Pipeline Pipeline { get; }
    public string ConnectionString => Pipeline.Postgres;
    public IServiceProvider Services => Pipeline.AuditSink!.Services;

    /// <param name="clock">The sink's clock, for a test that runs at a chosen instant; the system's when null.</param>
    public static async Task<AuditDb> StartAsync(
        Action<Dictionary<string, string?>>? configure = null, TimeProvider? clock = null, [System.Runtime.CompilerServices.CallerFilePath] string createdBy = "")
    {
        var pipeline = await Pipeline.CreateAsync(createdBy);
        pipeline.Clock = clock;
        configure?.Invoke(pipeline.Settings);
        await pipeline.StartAuditSinkAsync();
        return new AuditDb(pipeline);
    }

    public async Task<T> InScopeAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider);
    }

    public Task<int> AppendTrailAsync(IReadOnlyList<TrailEntry> entries, DateTimeOffset? recordedAt = null) =>
        InScopeAsync(sp => sp.GetRequiredService<AuditTrailWriter>().AppendAsync(entries, CancellationToken.None, recordedAt));

    public Task<int> WriteSignEventsAsync(IReadOnlyList<(Guid, string, EdgeSignerLog)> events) =>
        InScopeAsync(async sp => (await sp.GetRequiredService<SignEventWriter>().WriteAsync(events, CancellationToken.None)).Written);

    public static TrailEntry Entry(string action, string? target = null, string outcome = "allowed", string category = TrailEntry.AdminAction,
        string actor = "admin", string source = "10.0.0.7", string? before = null, string? after = null, DateTimeOffset? at = null) =>
        new(Guid.NewGuid(), at ?? DateTimeOffset.UtcNow, category, actor, source, action, target, outcome, outcome == "denied" ? 401 : 200, before, after);

    public static EdgeSignerLog Log(string tenant, DateTimeOffset at, Guid? requestId = null, string region = "eu-west-1", string mode = "edge-tbs+remote-es256",
        bool success = true, bool fallback = false, string? errorType = null, string? errorMessage = null, double totalMs = 25) => new()
    {
        RequestId = requestId ?? Guid.NewGuid(),
        TenantId = tenant,
        Timestamp = at,
        Region = region,
        TWasmMs = 0.2,
        TKmsMs = totalMs - 5,
        TTotalMs = totalMs,
        TbsHash = new string('b', 64),
        KmsKeyId = "edge-key",
        KmsRegion = region,
        Success = success,
        ErrorType = errorType,
        ErrorMessage = errorMessage,
        FallbackTriggered = fallback,
        SigningMode = mode,
        Kid = "es256-test",
        Format = "raw",
        PayloadSize = 10,
    };

    public Task<List<object?[]>> QueryAsync(string sql, params (string Name, object Value)[] parameters) =>
        Sql.QueryAsync(ConnectionString, sql, parameters);

    public Task ExecuteAsync(string sql) => Sql.ExecuteAsync(ConnectionString, sql);

    public async ValueTask DisposeAsync() => await Pipeline.DisposeAsync();
}
