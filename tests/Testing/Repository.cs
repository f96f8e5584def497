namespace EdgeSigner.Testing;

/// <summary>Files of the repository the tests run from (deploy/, docs/).</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "EdgeSigner.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("EdgeSigner.sln not found above the test output.");
    }
}
