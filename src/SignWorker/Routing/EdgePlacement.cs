namespace EdgeSigner.SignWorker.Routing;

/// <summary>
/// Smart placement: the edge region for a caller. The caller's own region when a replica lives there; else the
/// configured replica in the same geography (the part before the first '-', as in <c>eu</c>-west-1) that shares the
/// longest prefix with it; else the default edge region. A pure function.
/// </summary>
public static class EdgePlacement
{
    public static string Choose(string? clientRegion, IReadOnlyCollection<string> replicaRegions, string defaultRegion)
    {
        ArgumentNullException.ThrowIfNull(replicaRegions);
        if (string.IsNullOrEmpty(clientRegion))
        {
            return defaultRegion;
        }

        if (replicaRegions.Contains(clientRegion, StringComparer.OrdinalIgnoreCase))
        {
            return replicaRegions.First(r => string.Equals(r, clientRegion, StringComparison.OrdinalIgnoreCase));
        }

        var geography = Geography(clientRegion);
        var nearest = replicaRegions
            .Where(r => string.Equals(Geography(r), geography, StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(r => CommonPrefix(r, clientRegion))
            .ThenBy(r => string.Equals(r, defaultRegion, StringComparison.Ordinal) ? 0 : 1)
            .ThenBy(r => r, StringComparer.Ordinal)
            .FirstOrDefault();
        return nearest ?? defaultRegion;
    }

    private static string Geography(string region) => region.Split('-', 2)[0];

    private static int CommonPrefix(string a, string b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && char.ToLowerInvariant(a[n]) == char.ToLowerInvariant(b[n]))
        {
            n++;
        }

        return n;
    }
}
