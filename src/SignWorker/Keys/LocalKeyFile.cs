using System.Security.Cryptography;

namespace EdgeSigner.SignWorker.Keys;

/// <summary>
/// Reads and creates P-256 key files. A new file is written with mode 0600 and never overwritten; an existing file
/// readable by group or others is refused, as OpenSSH does with private keys.
/// </summary>
public static class LocalKeyFile
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>
    /// What is wrong with <paramref name="path"/> as a key file, or null when it is a usable P-256 key or does not exist
    /// yet (then <see cref="LoadOrCreate"/> creates it). Options validation calls this, so a bad file stops the
    /// service before anything starts.
    /// </summary>
    public static string? Problem(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var key = LoadOrCreate(path);
            return null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            return ex.Message;
        }
    }

    public static ECDsa LoadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            TryCreate(path);
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & GroupOrOthers) != 0)
        {
            throw new InvalidOperationException(
                $"Key file '{path}' is accessible by group or others; restrict it with 'chmod 600 {path}'.");
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
        }
        catch (ArgumentException ex)
        {
            key.Dispose();
            throw new InvalidOperationException($"Key file '{path}' does not hold a PEM private key.", ex);
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new InvalidOperationException($"Key file '{path}' does not hold a P-256 key.");
        }

        return key;
    }

    private static void TryCreate(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        try
        {
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream);
            writer.Write(key.ExportPkcs8PrivateKeyPem());
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use theirs.
        }
    }
}
