-- EdgeSigner signing results and batches, PostgreSQL. Applied by the EF Core migration InitialSignerSchema.
-- Both tables are partitioned by day on created_at; the workers' retention job drops whole partitions past
-- EdgeSigner:Retention:ResultDays (7 days by default), the mechanism the audit store uses.

CREATE SCHEMA IF NOT EXISTS signer;

CREATE TABLE signer.sign_results (
    request_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    tenant_id character varying(63) NOT NULL,
    kid character varying(128) NOT NULL,
    format character varying(8) NOT NULL,
    signing_mode character varying(32),
    region character varying(64),
    tbs_hash character varying(64) NOT NULL,
    signature bytea,
    error_type character varying(64),
    error_message character varying(1024),
    batch_id uuid,
    item_id character varying(255),
    item_index integer,
    claimed_by character varying(128) NOT NULL,
    claimed_until timestamp with time zone NOT NULL,
    completed_at timestamp with time zone,
    CONSTRAINT pk_sign_results PRIMARY KEY (request_id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX ix_sign_results_request_id ON signer.sign_results (request_id);
CREATE INDEX ix_sign_results_batch_id_item_index ON signer.sign_results (batch_id, item_index);
COMMENT ON TABLE signer.sign_results IS 'One result per request id (claimed, then completed); batch items by batch_id and item_index. Kept 7 days.';

CREATE TABLE signer.batches (
    batch_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    tenant_id character varying(63) NOT NULL,
    item_count integer NOT NULL,
    ended integer NOT NULL DEFAULT 0,
    state character varying(16) NOT NULL,
    completed_at timestamp with time zone,
    CONSTRAINT pk_batches PRIMARY KEY (batch_id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX ix_batches_batch_id ON signer.batches (batch_id);

-- Creates the day's partition of p_table that holds p_at if missing; returns its name when it created it.
CREATE FUNCTION signer.ensure_partition(p_table text, p_at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    range_start timestamp := date_trunc('day', p_at AT TIME ZONE 'UTC');
    name text := p_table || '_p' || to_char(range_start, 'YYYYMMDD');
BEGIN
    IF to_regclass('signer.' || name) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE IF NOT EXISTS signer.%I PARTITION OF signer.%I FOR VALUES FROM (%L) TO (%L)',
        name, p_table, range_start AT TIME ZONE 'UTC', (range_start + interval '1 day') AT TIME ZONE 'UTC');
    RETURN name;
END
$$;

-- The partitions of p_table with the day each holds.
CREATE FUNCTION signer.partitions(p_table text)
RETURNS TABLE (partition_name text, range_start timestamptz, range_end timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT c.relname::text, s.range_start, s.range_start + interval '1 day'
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    JOIN pg_namespace n ON n.oid = p.relnamespace AND n.nspname = 'signer'
    CROSS JOIN LATERAL (SELECT to_date(substring(c.relname from '_p([0-9]{8})$'), 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC' AS range_start) s
    WHERE p.relname = p_table
    ORDER BY 2
$$;
