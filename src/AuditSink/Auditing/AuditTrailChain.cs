using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EdgeSigner.AuditSink.Data;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>
/// The hash chain of the audit trail: each row's hash is SHA-256 over the previous row's hash and the row's
/// canonical encoding (every field as <c>&lt;UTF-8 length&gt;:&lt;text&gt;;</c>, NULL as <c>-1:;</c>, times in UTC
/// with microseconds). <c>audit.trail_row_hash</c> in Data/Sql computes the same in SQL.
/// </summary>
public static class AuditTrailChain
{
    /// <summary>The previous hash of the very first row.</summary>
    public static byte[] Genesis { get; } = new byte[32];

    public static byte[] Hash(byte[] prevHash, AuditTrailRecord row)
    {
        ArgumentNullException.ThrowIfNull(prevHash);
        ArgumentNullException.ThrowIfNull(row);
        var canonical = new StringBuilder()
            .Append(Field(row.Seq.ToString(CultureInfo.InvariantCulture)))
            .Append(Field(row.EventId.ToString("D")))
            .Append(Field(row.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture)))
            .Append(Field(row.Category))
            .Append(Field(row.Actor))
            .Append(Field(row.SourceAddress))
            .Append(Field(row.Action))
            .Append(Field(row.Target))
            .Append(Field(row.Outcome))
            .Append(Field(row.StatusCode.ToString(CultureInfo.InvariantCulture)))
            .Append(Field(row.Before))
            .Append(Field(row.After))
            .ToString();
        return SHA256.HashData([.. prevHash, .. Encoding.UTF8.GetBytes(canonical)]);
    }

    /// <summary>PostgreSQL keeps microseconds: times are truncated to them before they are hashed and stored.</summary>
    public static DateTimeOffset ToMicroseconds(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % 10), TimeSpan.Zero);

    private static string Field(string? value) =>
        value is null ? "-1:;" : $"{Encoding.UTF8.GetByteCount(value)}:{value};";
}
