using System.Reflection;

namespace EdgeSigner.ServiceDefaults;

/// <summary>
/// The SQL files a service's migrations apply, embedded in its assembly as <c>Data/Sql/*.sql</c> (resource
/// <c>&lt;root namespace&gt;.Data.Sql.&lt;file&gt;</c>).
/// </summary>
public static class EmbeddedSql
{
    public static string Read(Assembly assembly, string fileName)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var name = $"{assembly.GetName().Name}.Data.Sql.{fileName}";
        using var stream = assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"No embedded SQL file {name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
