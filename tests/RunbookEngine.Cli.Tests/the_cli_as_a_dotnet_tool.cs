using RunbookEngine.TestSupport;
using System.Diagnostics;
using System.Xml.Linq;

namespace RunbookEngine.Cli.Tests;

/// <summary>
/// The CLI packed with <c>dotnet pack</c> and installed with <c>dotnet tool install --add-source</c>, as the README
/// says, then run as the installed <c>runbook</c> command.
/// </summary>
public sealed class the_cli_as_a_dotnet_tool : IDisposable
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private readonly Workspace _workspace = new();

    [Fact]
    public async Task installs_from_its_package_and_validates_the_example_runbooks()
    {
        var project = Path.Combine(Repository.Root, "src", "RunbookEngine.Cli", "RunbookEngine.Cli.csproj");
        var packages = Path.Combine(_workspace.Root, "packages");
        var tools = Path.Combine(_workspace.Root, "tools");
        var version = XDocument.Load(project).Descendants("VersionPrefix").Single().Value;

        // --no-build packs what building this test project already built, in the same configuration.
        var pack = await RunAsync("dotnet", _workspace.Root, "pack", project, "--no-build", "-c", Configuration, "-o", packages);
        Assert.True(pack.ExitCode == 0, $"dotnet pack failed: {pack}");
        Assert.True(File.Exists(Path.Combine(packages, $"RunbookEngine.Cli.{version}.nupkg")), $"no RunbookEngine.Cli.{version}.nupkg in {pack}");

        var install = await RunAsync("dotnet", _workspace.Root, "tool", "install", "--tool-path", tools, "--add-source", packages, "--ignore-failed-sources", "RunbookEngine.Cli", "--version", version);
        Assert.True(install.ExitCode == 0, $"dotnet tool install failed: {install}");

        var runbook = Path.Combine(tools, "runbook");
        var shown = await RunAsync(runbook, _workspace.Root, "--version");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.StartsWith(version, shown.StdOut.Trim(), StringComparison.Ordinal);

        var help = await RunAsync(runbook, _workspace.Root, "--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("validate <DIR>", help.StdOut, StringComparison.Ordinal);

        var validate = await RunAsync(runbook, _workspace.Root, "validate", "runbooks");
        Assert.True(validate.ExitCode == 0, validate.ToString());
        Assert.Contains("4 runbooks valid", validate.StdOut, StringComparison.Ordinal);
    }

    public void Dispose() => _workspace.Dispose();

    private async Task<CliResult> RunAsync(string program, string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NO_COLOR"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["RUNBOOKENGINE_CACHE"] = _workspace.Cache;
        // A package folder of its own: the machine's would keep a package of the same version from an earlier run and
        // install that instead of the one just packed.
        start.Environment["NUGET_PACKAGES"] = Path.Combine(_workspace.Root, "nuget");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish in 5 minutes:\n{await stdout}\n{await stderr}");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
