using System.Text.RegularExpressions;

namespace EdgeSigner.ServiceDefaults.Partitions;

/// <summary>
/// The one set of partition functions every partitioned table uses, created by its owner's migration in the owner's
/// schema: tables partitioned by range on a timestamp, by day (partition <c>&lt;table&gt;_pYYYYMMDD</c>) or by month
/// (<c>&lt;table&gt;_pYYYYMM</c>), in UTC. The owner defines <c>&lt;schema&gt;.partition_period(p_table text) RETURNS
/// interval</c> (one day or one month per table, NULL for a table that is not partitioned); these functions read it:
/// <list type="bullet">
/// <item><c>ensure_partition(p_table, p_at)</c> creates the partition that holds <c>p_at</c> if missing and returns its
/// name when it created it;</item>
/// <item><c>ensure_partitions(p_tables, p_from, p_to)</c> does so for each table from <c>p_from</c> to <c>p_to</c> and at
/// least one period ahead, returning those created;</item>
/// <item><c>partitions(p_table)</c> lists the partitions with the range [range_start, range_end) each holds.</item>
/// </list>
/// <see cref="PartitionRetention"/> runs them for the retention jobs.
/// </summary>
public static partial class PartitionSql
{
    public static string CreateFunctions(string schema)
    {
        if (!Identifier().IsMatch(schema))
        {
            throw new ArgumentException($"'{schema}' is not a plain SQL identifier.", nameof(schema));
        }

        return $$"""
            CREATE OR REPLACE FUNCTION {{schema}}.ensure_partition(p_table text, p_at timestamptz) RETURNS text
            LANGUAGE plpgsql AS $$
            DECLARE
                period interval := {{schema}}.partition_period(p_table);
                range_start timestamp;
                name text;
            BEGIN
                IF period IS NULL THEN
                    RAISE EXCEPTION '{{schema}}.% is not a partitioned table', p_table;
                END IF;
                IF period = interval '1 day' THEN
                    range_start := date_trunc('day', p_at AT TIME ZONE 'UTC');
                    name := p_table || '_p' || to_char(range_start, 'YYYYMMDD');
                ELSE
                    range_start := date_trunc('month', p_at AT TIME ZONE 'UTC');
                    name := p_table || '_p' || to_char(range_start, 'YYYYMM');
                END IF;
                IF to_regclass('{{schema}}.' || name) IS NOT NULL THEN
                    RETURN NULL;
                END IF;
                EXECUTE format('CREATE TABLE IF NOT EXISTS {{schema}}.%I PARTITION OF {{schema}}.%I FOR VALUES FROM (%L) TO (%L)',
                    name, p_table, range_start AT TIME ZONE 'UTC', (range_start + period) AT TIME ZONE 'UTC');
                RETURN name;
            END
            $$;

            CREATE OR REPLACE FUNCTION {{schema}}.ensure_partitions(p_tables text[], p_from timestamptz, p_to timestamptz) RETURNS SETOF text
            LANGUAGE plpgsql AS $$
            DECLARE
                t text;
                at timestamptz;
                until timestamptz;
                created text;
            BEGIN
                FOREACH t IN ARRAY p_tables LOOP
                    at := p_from;
                    until := greatest(p_to, p_from + {{schema}}.partition_period(t));
                    LOOP
                        created := {{schema}}.ensure_partition(t, at);
                        IF created IS NOT NULL THEN
                            RETURN NEXT created;
                        END IF;
                        EXIT WHEN at >= until;
                        at := least(at + {{schema}}.partition_period(t), until);
                    END LOOP;
                END LOOP;
            END
            $$;

            CREATE OR REPLACE FUNCTION {{schema}}.partitions(p_table text)
            RETURNS TABLE (partition_name text, range_start timestamptz, range_end timestamptz)
            LANGUAGE sql STABLE AS $$
                SELECT c.relname::text, s.range_start, s.range_start + {{schema}}.partition_period(p_table)
                FROM pg_inherits i
                JOIN pg_class c ON c.oid = i.inhrelid
                JOIN pg_class p ON p.oid = i.inhparent
                JOIN pg_namespace n ON n.oid = p.relnamespace AND n.nspname = '{{schema}}'
                CROSS JOIN LATERAL (SELECT rpad(substring(c.relname from '_p([0-9]+)$'), 8, '01') AS digits) d
                CROSS JOIN LATERAL (SELECT to_date(d.digits, 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC' AS range_start) s
                WHERE p.relname = p_table
                ORDER BY 2
            $$;
            """;
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
