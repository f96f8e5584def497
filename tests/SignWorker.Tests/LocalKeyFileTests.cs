using System.Security.Cryptography;
using EdgeSigner.SignWorker.Keys;

[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]

namespace EdgeSigner.SignWorker.Tests;

public sealed class LocalKeyFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("edgesigner-keyfile-").FullName;

    [Fact]
    public void A_new_key_file_is_created_owner_only_and_loads_the_same_key_again()
    {
        var path = Path.Combine(_directory, "nested", "k.pem");

        using var first = LocalKeyFile.LoadOrCreate(path);
        using var second = LocalKeyFile.LoadOrCreate(path);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(first.ExportSubjectPublicKeyInfo(), second.ExportSubjectPublicKeyInfo());
        Assert.Equal(256, first.KeySize);
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead)]
    public void A_key_file_readable_by_others_is_refused(UnixFileMode mode)
    {
        var path = Path.Combine(_directory, "open.pem");
        using (LocalKeyFile.LoadOrCreate(path))
        {
        }

        File.SetUnixFileMode(path, mode);

        var error = Assert.Throws<InvalidOperationException>(() => LocalKeyFile.LoadOrCreate(path));
        Assert.Contains("chmod 600", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_of_another_curve_is_refused()
    {
        var path = Path.Combine(_directory, "p384.pem");
        using (var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384))
        {
            File.WriteAllText(path, p384.ExportPkcs8PrivateKeyPem());
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Throws<InvalidOperationException>(() => LocalKeyFile.LoadOrCreate(path));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
