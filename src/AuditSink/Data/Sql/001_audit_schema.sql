-- EdgeSigner audit store, PostgreSQL. Applied by the EF Core migration InitialAuditSchema.
-- Every table is partitioned by time (native declarative partitioning); retention drops whole partitions.
--   sign_events     daily partitions on "timestamp"    request logs, 90 days
--   error_details   daily partitions on "timestamp"    error details, 30 days
--   metrics_minute  monthly partitions on minute       per-minute roll-ups, 1 year
--   audit_trail     monthly partitions on recorded_at  admin actions, configuration changes, breaker transitions,
--                                                      security events, retention runs; hash-chained; 7 years

CREATE SCHEMA IF NOT EXISTS audit;

CREATE TABLE audit.sign_events (
    event_id uuid NOT NULL,
    "timestamp" timestamp with time zone NOT NULL,
    event_type character varying(32) NOT NULL,
    request_id uuid NOT NULL,
    tenant_id character varying(63) NOT NULL,
    region character varying(64) NOT NULL,
    signing_mode character varying(32) NOT NULL,
    kid character varying(128) NOT NULL,
    format character varying(8) NOT NULL,
    payload_size integer NOT NULL,
    t_wasm_ms double precision NOT NULL,
    t_kms_ms double precision NOT NULL,
    t_total_ms double precision NOT NULL,
    cpu_ms_used double precision NOT NULL,
    memory_mb_used double precision NOT NULL,
    tbs_hash character varying(64) NOT NULL,
    kms_key_id character varying(2048) NOT NULL,
    kms_region character varying(64) NOT NULL,
    success boolean NOT NULL,
    error_type character varying(64),
    error_message character varying(1024),
    retry_count integer NOT NULL,
    fallback_triggered boolean NOT NULL,
    batch_id uuid,
    item_id character varying(255),
    recorded_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_sign_events PRIMARY KEY (event_id, "timestamp")
) PARTITION BY RANGE ("timestamp");
CREATE INDEX ix_sign_events_request_id ON audit.sign_events (request_id);
CREATE INDEX ix_sign_events_tenant_id_timestamp ON audit.sign_events (tenant_id, "timestamp");
COMMENT ON TABLE audit.sign_events IS 'Every sign attempt, success and failure with the seed''s EdgeSignerLog fields. Kept 90 days.';

CREATE TABLE audit.error_details (
    event_id uuid NOT NULL,
    "timestamp" timestamp with time zone NOT NULL,
    request_id uuid NOT NULL,
    tenant_id character varying(63) NOT NULL,
    error_type character varying(64) NOT NULL,
    error_message character varying(1024),
    signing_mode character varying(32) NOT NULL,
    kms_key_id character varying(2048) NOT NULL,
    kms_region character varying(64) NOT NULL,
    retry_count integer NOT NULL,
    fallback_triggered boolean NOT NULL,
    success boolean NOT NULL,
    CONSTRAINT pk_error_details PRIMARY KEY (event_id, "timestamp")
) PARTITION BY RANGE ("timestamp");
CREATE INDEX ix_error_details_request_id ON audit.error_details (request_id);
COMMENT ON TABLE audit.error_details IS 'Why a request failed, or fell back to central. Kept 30 days.';

CREATE TABLE audit.metrics_minute (
    minute timestamp with time zone NOT NULL,
    tenant_id character varying(63) NOT NULL,
    region character varying(64) NOT NULL,
    signing_mode character varying(32) NOT NULL,
    requests integer NOT NULL,
    failures integer NOT NULL,
    fallbacks integer NOT NULL,
    p50_ms double precision NOT NULL,
    p95_ms double precision NOT NULL,
    p99_ms double precision NOT NULL,
    avg_kms_ms double precision NOT NULL,
    CONSTRAINT pk_metrics_minute PRIMARY KEY (minute, tenant_id, region, signing_mode)
) PARTITION BY RANGE (minute);
COMMENT ON TABLE audit.metrics_minute IS 'Per-minute roll-ups by tenant, region and signing mode (latency of t_total_ms). Kept 1 year.';

CREATE TABLE audit.audit_trail (
    event_id uuid NOT NULL,
    recorded_at timestamp with time zone NOT NULL,
    seq bigint NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    category character varying(32) NOT NULL,
    actor character varying(128) NOT NULL,
    source_address character varying(64) NOT NULL,
    action character varying(256) NOT NULL,
    target character varying(256),
    outcome character varying(16) NOT NULL,
    status_code integer NOT NULL,
    before text,
    after text,
    prev_hash bytea NOT NULL,
    row_hash bytea NOT NULL,
    CONSTRAINT pk_audit_trail PRIMARY KEY (event_id, recorded_at)
) PARTITION BY RANGE (recorded_at);
CREATE INDEX ix_audit_trail_seq ON audit.audit_trail (seq);
CREATE INDEX ix_audit_trail_occurred_at ON audit.audit_trail (occurred_at);
CREATE INDEX ix_audit_trail_category_occurred_at ON audit.audit_trail (category, occurred_at);
COMMENT ON TABLE audit.audit_trail IS 'Admin actions, configuration changes, breaker transitions, security events, retention runs. Hash-chained in seq order. Kept 7 years.';

CREATE TABLE audit.chain_anchors (
    seq bigint NOT NULL,
    row_hash bytea NOT NULL,
    dropped_partition character varying(128) NOT NULL,
    dropped_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_chain_anchors PRIMARY KEY (seq)
);
COMMENT ON TABLE audit.chain_anchors IS 'The last row of each audit_trail partition that retention dropped: where the remaining chain starts.';

-- Partitions -------------------------------------------------------------------------------------------------

-- The partition period of each table.
CREATE FUNCTION audit.partition_period(p_table text) RETURNS interval
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_table
        WHEN 'sign_events' THEN interval '1 day'
        WHEN 'error_details' THEN interval '1 day'
        WHEN 'metrics_minute' THEN interval '1 month'
        WHEN 'audit_trail' THEN interval '1 month'
    END
$$;

-- Creates the partition of p_table that holds p_at if it does not exist yet; returns its name when it created it.
CREATE FUNCTION audit.ensure_partition(p_table text, p_at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    period interval := audit.partition_period(p_table);
    range_start timestamp;
    name text;
BEGIN
    IF period IS NULL THEN
        RAISE EXCEPTION 'audit.% is not a partitioned audit table', p_table;
    END IF;
    IF period = interval '1 day' THEN
        range_start := date_trunc('day', p_at AT TIME ZONE 'UTC');
        name := p_table || '_p' || to_char(range_start, 'YYYYMMDD');
    ELSE
        range_start := date_trunc('month', p_at AT TIME ZONE 'UTC');
        name := p_table || '_p' || to_char(range_start, 'YYYYMM');
    END IF;
    IF to_regclass('audit.' || name) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE IF NOT EXISTS audit.%I PARTITION OF audit.%I FOR VALUES FROM (%L) TO (%L)',
        name, p_table, range_start AT TIME ZONE 'UTC', (range_start + period) AT TIME ZONE 'UTC');
    RETURN name;
END
$$;

-- Creates every missing partition of every audit table from p_from to p_to (both included); returns those created.
CREATE FUNCTION audit.ensure_partitions(p_from timestamptz, p_to timestamptz) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    t text;
    at timestamptz;
    created text;
BEGIN
    FOREACH t IN ARRAY ARRAY['sign_events', 'error_details', 'metrics_minute', 'audit_trail'] LOOP
        at := p_from;
        LOOP
            created := audit.ensure_partition(t, at);
            IF created IS NOT NULL THEN
                RETURN NEXT created;
            END IF;
            EXIT WHEN at >= p_to;
            at := least(at + audit.partition_period(t), p_to);
        END LOOP;
    END LOOP;
END
$$;

-- The partitions of p_table with the time range [range_start, range_end) each holds.
CREATE FUNCTION audit.partitions(p_table text)
RETURNS TABLE (partition_name text, range_start timestamptz, range_end timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT c.relname::text, s.range_start, s.range_start + audit.partition_period(p_table)
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    JOIN pg_namespace n ON n.oid = p.relnamespace AND n.nspname = 'audit'
    CROSS JOIN LATERAL (SELECT rpad(substring(c.relname from '_p([0-9]+)$'), 8, '01') AS digits) d
    CROSS JOIN LATERAL (SELECT to_date(d.digits, 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC' AS range_start) s
    WHERE p.relname = p_table
    ORDER BY 2
$$;

-- Tamper evidence -------------------------------------------------------------------------------------------

-- One field of the canonical encoding: its UTF-8 length, a colon, the text, a semicolon; NULL is "-1:;".
CREATE FUNCTION audit.canonical_field(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(octet_length(v)::text, '-1') || ':' || coalesce(v, '') || ';'
$$;

-- The hash of an audit-trail row: SHA-256 over the previous row's hash and the row's canonical encoding.
-- src/AuditSink/Auditing/AuditTrailChain.cs computes the same; the tests check that both agree.
CREATE FUNCTION audit.trail_row_hash(
    p_prev_hash bytea, p_seq bigint, p_event_id uuid, p_occurred_at timestamptz, p_category text, p_actor text,
    p_source_address text, p_action text, p_target text, p_outcome text, p_status_code integer, p_before text, p_after text)
RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(p_prev_hash || convert_to(
        audit.canonical_field(p_seq::text) ||
        audit.canonical_field(p_event_id::text) ||
        audit.canonical_field(to_char(p_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) ||
        audit.canonical_field(p_category) ||
        audit.canonical_field(p_actor) ||
        audit.canonical_field(p_source_address) ||
        audit.canonical_field(p_action) ||
        audit.canonical_field(p_target) ||
        audit.canonical_field(p_outcome) ||
        audit.canonical_field(p_status_code::text) ||
        audit.canonical_field(p_before) ||
        audit.canonical_field(p_after), 'UTF8'))
$$;

-- Walks the chain over the rows recorded in [p_from, p_to) and reports the first row that does not match:
-- a changed row (its hash), a deleted row (a gap in seq) or an inserted row (a seq out of place or a wrong link).
-- verified is true when every row matched. The chain starts from the row before the period (or the retention
-- anchor, or 32 zero bytes for the very first row).
CREATE FUNCTION audit.verify_trail(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (verified boolean, rows_checked bigint, first_bad_seq bigint, first_bad_event_id uuid, problem text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r record;
    expected_prev bytea;
    expected_seq bigint;
    checked bigint := 0;
BEGIN
    FOR r IN SELECT * FROM audit.audit_trail t WHERE t.recorded_at >= p_from AND t.recorded_at < p_to ORDER BY t.seq, t.recorded_at LOOP
        IF expected_seq IS NULL THEN
            expected_seq := r.seq;
            SELECT t.row_hash INTO expected_prev FROM audit.audit_trail t WHERE t.seq = r.seq - 1 ORDER BY t.recorded_at DESC LIMIT 1;
            IF expected_prev IS NULL THEN
                SELECT a.row_hash INTO expected_prev FROM audit.chain_anchors a WHERE a.seq = r.seq - 1;
            END IF;
            IF expected_prev IS NULL AND r.seq = 1 THEN
                expected_prev := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
            END IF;
            IF expected_prev IS NULL THEN
                RETURN QUERY SELECT false, checked, r.seq, r.event_id, 'the row before this one is missing and no retention anchor covers it';
                RETURN;
            END IF;
        END IF;
        checked := checked + 1;
        IF r.seq <> expected_seq THEN
            RETURN QUERY SELECT false, checked, r.seq, r.event_id,
                CASE WHEN r.seq > expected_seq THEN format('rows %s to %s are missing', expected_seq, r.seq - 1)
                     ELSE format('seq %s appears more than once', r.seq) END;
            RETURN;
        END IF;
        IF r.prev_hash <> expected_prev THEN
            RETURN QUERY SELECT false, checked, r.seq, r.event_id, 'prev_hash does not match the row before';
            RETURN;
        END IF;
        IF r.row_hash <> audit.trail_row_hash(r.prev_hash, r.seq, r.event_id, r.occurred_at, r.category, r.actor,
                r.source_address, r.action, r.target, r.outcome, r.status_code, r.before, r.after) THEN
            RETURN QUERY SELECT false, checked, r.seq, r.event_id, 'row_hash does not match the row''s content';
            RETURN;
        END IF;
        expected_prev := r.row_hash;
        expected_seq := r.seq + 1;
    END LOOP;
    RETURN QUERY SELECT true, checked, NULL::bigint, NULL::uuid, NULL::text;
END
$$;

-- Metrics roll-up -------------------------------------------------------------------------------------------

-- Recomputes the per-minute roll-ups of the minutes in [p_from, p_to) from the outcome rows of sign_events.
CREATE FUNCTION audit.rollup_metrics(p_from timestamptz, p_to timestamptz) RETURNS integer
LANGUAGE sql AS $$
    WITH rolled AS (
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
    SELECT count(*)::integer FROM rolled
$$;

-- Compliance ------------------------------------------------------------------------------------------------

-- The seed's ComplianceReport for a month ('YYYY-MM'). COMPLIANT when the audit trail of the month verifies,
-- every attempt (older than five minutes) has an outcome, and the error rate (failed requests / requests) is at most 1 %.
CREATE FUNCTION audit.compliance_report(p_period text)
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
       AND a."timestamp" < now() - interval '5 minutes' -- still in flight otherwise
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
