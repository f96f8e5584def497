using System.Diagnostics.CodeAnalysis;

namespace EdgeSigner.ServiceDefaults;

public static class TextLimits
{
    /// <summary>At most <paramref name="length"/> characters of <paramref name="value"/> (a column's or a log field's limit).</summary>
    [return: NotNullIfNotNull(nameof(value))]
    public static string? Truncate(string? value, int length) =>
        value is null || value.Length <= length ? value : value[..length];
}
