namespace EdgeSigner.Guardrails.RateLimiting;

/// <summary>
/// A token bucket as an immutable value with pure operations: <see cref="Tokens"/> refill at <c>rate</c> per second up
/// to <c>burst</c>; taking a token needs one whole token. Time only moves forward: a clock that jumps back refills
/// nothing (and does not move the bucket's time back), a clock that jumps forward refills at most to the burst.
/// </summary>
public readonly record struct TokenBucket(double Tokens, DateTimeOffset UpdatedAt)
{
    public static TokenBucket Full(double burst, DateTimeOffset now) => new(burst, now);

    /// <summary>The bucket refilled up to <paramref name="now"/>.</summary>
    public TokenBucket Refill(DateTimeOffset now, double rate, double burst)
    {
        if (now <= UpdatedAt)
        {
            return this with { Tokens = Math.Min(Tokens, burst) };
        }

        var refilled = Math.Min(burst, Tokens + ((now - UpdatedAt).TotalSeconds * rate));
        return new TokenBucket(refilled, now);
    }

    /// <summary>
    /// Takes up to <paramref name="wanted"/> whole tokens, leaving <paramref name="reserve"/> tokens in the bucket
    /// (for callers that take before this one: the KMS budget keeps a reserve for synchronous requests), and none
    /// unless at least <paramref name="atLeast"/> are there; returns how many it got and the bucket after.
    /// <see cref="TokenBucketSql"/> is the same arithmetic in PostgreSQL.
    /// </summary>
    public (int Granted, TokenBucket Next) Take(DateTimeOffset now, double rate, double burst, int wanted = 1, double reserve = 0, int atLeast = 1)
    {
        var refilled = Refill(now, rate, burst);
        var granted = Math.Max(0, (int)Math.Min(wanted, Math.Floor(refilled.Tokens - reserve)));
        if (granted < Math.Min(wanted, atLeast))
        {
            granted = 0;
        }

        return (granted, refilled with { Tokens = refilled.Tokens - granted });
    }

    /// <summary>How long until <paramref name="count"/> whole tokens are there above <paramref name="reserve"/>.</summary>
    public TimeSpan TimeUntilToken(double rate, double reserve = 0, int count = 1) =>
        Tokens >= reserve + count ? TimeSpan.Zero : TimeSpan.FromSeconds((reserve + count - Tokens) / rate);

    /// <summary>How long until the bucket is full again.</summary>
    public TimeSpan TimeUntilFull(double rate, double burst) =>
        Tokens >= burst ? TimeSpan.Zero : TimeSpan.FromSeconds((burst - Tokens) / rate);
}
