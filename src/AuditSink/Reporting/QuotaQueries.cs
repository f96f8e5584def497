namespace EdgeSigner.AuditSink.Reporting;

/// <summary>
/// The quota monitor's two queries in the store's dialect, chosen at registration: outcome rows (KMS regions, and
/// local key files as region <c>local</c>) counted per region and minute between {0} and {1}, and per region since {0}.
/// </summary>
public sealed record QuotaQueries(string PerMinute, string Since)
{
    public static QuotaQueries Postgres { get; } = new(
        """
        SELECT kms_region AS region, date_trunc('minute', "timestamp") AS minute, count(*) AS requests,
               count(*) FILTER (WHERE event_type = 'edge_sign_failure') AS failures
        FROM audit.sign_events
        WHERE "timestamp" >= {0} AND "timestamp" < {1} AND event_type IN ('edge_sign_success', 'edge_sign_failure')
          AND kms_region <> ''
        GROUP BY 1, 2
        """,
        "SELECT kms_region AS region, count(*) AS value FROM audit.sign_events WHERE \"timestamp\" >= {0} AND event_type IN ('edge_sign_success', 'edge_sign_failure') GROUP BY 1");

    /// <summary>Times are ISO text with offset +00:00 in the embedded store: the minute is a prefix of it.</summary>
    public static QuotaQueries Sqlite { get; } = new(
        """
        SELECT kms_region AS region, substr("timestamp", 1, 16) || ':00+00:00' AS minute, count(*) AS requests,
               sum(CASE WHEN event_type = 'edge_sign_failure' THEN 1 ELSE 0 END) AS failures
        FROM sign_events
        WHERE "timestamp" >= {0} AND "timestamp" < {1} AND event_type IN ('edge_sign_success', 'edge_sign_failure')
          AND kms_region <> ''
        GROUP BY 1, 2
        """,
        "SELECT kms_region AS region, count(*) AS value FROM sign_events WHERE \"timestamp\" >= {0} AND event_type IN ('edge_sign_success', 'edge_sign_failure') GROUP BY 1");
}
