using System.Diagnostics;

namespace RunbookEngine.IntegrationTests;

/// <summary>A bare repository on disk standing in for GitHub, and a clone of it that the test commits and pushes from.</summary>
internal sealed class GitRemote
{
    private GitRemote(string bare, string clone)
    {
        Bare = bare;
        Clone = clone;
    }

    public string Bare { get; }

    public string Clone { get; }

    public static async Task<GitRemote> CreateAsync(string branch = "main")
    {
        var root = Directory.CreateTempSubdirectory("runbook-git-").FullName;
        var bare = Path.Combine(root, "remote.git");
        var clone = Path.Combine(root, "work");
        await RunAsync(root, "init", "--quiet", "--bare", "--initial-branch", branch, bare);
        await RunAsync(root, "clone", "--quiet", bare, clone);
        await RunAsync(clone, "checkout", "--quiet", "-B", branch);
        return new GitRemote(bare, clone);
    }

    /// <summary>Writes (or, with null text, deletes) files, commits and pushes; answers the new commit.</summary>
    public async Task<string> CommitAsync(string message, IReadOnlyDictionary<string, string?> files, string branch = "main")
    {
        await WriteAsync(files);
        await RunAsync(Clone, "add", "--all");
        await RunAsync(Clone, "-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com", "commit", "--quiet", "-m", message);
        await RunAsync(Clone, "push", "--quiet", "origin", $"HEAD:refs/heads/{branch}");
        return (await RunAsync(Clone, "rev-parse", "HEAD")).Trim();
    }

    /// <summary>
    /// Commits <paramref name="files"/> on top of <paramref name="branch"/> without moving it, and pushes the commit as
    /// GitHub keeps a pull request's head (a fork's too): <c>refs/pull/NUMBER/head</c>. Answers the head commit.
    /// </summary>
    public async Task<string> PullRequestAsync(int number, string message, IReadOnlyDictionary<string, string?> files, string branch = "main")
    {
        await RunAsync(Clone, "checkout", "--quiet", "--detach");
        await WriteAsync(files);
        await RunAsync(Clone, "add", "--all");
        await RunAsync(Clone, "-c", "user.name=Grace Hopper", "-c", "user.email=grace@example.com", "commit", "--quiet", "-m", message);
        var head = (await RunAsync(Clone, "rev-parse", "HEAD")).Trim();
        await RunAsync(Clone, "push", "--quiet", "origin", $"HEAD:refs/pull/{number}/head");
        await RunAsync(Clone, "checkout", "--quiet", "--force", branch);
        return head;
    }

    private async Task WriteAsync(IReadOnlyDictionary<string, string?> files)
    {
        foreach (var (path, text) in files)
        {
            var full = Path.Combine(Clone, path);
            if (text is null)
            {
                File.Delete(full);
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, text);
        }
    }

    private static async Task<string> RunAsync(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', arguments)}: {await error}");
        return await output;
    }
}
