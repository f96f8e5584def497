-- Applied by the EF Core migration PartitionsForAnyTime. Two changes that let the audit store be written and
-- queried at any date, and tested at a chosen one:
--
-- 1. The roll-up writes into the month of the events it summarises, which need not be the current month (a
--    backlog drained after a month's end, late events, a first start in a new month). It creates the
--    metrics_minute partition of every month it covers before it writes, as every other writer of a partitioned
--    table already does for the row's own time.
-- 2. The compliance report takes the instant it is computed as of (attempts younger than five minutes before it
--    are still in flight), instead of reading now() inside; the default keeps the one-argument call working.

CREATE OR REPLACE FUNCTION audit.rollup_metrics(p_from timestamptz, p_to timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    month timestamp := date_trunc('month', p_from AT TIME ZONE 'UTC');
    rolled integer;
BEGIN
    WHILE month AT TIME ZONE 'UTC' < p_to LOOP
        PERFORM audit.ensure_partition('metrics_minute', month AT TIME ZONE 'UTC');
        month := month + interval '1 month';
    END LOOP;
    WITH upserted AS (
        INSERT INTO audit.metrics_minute AS m
            (minute, tenant_id, region, signing_mode, requests, failures, fallbacks, p50_ms, p95_ms, p99_ms, avg_kms_ms)
        SELECT date_trunc('minute', e."timestamp"), e.tenant_id, e.region, e.signing_mode,
               count(*),
               count(*) FILTER (WHERE e.event_type = 'edge_sign_failure'),
               count(*) FILTER (WHERE e.fallback_triggered),
               coalesce(percentile_cont(0.50) WITHIN GROUP (ORDER BY e.t_total_ms), 0),
               coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY e.t_total_ms), 0),
               coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY e.t_total_ms), 0),
               coalesce(avg(e.t_kms_ms), 0)
        FROM audit.sign_events e
        WHERE e."timestamp" >= date_trunc('minute', p_from) AND e."timestamp" < date_trunc('minute', p_to)
          AND e.event_type IN ('edge_sign_success', 'edge_sign_failure')
        GROUP BY 1, 2, 3, 4
        ON CONFLICT (minute, tenant_id, region, signing_mode) DO UPDATE SET
            requests = excluded.requests, failures = excluded.failures, fallbacks = excluded.fallbacks,
            p50_ms = excluded.p50_ms, p95_ms = excluded.p95_ms, p99_ms = excluded.p99_ms, avg_kms_ms = excluded.avg_kms_ms
        RETURNING 1)
    SELECT count(*)::integer INTO rolled FROM upserted;
    RETURN rolled;
END
$$;

DROP FUNCTION audit.compliance_report(text);
CREATE FUNCTION audit.compliance_report(p_period text, p_as_of timestamptz DEFAULT now())
RETURNS TABLE (period text, total_requests bigint, successful_signs bigint, failed_signs bigint, fallback_rate double precision,
               security_incidents bigint, error_rate_percent double precision, attempts_without_outcome bigint,
               trail_verified boolean, compliance_status text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p_from timestamptz := (to_date(p_period, 'YYYY-MM')::timestamp) AT TIME ZONE 'UTC';
    p_to timestamptz := ((to_date(p_period, 'YYYY-MM') + interval '1 month')::timestamp) AT TIME ZONE 'UTC';
    v_total bigint; v_ok bigint; v_failed bigint; v_fallbacks bigint; v_incidents bigint; v_open bigint; v_verified boolean;
BEGIN
    IF p_period !~ '^[0-9]{4}-(0[1-9]|1[0-2])$' THEN
        RAISE EXCEPTION 'period must be YYYY-MM, not %', p_period;
    END IF;
    SELECT count(DISTINCT e.request_id),
           count(*) FILTER (WHERE e.event_type = 'edge_sign_success'),
           count(*) FILTER (WHERE e.event_type = 'edge_sign_failure'),
           count(*) FILTER (WHERE e.event_type = 'edge_sign_success' AND e.fallback_triggered)
      INTO v_total, v_ok, v_failed, v_fallbacks
      FROM audit.sign_events e WHERE e."timestamp" >= p_from AND e."timestamp" < p_to;
    SELECT count(*) INTO v_incidents FROM audit.audit_trail t
     WHERE t.occurred_at >= p_from AND t.occurred_at < p_to AND (t.category = 'security_event' OR t.outcome = 'denied');
    SELECT count(*) INTO v_open FROM audit.sign_events a
     WHERE a.event_type = 'edge_sign_attempt' AND a."timestamp" >= p_from AND a."timestamp" < p_to
       AND a."timestamp" < p_as_of - interval '5 minutes' -- still in flight otherwise
       AND NOT EXISTS (SELECT 1 FROM audit.sign_events o WHERE o.request_id = a.request_id
                       AND o.event_type IN ('edge_sign_success', 'edge_sign_failure'));
    SELECT v.verified INTO v_verified FROM audit.verify_trail(p_from, p_to) v;
    RETURN QUERY SELECT p_period, v_total, v_ok, v_failed,
        CASE WHEN v_ok = 0 THEN 0::double precision ELSE v_fallbacks::double precision / v_ok END,
        v_incidents,
        CASE WHEN v_total = 0 THEN 0::double precision ELSE 100.0 * v_failed / v_total END,
        v_open, v_verified,
        CASE WHEN v_verified AND v_open = 0 AND (v_total = 0 OR 100.0 * v_failed / v_total <= 1.0)
             THEN 'COMPLIANT' ELSE 'NON_COMPLIANT' END;
END
$$;
