namespace RunbookEngine.TestSupport;

/// <summary>The repository the tests run from: its runbooks, docs and build files are what several tests check.</summary>
public static class Repository
{
    /// <summary>The folder holding <c>RunbookEngine.sln</c>, found upwards from the test binaries.</summary>
    public static string Root { get; } = Find();

    /// <summary>A path inside the repository.</summary>
    /// <param name="parts">The path's parts below the root.</param>
    /// <returns>The full path.</returns>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "RunbookEngine.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException($"no RunbookEngine.sln above {AppContext.BaseDirectory}: run the tests from a checkout");
    }
}
