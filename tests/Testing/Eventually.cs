namespace EdgeSigner.Testing;

/// <summary>Polls for a condition that other processes make true, with a bound: a test waits for effects, never sleeps blindly.</summary>
public static class Eventually
{
    public static async Task<T> GetAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? within = null, string? what = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(done);
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what ?? "a condition"}; last value: {Describe(value)}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>A value for the failure message: a collection item by item (its type name says nothing).</summary>
    private static string Describe<T>(T value) => value is System.Collections.IEnumerable items and not string
        ? "[" + string.Join("; ", items.Cast<object?>().Take(50)) + "]"
        : value?.ToString() ?? "null";
}
