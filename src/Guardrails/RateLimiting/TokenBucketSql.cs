using System.Text.RegularExpressions;

namespace EdgeSigner.Guardrails.RateLimiting;

/// <summary>
/// <see cref="TokenBucket"/> in PostgreSQL, for buckets shared by every instance: one PL/pgSQL function,
/// <c>&lt;schema&gt;.take_tokens</c>, that each owner's migration creates over its own table of buckets (the ingress's
/// tenant buckets, the workers' KMS budget per region). It refills by the time passed on the database's clock (so
/// instances' clocks never matter; a clock that went back refills nothing) and takes, in one statement under the
/// row's lock, the same way <see cref="TokenBucket.Take"/> does in memory.
/// </summary>
public static partial class TokenBucketSql
{
    /// <summary>
    /// The function over <paramref name="schema"/>.<paramref name="table"/>, whose rows are
    /// (<paramref name="keyColumn"/> text-like primary key, <c>tokens double precision</c>, <c>updated_at timestamptz</c>).
    /// <c>take_tokens(bucket, rate, burst, wanted, reserve, at_least)</c> returns how many tokens it granted, the tokens
    /// left and, when it granted none, how many milliseconds until it would.
    /// </summary>
    public static string CreateFunction(string schema, string table, string keyColumn)
    {
        foreach (var name in new[] { schema, table, keyColumn })
        {
            if (!Identifier().IsMatch(name))
            {
                throw new ArgumentException($"'{name}' is not a plain SQL identifier.", nameof(schema));
            }
        }

        return $$"""
            CREATE OR REPLACE FUNCTION {{schema}}.take_tokens(p_bucket text, p_rate double precision, p_burst double precision,
                p_wanted integer, p_reserve double precision, p_at_least integer)
            RETURNS TABLE (granted integer, tokens double precision, wait_ms double precision)
            LANGUAGE plpgsql AS $$
            DECLARE
                v_now timestamptz := clock_timestamp();
                v_tokens double precision;
                v_updated timestamptz;
            BEGIN
                INSERT INTO {{schema}}.{{table}} ({{keyColumn}}, tokens, updated_at) VALUES (p_bucket, p_burst, v_now)
                ON CONFLICT ({{keyColumn}}) DO NOTHING;
                SELECT b.tokens, b.updated_at INTO v_tokens, v_updated FROM {{schema}}.{{table}} b WHERE b.{{keyColumn}} = p_bucket FOR UPDATE;
                v_tokens := least(p_burst, v_tokens + greatest(0, extract(epoch FROM v_now - v_updated)) * p_rate);
                granted := greatest(0, least(p_wanted, floor(v_tokens - p_reserve)))::integer;
                IF granted < least(p_wanted, p_at_least) THEN
                    granted := 0;
                END IF;
                v_tokens := v_tokens - granted;
                tokens := v_tokens;
                wait_ms := CASE WHEN granted > 0 THEN 0
                    ELSE greatest(0, p_reserve + least(p_wanted, p_at_least) - v_tokens) / p_rate * 1000 END;
                UPDATE {{schema}}.{{table}} SET tokens = v_tokens, updated_at = greatest(v_updated, v_now) WHERE {{keyColumn}} = p_bucket;
                RETURN NEXT;
            END $$;
            """;
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
