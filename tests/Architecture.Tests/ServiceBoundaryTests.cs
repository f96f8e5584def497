using System.Reflection;
using System.Text.RegularExpressions;
using NetArchTest.Rules;

namespace EdgeSigner.Architecture.Tests;

/// <summary>
/// The boundaries of docs/architecture.md, checked: no service uses another's types (its data, stores, consumers),
/// except that the ingress's hosting, in embedded mode, calls the other services' public hosting extensions; no
/// service names another's tables in its SQL; the contracts, the hosting plumbing and the shared guardrails depend on
/// no service.
/// </summary>
public sealed partial class ServiceBoundaryTests
{
    private static readonly Assembly Ingress = typeof(EdgeSigner.Ingress.Hosting.IngressHosting).Assembly;
    private static readonly Assembly Worker = typeof(EdgeSigner.SignWorker.Hosting.SignWorkerHosting).Assembly;
    private static readonly Assembly Sink = typeof(EdgeSigner.AuditSink.Hosting.AuditSinkHosting).Assembly;
    private static readonly Assembly Contracts = typeof(EdgeSigner.Contracts.Signing.SignRequested).Assembly;
    private static readonly Assembly Defaults = typeof(EdgeSigner.ServiceDefaults.ServiceProgram).Assembly;
    private static readonly Assembly Guardrails = typeof(EdgeSigner.Guardrails.RateLimiting.TokenBucket).Assembly;
    private static readonly Assembly Client = typeof(EdgeSigner.Client.EdgeSignerClient).Assembly;

    [Fact]
    public void The_ingress_uses_nothing_of_the_worker_or_the_sink_but_their_hosting_extensions()
    {
        var foreign = InternalNamespaces(Worker, "EdgeSigner.SignWorker.Hosting").Concat(InternalNamespaces(Sink, "EdgeSigner.AuditSink.Hosting")).ToArray();

        AssertHolds(Types.InAssembly(Ingress).ShouldNot().HaveDependencyOnAny(foreign).GetResult(), "the ingress uses worker or sink internals");
        AssertHolds(Types.InAssembly(Ingress).That().DoNotResideInNamespace("EdgeSigner.Ingress.Hosting")
            .ShouldNot().HaveDependencyOnAny("EdgeSigner.SignWorker", "EdgeSigner.AuditSink").GetResult(),
            "only the ingress's hosting may host the other services");
    }

    [Fact]
    public void The_worker_and_the_sink_use_nothing_of_each_other_or_of_the_ingress()
    {
        AssertHolds(Types.InAssembly(Worker).ShouldNot().HaveDependencyOnAny("EdgeSigner.Ingress", "EdgeSigner.AuditSink").GetResult(),
            "the worker uses another service's types");
        AssertHolds(Types.InAssembly(Sink).ShouldNot().HaveDependencyOnAny("EdgeSigner.Ingress", "EdgeSigner.SignWorker").GetResult(),
            "the sink uses another service's types");
    }

    [Fact]
    public void Contracts_service_defaults_and_guardrails_depend_on_no_service_and_contracts_on_no_infrastructure()
    {
        AssertHolds(Types.InAssembly(Contracts).ShouldNot()
            .HaveDependencyOnAny("EdgeSigner.Ingress", "EdgeSigner.SignWorker", "EdgeSigner.AuditSink", "EdgeSigner.ServiceDefaults",
                "MassTransit", "Microsoft.EntityFrameworkCore", "Npgsql").GetResult(), "the contracts depend on a service or on infrastructure");
        AssertHolds(Types.InAssembly(Defaults).ShouldNot().HaveDependencyOnAny("EdgeSigner.Ingress", "EdgeSigner.SignWorker", "EdgeSigner.AuditSink")
            .GetResult(), "ServiceDefaults depends on a service");
        AssertHolds(Types.InAssembly(Guardrails).ShouldNot()
            .HaveDependencyOnAny("EdgeSigner.Ingress", "EdgeSigner.SignWorker", "EdgeSigner.AuditSink", "EdgeSigner.ServiceDefaults").GetResult(),
            "the guardrails depend on a service or on the hosting plumbing");
    }

    [Fact]
    public void The_client_a_tenant_references_holds_nothing_of_edgesigners_services()
    {
        AssertHolds(Types.InAssembly(Client).ShouldNot()
            .HaveDependencyOnAny("EdgeSigner.Ingress", "EdgeSigner.SignWorker", "EdgeSigner.AuditSink", "EdgeSigner.ServiceDefaults",
                "EdgeSigner.Guardrails", "Microsoft.EntityFrameworkCore", "Npgsql").GetResult(), "the client depends on a service or its plumbing");
    }

    [Theory]
    [InlineData("Ingress", "signer", "audit")]
    [InlineData("SignWorker", "ingress", "audit")]
    [InlineData("AuditSink", "ingress", "signer")]
    public void A_service_names_no_other_services_schema_in_its_sql(string service, string first, string second)
    {
        var root = Path.Combine(FindRoot(), "src", service);
        var offending = Directory.EnumerateFiles(root, "*.*", SearchOption.AllDirectories)
            .Where(f => (f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".sql", StringComparison.Ordinal))
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: f, Line: i + 1, Text: line)))
            .Where(l => SchemaReference(first).IsMatch(l.Text) || SchemaReference(second).IsMatch(l.Text))
            .Select(l => $"{Path.GetRelativePath(root, l.File)}:{l.Line}: {l.Text.Trim()}")
            .ToList();

        Assert.True(offending.Count == 0, $"src/{service} names another service's tables:\n" + string.Join('\n', offending));
    }

    /// <summary><c>schema.table</c> in SQL (a word boundary before, a table-like name after), not a C# namespace.</summary>
    private static Regex SchemaReference(string schema) => new($@"(?<![\w.]){schema}\.[a-z_]+\b(?!\()", RegexOptions.CultureInvariant);

    private static string[] InternalNamespaces(Assembly assembly, string allowed) =>
        assembly.GetTypes().Select(t => t.Namespace).OfType<string>().Where(ns => ns != allowed).Distinct(StringComparer.Ordinal).ToArray();

    private static void AssertHolds(TestResult result, string what) =>
        Assert.True(result.IsSuccessful, $"{what}: {string.Join(", ", result.FailingTypeNames ?? [])}");

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "EdgeSigner.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("EdgeSigner.sln not found above the test output.");
    }
}
