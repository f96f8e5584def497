namespace EdgeSigner.AuditSink.Data;

/// <summary>The SQL files of the audit schema, embedded in this assembly.</summary>
public static class AuditSql
{
    public static string Read(string fileName)
    {
        using var stream = typeof(AuditSql).Assembly.GetManifestResourceStream($"EdgeSigner.AuditSink.Data.Sql.{fileName}")
            ?? throw new InvalidOperationException($"No embedded SQL file {fileName}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
