using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.Contracts.Audit;
using MassTransit;

namespace EdgeSigner.AuditSink.Reporting;

/// <summary>
/// Answers the questions asked of the audit store (the ingress's <c>/admin/audit/verify</c>, compliance report and
/// quota view): the sink owns the audit tables, so it is the one that reads them for others.
/// </summary>
public sealed class AuditQueriesConsumer(AuditTrailVerifier verifier, ComplianceReporter reporter, QuotaMonitor quota) :
    IConsumer<VerifyAuditTrail>, IConsumer<GetComplianceReport>, IConsumer<GetKmsQuota>
{
    public async Task Consume(ConsumeContext<VerifyAuditTrail> context) =>
        await context.RespondAsync(await verifier.VerifyAsync(context.Message.From, context.Message.To, context.CancellationToken));

    public async Task Consume(ConsumeContext<GetComplianceReport> context) =>
        await context.RespondAsync(await reporter.ReportAsync(context.Message.Period, context.CancellationToken));

    public async Task Consume(ConsumeContext<GetKmsQuota> context) =>
        await context.RespondAsync(new KmsQuotaReported { Regions = await quota.ReportAsync(context.CancellationToken) });
}

/// <summary>One queue for the audit queries; a few at a time, since a report reads a month of events.</summary>
public sealed class AuditQueriesConsumerDefinition : ConsumerDefinition<AuditQueriesConsumer>
{
    public AuditQueriesConsumerDefinition()
    {
        EndpointName = AuditQueries.Queue;
        ConcurrentMessageLimit = 4;
    }
}
