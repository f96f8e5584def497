using EdgeSigner.Testing;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>One distributed pipeline (sink, worker, ingress) with tenant <c>acme</c>, shared by a test class.</summary>
public sealed class SigningPipelineFixture : IAsyncLifetime
{
    public Pipeline Pipeline { get; private set; } = null!;
    public HttpClient Acme { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Pipeline = await Pipeline.CreateAsync();
        await Pipeline.StartAuditSinkAsync();
        await Pipeline.StartWorkerAsync();
        await Pipeline.StartIngressAsync();
        Acme = await Pipeline.CreateTenantClientAsync("acme");
    }

    public async Task DisposeAsync()
    {
        Acme.Dispose();
        await Pipeline.DisposeAsync();
    }
}
