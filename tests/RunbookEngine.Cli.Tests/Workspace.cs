namespace RunbookEngine.Cli.Tests;

/// <summary>A scratch folder per test with a copy of the example runbooks and its own compile cache.</summary>
internal sealed class Workspace : IDisposable
{
    public Workspace()
    {
        Root = Directory.CreateTempSubdirectory("runbook-cli-").FullName;
        Cache = Path.Combine(Root, ".cache");
        Runbooks = Path.Combine(Root, "runbooks");
        Copy(Path.Combine(AppContext.BaseDirectory, "ExampleRunbooks"), Runbooks);
    }

    public string Root { get; }

    public string Cache { get; }

    public string Runbooks { get; }

    public Task<CliResult> RunAsync(params string[] arguments) => Cli.RunAsync(Root, Cache, null, arguments);

    public Task<CliResult> RunWithInputAsync(string input, params string[] arguments) => Cli.RunAsync(Root, Cache, input, arguments);

    public string Write(string relativePath, string text)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A process the test started may still hold a file; the temp folder is cleaned by the OS.
        }
    }

    private static void Copy(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
