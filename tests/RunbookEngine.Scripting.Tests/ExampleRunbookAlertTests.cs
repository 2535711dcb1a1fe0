using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Scripting.Parameters;
using RunbookEngine.Scripting.Sources;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Scripting.Tests;

/// <summary>
/// The example runbooks run with alerts whose labels and annotations an attacker chose: anyone who can get an alert to
/// the host controls them.
/// </summary>
public sealed class ExampleRunbookAlertTests : IDisposable
{
    private static readonly RunbookCompiler Compiler = new(null);

    private readonly string _scratch = Directory.CreateTempSubdirectory("runbook-hostile-").FullName;

    [Theory]
    [InlineData("outside")]
    [InlineData("allowed/link-to-outside")]
    public async Task PruneSnapshots_WithASnapshotDirOutsideItsAllowedRoots_FailsAndDeletesNothing(string labelled)
    {
        var allowed = Folder("allowed");
        var outside = Folder("outside", "s1.dump", "s2.dump", "s3.dump");
        Directory.CreateSymbolicLink(Path.Combine(allowed, "link-to-outside"), outside);

        var (result, _) = await RunAsync(
            "prune-snapshots",
            Alert("SnapshotVolumeFilling", labels: new() { ["snapshot_dir"] = Path.Combine(_scratch, labelled) }),
            new() { ["keep"] = "1", ["allowed_roots"] = allowed },
            gate: new ApproveEverything());

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Contains($"is not under any allowed root ({allowed}); refusing to delete there", result.Error, StringComparison.Ordinal);
        Assert.Equal(["s1.dump", "s2.dump", "s3.dump"], Names(outside));
    }

    [Fact]
    public async Task PruneSnapshots_WhenItsFolderIsSwappedForALinkWhileAwaitingApproval_DeletesNothingThroughTheLink()
    {
        var allowed = Folder("allowed");
        var snapshots = Folder("allowed/snapshots", "s1.dump", "s2.dump", "s3.dump");
        var outside = Folder("outside", "s1.dump", "s2.dump", "s3.dump");
        var gate = new ApproveEverything(onApproval: () => SwapForLink(snapshots, outside));

        var (result, log) = await RunAsync(
            "prune-snapshots",
            Alert("SnapshotVolumeFilling", labels: new() { ["snapshot_dir"] = snapshots }),
            new() { ["keep"] = "1", ["allowed_roots"] = allowed },
            gate);

        Assert.True(result.Status == RunStatus.Succeeded, result.Error);
        Assert.True(gate.Approved, "the run never reached the approval, so nothing was swapped");
        Assert.Equal(["s1.dump", "s2.dump", "s3.dump"], Names(outside));
        Assert.Contains(log, line => line.StartsWith($"not deleting {snapshots}/", StringComparison.Ordinal) && line.Contains($"{snapshots} is now a symbolic link", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DiskCleanup_WhenANestedFolderIsSwappedForALinkBetweenListingAndDeleting_LeavesWhereTheLinkLeadsAlone()
    {
        var allowed = Folder("allowed");
        var logs = Folder("allowed/logs", "top.log");
        var nested = Folder("allowed/logs/nested", "app.log");
        var outside = Folder("outside", "app.log");
        var journal = new SwappingJournal("delete old files", () => SwapForLink(nested, outside));

        var (result, log) = await RunAsync(
            "disk-cleanup",
            Alert("NodeFilesystemAlmostFull", annotations: new() { ["cleanup_path"] = logs }),
            new() { ["threshold_percent"] = "0", ["allowed_roots"] = allowed },
            journal: journal);

        Assert.True(result.Status == RunStatus.Succeeded, result.Error);
        Assert.True(journal.Swapped, "the delete step never started, so nothing was swapped");
        Assert.Equal(["app.log"], Names(outside));
        Assert.False(File.Exists(Path.Combine(logs, "top.log")), "a file the swap did not touch is still deleted");
        Assert.Contains(log, line => line.StartsWith($"not deleting {nested}/app.log: {nested} is now a symbolic link", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DiskCleanup_WithACleanupPathThatIsALinkOutOfItsAllowedRoots_FailsAndDeletesNothing()
    {
        var allowed = Folder("allowed");
        var outside = Folder("outside", "app.log");
        Directory.CreateSymbolicLink(Path.Combine(allowed, "logs"), outside);

        var (result, _) = await RunAsync(
            "disk-cleanup",
            Alert("NodeFilesystemAlmostFull", annotations: new() { ["cleanup_path"] = Path.Combine(allowed, "logs") }),
            new() { ["threshold_percent"] = "0", ["allowed_roots"] = allowed });

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Contains("refusing to delete there", result.Error, StringComparison.Ordinal);
        Assert.Equal(["app.log"], Names(outside));
    }

    [Fact]
    public async Task TheCheckBeforeEachDelete_AllowsOnlyARealFileUnderTheRootWithNoLinkAbove()
    {
        var root = Folder("allowed/logs", "plain.log");
        Folder("allowed/logs/real", "deep.log");
        var outside = Folder("outside", "app.log");
        Directory.CreateSymbolicLink(Path.Combine(root, "linked"), outside);
        File.CreateSymbolicLink(Path.Combine(root, "link.log"), Path.Combine(outside, "app.log"));
        var checks = new[] { "plain.log", "real/deep.log", "linked/app.log", "link.log", "../../outside/app.log", "" };

        var answers = await CheckBeforeDeleteAsync(root, [.. checks.Select(file => Path.Combine(root, file))]);

        Assert.Equal(
            [
                "safe",
                "safe",
                $"{root}/linked is now a symbolic link (to {outside})",
                "it is a symbolic link",
                $"it is not under {root}",
                $"it is not under {root}",
            ],
            answers);
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://metadata.google.internal/")]
    [InlineData("http://127.0.0.1.nip.io:8089/")]
    [InlineData("http://localhost@169.254.169.254/")]
    [InlineData("http://user:secret@127.0.0.1:8089/")]
    [InlineData("ftp://127.0.0.1/")]
    [InlineData("file:///etc/passwd")]
    [InlineData("/health")]
    public async Task RestartUnhealthyService_WithAHealthUrlNotOnAnAllowedHost_IsRefusedBeforeAnyRequestOrRestart(string healthUrl)
    {
        var (result, started, pidfile) = await RestartAsync(healthUrl);

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.StartsWith($"refusing to probe health_url '{healthUrl}': it must be an http or https URL without user info on one of the allowed hosts (localhost, 127.0.0.1, [::1])", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Steps);
        Assert.False(File.Exists(started), "the service was restarted");
        Assert.False(File.Exists(pidfile));
    }

    [Fact]
    public async Task RestartUnhealthyService_WithAHealthUrlOnALoopbackAddressNotAllowed_NeverConnectsToIt()
    {
        // 127.0.0.2 is loopback too, so the test can watch for a connection without sending traffic off the machine.
        var listener = new TcpListener(IPAddress.Parse("127.0.0.2"), 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;

            var (result, started, _) = await RestartAsync($"http://127.0.0.2:{port}/");

            Assert.Equal(RunStatus.Failed, result.Status);
            Assert.StartsWith("refusing to probe health_url", result.Error, StringComparison.Ordinal);
            Assert.False(listener.Pending(), "the runbook connected to a host it was not allowed to probe");
            Assert.False(File.Exists(started), "the service was restarted");
        }
        finally
        {
            listener.Stop();
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_scratch, recursive: true);
        }
        catch (IOException)
        {
            // The temp folder is cleaned by the OS.
        }
    }

    private async Task<(RunResult Result, string Started, string Pidfile)> RestartAsync(string healthUrl)
    {
        var started = Path.Combine(_scratch, "started");
        var pidfile = Path.Combine(_scratch, "service.pid");
        var (result, _) = await RunAsync(
            "restart-unhealthy-service",
            Alert("ServiceHealthCheckFailing", labels: new() { ["job"] = "demo-web" }, annotations: new() { ["health_url"] = healthUrl }),
            new()
            {
                ["pidfile"] = pidfile,
                ["log_file"] = Path.Combine(_scratch, "service.log"),

                // Stands in for the service: if the runbook got as far as restarting, this file appears.
                ["start_command"] = $"touch {started}",
            });
        return (result, started, pidfile);
    }

    private static async Task<(RunResult Result, List<string> Log)> RunAsync(
        string name, RunbookAlert alert, Dictionary<string, string> supplied, IHumanGate? gate = null, IStepJournal? journal = null)
    {
        var document = new RunbookFolder(Fixture.ExampleRunbooks).Read(name)!;
        var bound = ParameterBinder.Bind(document.Definition!, supplied, alert);
        Assert.True(bound.Parameters is not null, string.Join('\n', bound.Errors));
        return await ExecuteAsync(
            document, new RunInfo("run", name, 1, RunTrigger.Alert, alert.Fingerprint, null, document.Source.ContentHash, false), bound.Parameters!, alert, journal, gate);
    }

    /// <summary>Compiles a runbook and runs it as the host would.</summary>
    private static async Task<(RunResult Result, List<string> Log)> ExecuteAsync(
        RunbookDocument document, RunInfo run, RunbookParameters? parameters = null, RunbookAlert? alert = null, IStepJournal? journal = null, IHumanGate? gate = null)
    {
        var compiled = await Compiler.CompileAsync(document.Source);
        Assert.True(compiled.Success, string.Join('\n', compiled.Diagnostics));
        var log = new ListSink();
        using var runbook = compiled.Runbook!;
        var result = await RunbookExecutor.ExecuteAsync(
            new RunRequest
            {
                Runbook = runbook,
                Definition = document.Definition!,
                Run = run,
                Parameters = parameters ?? new RunbookParameters(new Dictionary<string, object?>()),
                Alert = alert,
                Journal = journal ?? new InMemoryStepJournal(),
                HumanGate = gate,
                LogSink = log,
            },
            CancellationToken.None);
        return (result, log.Lines);
    }

    /// <summary>What lib/common.csx's check before a delete answers for each file, run as a runbook would run it.</summary>
    private async Task<string[]> CheckBeforeDeleteAsync(string root, string[] files)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_scratch, "runbook")).FullName;
        Directory.CreateDirectory(Path.Combine(folder, "lib"));
        File.Copy(Path.Combine(Fixture.ExampleRunbooks, "lib", "common.csx"), Path.Combine(folder, "lib", "common.csx"));
        var list = string.Join(", ", files.Select(file => $"@\"{file}\""));
        File.WriteAllText(Path.Combine(folder, "check.csx"), $$"""
            // ---
            // description: asks the check before a delete about each file
            // ---
            #load "lib/common.csx"

            foreach (var file in new[] { {{list}} })
            {
                Log.Info(WhyNotSafeToDelete(file, @"{{root}}") ?? "safe");
            }
            """);
        var document = new RunbookFolder(folder).Read("check")!;
        var (result, log) = await ExecuteAsync(document, new RunInfo("run", "check", 1, RunTrigger.Manual, "tests", null, document.Source.ContentHash, false));
        Assert.True(result.Status == RunStatus.Succeeded, result.Error);
        return [.. log];
    }

    private static RunbookAlert Alert(string name, Dictionary<string, string>? labels = null, Dictionary<string, string>? annotations = null) =>
        new("generic", name, AlertStatus.Firing, "critical", labels ?? [], annotations ?? [], TimeProvider.System.GetUtcNow(), null, "hostile");

    /// <summary>A folder under the scratch root holding old files with the given names.</summary>
    private string Folder(string relative, params string[] files)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_scratch, relative)).FullName;
        foreach (var file in files)
        {
            var path = Path.Combine(folder, file);
            File.WriteAllText(path, new string('x', 1024));
            File.SetLastWriteTimeUtc(path, TimeProvider.System.GetUtcNow().UtcDateTime.AddDays(-30));
        }

        return folder;
    }

    /// <summary>What an attacker with write access to the parent folder does once the runbook has checked it.</summary>
    private static void SwapForLink(string folder, string target)
    {
        Directory.Move(folder, folder + "-moved");
        Directory.CreateSymbolicLink(folder, target);
    }

    private static string[] Names(string folder) => [.. Directory.GetFiles(folder).Select(Path.GetFileName).Order()!];

    private sealed class ListSink : IRunLogSink
    {
        public List<string> Lines { get; } = [];

        public void Write(LogLevel level, string message, string? stepName)
        {
            lock (Lines)
            {
                Lines.Add(message);
            }
        }
    }

    /// <summary>Runs <c>swap</c> as the named step starts, i.e. after every earlier step checked and listed the files.</summary>
    private sealed class SwappingJournal(string stepName, Action swap) : IStepJournal
    {
        private readonly InMemoryStepJournal _inner = new();

        public bool Swapped { get; private set; }

        public ValueTask<StepOutcome?> FindAsync(int sequence, CancellationToken cancellationToken) => _inner.FindAsync(sequence, cancellationToken);

        public ValueTask StepStartedAsync(StepOutcome outcome, CancellationToken cancellationToken)
        {
            if (outcome.Name == stepName && !Swapped)
            {
                swap();
                Swapped = true;
            }

            return _inner.StepStartedAsync(outcome, cancellationToken);
        }

        public ValueTask StepFinishedAsync(StepOutcome outcome, CancellationToken cancellationToken) => _inner.StepFinishedAsync(outcome, cancellationToken);
    }

    /// <summary>Does every manual step and approves every approval, running <c>onApproval</c> first while the run waits.</summary>
    private sealed class ApproveEverything(Action? onApproval = null) : IHumanGate
    {
        public bool Approved { get; private set; }

        public Task<HumanResponse> AskAsync(HumanRequest request, CancellationToken cancellationToken)
        {
            if (request.Kind == StepKind.Approval && !Approved)
            {
                onApproval?.Invoke();
                Approved = true;
            }

            return Task.FromResult(new HumanResponse(true, "bob"));
        }
    }
}
