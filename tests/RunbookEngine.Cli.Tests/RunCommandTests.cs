using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace RunbookEngine.Cli.Tests;

public sealed class RunCommandTests : IDisposable
{
    private readonly Workspace _workspace = new();

    [Fact]
    public async Task Run_DiskCleanup_DeletesOldFilesAndRecordsEachStep()
    {
        var target = OldFiles("logs", ("old.log", 10), ("older.log", 30), ("new.log", 0), ("old.txt", 30));

        var result = await _workspace.RunAsync("run", "disk-cleanup", "--param", $"path={target}", "-p", "threshold_percent=0", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var run = JsonDocument.Parse(result.StdOut).RootElement;
        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal(["measure usage", "find old files", "delete old files", "measure again"], Steps(run).Select(s => s.Name));
        Assert.All(Steps(run), s => Assert.Equal(("succeeded", 1), (s.Status, s.Attempts)));
        Assert.Equal(["new.log", "old.txt"], Directory.GetFiles(target).Select(Path.GetFileName).Order());
        Assert.Contains("deleted 2 file(s)", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_DiskCleanup_DoesNotFollowLinksOutOfItsPath()
    {
        var victim = OldFiles("victim", ("important.log", 30));
        var target = OldFiles("logs", ("old.log", 10));
        Directory.CreateSymbolicLink(Path.Combine(target, "link"), victim);
        File.CreateSymbolicLink(Path.Combine(target, "file-link.log"), Path.Combine(victim, "important.log"));

        var result = await _workspace.RunAsync("run", "disk-cleanup", "-p", $"path={target}", "-p", "threshold_percent=0", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(File.Exists(Path.Combine(victim, "important.log")));
        Assert.False(File.Exists(Path.Combine(target, "old.log")));
    }

    [Fact]
    public async Task Run_DiskCleanup_RefusesAPathOutsideItsAllowedRoots()
    {
        var target = OldFiles("logs", ("old.log", 10));

        var result = await _workspace.RunAsync("run", "disk-cleanup", "-p", $"path={target}", "-p", "threshold_percent=0", "-p", "allowed_roots=/var/log", "--json");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("is not under any allowed root (/var/log); refusing to delete there", result.StdOut, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(target, "old.log")));
    }

    [Fact]
    public async Task Run_WithDryRun_ReportsTheDeletionWithoutDoingIt()
    {
        var target = OldFiles("logs", ("old.log", 10));

        var result = await _workspace.RunAsync("run", "disk-cleanup", "-p", $"path={target}", "-p", "threshold_percent=0", "--dry-run", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("skipped", Steps(JsonDocument.Parse(result.StdOut).RootElement).Single(s => s.Name == "delete old files").Status);
        Assert.True(File.Exists(Path.Combine(target, "old.log")));
    }

    [Fact]
    public async Task Run_InShadowMode_StopsBeforeTheDeletionAndSaysWhatItWouldHaveDone()
    {
        var target = OldFiles("logs", ("old.log", 10));

        var result = await _workspace.RunAsync("run", "disk-cleanup", "-p", $"path={target}", "-p", "threshold_percent=0", "--mode", "shadow", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var run = JsonDocument.Parse(result.StdOut).RootElement;
        Assert.Equal(("proposed", "shadow"), (run.GetProperty("status").GetString(), run.GetProperty("mode").GetString()));
        Assert.Equal(("delete old files", "step"), (run.GetProperty("proposal").GetProperty("step").GetString(), run.GetProperty("proposal").GetProperty("action").GetString()));
        Assert.Equal(["measure usage", "find old files", "delete old files"], Steps(run).Select(s => s.Name));
        Assert.True(File.Exists(Path.Combine(target, "old.log")));
    }

    [Fact]
    public async Task Run_WithAModeThatDoesNotExist_IsAUsageError()
    {
        var result = await _workspace.RunAsync("run", "disk-cleanup", "--mode", "yolo");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("yolo", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ShowsLiveStepsAndASummaryTable()
    {
        var result = await _workspace.RunAsync("run", "tls-cert-expiry", "-p", $"cert_path={Certificate(daysLeft: 400)}");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("▶ 1. read certificate", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("✓ 2. check expiry", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("│ # │ Step", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("Succeeded in", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_OfAnExpiringCertificate_FailsAndSaysWhen()
    {
        var result = await _workspace.RunAsync("run", "tls-cert-expiry", "-p", $"cert_path={Certificate(daysLeft: 5)}", "--json");

        Assert.Equal(1, result.ExitCode);
        var run = JsonDocument.Parse(result.StdOut).RootElement;
        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Matches(@"step 'check expiry' failed: .*cert\.pem expires in [45] days .*within the 30-day warning; renew it", run.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Run_PruneSnapshots_WithYes_ApprovesAndPrunes()
    {
        var snapshots = OldFiles("snapshots", ("s1.dump", 5), ("s2.dump", 4), ("s3.dump", 3), ("s4.dump", 2), ("s5.dump", 1));

        var result = await _workspace.RunAsync("run", "prune-snapshots", "-p", $"dir={snapshots}", "-p", "keep=2", "--yes", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var steps = Steps(JsonDocument.Parse(result.StdOut).RootElement);
        Assert.Equal(["list snapshots", "manual", "approval", "delete snapshots"], steps.Select(s => s.Kind == "automated" ? s.Name : s.Kind));
        Assert.EndsWith("(--yes)", steps[2].Actor, StringComparison.Ordinal);
        Assert.Equal(["s4.dump", "s5.dump"], Directory.GetFiles(snapshots).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task Run_PruneSnapshots_RejectedAtTheTerminal_DeletesNothing()
    {
        var snapshots = OldFiles("snapshots", ("s1.dump", 5), ("s2.dump", 4));

        var result = await _workspace.RunWithInputAsync("y\nn\n", "run", "prune-snapshots", "-p", $"dir={snapshots}", "-p", "keep=1");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("Approve: Delete 1 old snapshot(s)", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("rejected by", result.StdOut, StringComparison.Ordinal);
        Assert.Equal(2, Directory.GetFiles(snapshots).Length);
    }

    [Fact]
    public async Task Run_RestartUnhealthyService_StartsItAndVerifiesHealth()
    {
        var port = FreePort();
        var pidfile = Path.Combine(_workspace.Root, "service.pid");
        try
        {
            var result = await _workspace.RunAsync("run", "restart-unhealthy-service",
                "-p", $"health_url=http://127.0.0.1:{port}/",
                "-p", $"pidfile={pidfile}",
                "-p", $"start_command=python3 -m http.server {port} --bind 127.0.0.1 --directory {_workspace.Root}",
                "-p", $"log_file={Path.Combine(_workspace.Root, "service.log")}",
                "--json");

            Assert.True(result.ExitCode == 0, result.ToString());
            var steps = Steps(JsonDocument.Parse(result.StdOut).RootElement);
            Assert.Equal(("probe health", "failed", 3), (steps[0].Name, steps[0].Status, steps[0].Attempts));
            Assert.Equal(["stop stale process", "start service", "verify health"], steps.Skip(1).Select(s => s.Name));
            Assert.All(steps.Skip(1), s => Assert.Equal("succeeded", s.Status));
        }
        finally
        {
            if (File.Exists(pidfile) && int.TryParse(File.ReadAllText(pidfile).Trim(), CultureInfo.InvariantCulture, out var pid))
            {
                try
                {
                    System.Diagnostics.Process.GetProcessById(pid).Kill(entireProcessTree: true);
                }
                catch (ArgumentException)
                {
                    // Already gone.
                }
            }
        }
    }

    [Fact]
    public async Task Run_WithAnAlertFile_BindsParametersFromIt()
    {
        var target = OldFiles("from-alert", ("old.log", 10));
        var alert = _workspace.Write("alert.json", $$"""
            {"name": "NodeFilesystemAlmostFull", "status": "firing", "labels": {"severity": "critical", "instance": "web-1"},
             "annotations": {"cleanup_path": "{{target}}"}, "startsAt": "2026-11-23T07:00:00Z", "fingerprint": "abc123"}
            """);

        var result = await _workspace.RunAsync("run", "disk-cleanup", "--alert", alert, "-p", "threshold_percent=0", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Empty(Directory.GetFiles(target));
    }

    [Fact]
    public async Task Run_WithInvalidParameters_ExitsTwoNamingEach()
    {
        var result = await _workspace.RunAsync("run", "disk-cleanup", "-p", "threshold_percent=lots", "-p", "colour=blue");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("parameter 'colour': not declared", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("parameter 'threshold_percent': 'lots' is not an int (a whole number)", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_OfAnUnknownRunbook_ListsTheKnownOnes()
    {
        var result = await _workspace.RunAsync("run", "disk-clean");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no runbook 'disk-clean' in runbooks (there: disk-cleanup, prune-snapshots", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_InAFreshProcess_LoadsFromTheCompileCacheWithoutRoslyn()
    {
        var cert = Certificate(daysLeft: 400);

        var first = await _workspace.RunAsync("run", "tls-cert-expiry", "-p", $"cert_path={cert}", "--verbose");
        var second = await _workspace.RunAsync("run", "tls-cert-expiry", "-p", $"cert_path={cert}", "--verbose");

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("Roslyn loaded: yes", first.StdOut, StringComparison.Ordinal);
        Assert.Contains("loaded from the compile cache", second.StdOut, StringComparison.Ordinal);
        Assert.Contains("Roslyn loaded: no", second.StdOut, StringComparison.Ordinal);
    }

    public void Dispose() => _workspace.Dispose();

    private string OldFiles(string folder, params (string Name, int DaysOld)[] files)
    {
        var directory = Path.Combine(_workspace.Root, folder);
        Directory.CreateDirectory(directory);
        foreach (var (name, days) in files)
        {
            var path = Path.Combine(directory, name);
            File.WriteAllText(path, new string('x', 1024));
            File.SetLastWriteTimeUtc(path, TimeProvider.System.GetUtcNow().UtcDateTime.AddDays(-days));
        }

        return directory;
    }

    private string Certificate(int daysLeft)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=test.example", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var now = TimeProvider.System.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(daysLeft));
        return _workspace.Write("cert.pem", certificate.ExportCertificatePem());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static List<StepRow> Steps(JsonElement run) =>
        [.. run.GetProperty("steps").EnumerateArray().Select(s => new StepRow(
            s.GetProperty("name").GetString()!,
            s.GetProperty("kind").GetString()!,
            s.GetProperty("status").GetString()!,
            s.GetProperty("attempts").GetInt32(),
            s.GetProperty("actor").GetString()!))];

    private sealed record StepRow(string Name, string Kind, string Status, int Attempts, string Actor);
}
