namespace RunbookEngine.Scripting.Tests;

/// <summary>Paths to the .csx fixtures copied beside the tests, and scratch folders for tests that write runbooks.</summary>
internal static class Fixture
{
    public static string Folder(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static string ExampleRunbooks => Path.Combine(AppContext.BaseDirectory, "ExampleRunbooks");

    /// <summary>A fresh folder holding one runbook with the given body under a valid front matter.</summary>
    public static (string Root, string Path) Runbook(string body, string frontMatter = "description: a test runbook", string name = "test")
    {
        var root = Directory.CreateTempSubdirectory("runbook-test-").FullName;
        var path = System.IO.Path.Combine(root, name + ".csx");
        var header = string.Join('\n', frontMatter.Split('\n').Select(line => "// " + line));
        File.WriteAllText(path, $"// ---\n{header}\n// ---\n{body}\n");
        return (root, path);
    }

    public static string TempCache() => Directory.CreateTempSubdirectory("runbook-cache-").FullName;
}
