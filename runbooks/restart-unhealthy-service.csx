// ---
// description: Restart a local service that stopped answering its HTTP health check, then verify it answers again; probes only URLs on allowed hosts
// owner: sre
// tags: [service, http]
// alerts:
//   - name: ServiceHealthCheckFailing
//     labels: { job: "demo-.*" }
// parameters:
//   health_url: { type: string, default: "http://127.0.0.1:8089/", from: annotations.health_url, description: the URL that answers 2xx when healthy }
//   allowed_hosts: { type: string, default: "localhost,127.0.0.1,[::1]", description: comma-separated hosts health_url may name (over http or https and without user info); an alert cannot make the host probe anything else }
//   pidfile: { type: string, default: data/services/demo-service.pid, description: where the service's process id is kept (relative to the working directory) }
//   start_command: { type: string, default: "python3 -m http.server 8089 --bind 127.0.0.1", description: how to start the service }
//   log_file: { type: string, default: data/services/demo-service.log, description: where the started service writes its output (relative to the working directory) }
// manual_minutes: 10
// concurrency: "service:{{ params.pidfile }}"
// cooldown: 5m
// timeout: 2m
// gameday:                     # `runbook gameday restart-unhealthy-service`: kill the service, let the monitoring and this runbook bring it back
//   inject: bash -c 'kill -TERM "$(cat data/services/demo-service.pid)"'
//   verify: python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8089/', timeout=2)"
//   timeout: 5m
// ---
#load "lib/common.csx"

var url = Params.Get<string>("health_url");
var pidfile = Params.Get<string>("pidfile");
var logFile = Params.Get<string>("log_file");
var probeTimeout = TimeSpan.FromSeconds(2);

// The URL may come from an alert annotation: probing whatever it names would let an alert make the host send requests
// to cloud metadata or internal services. Refuse before any request is made.
var allowedHosts = Params.Get<string>("allowed_hosts").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
if (!Uri.TryCreate(url, UriKind.Absolute, out var parsedUrl)
    || (parsedUrl.Scheme != Uri.UriSchemeHttp && parsedUrl.Scheme != Uri.UriSchemeHttps)
    || parsedUrl.UserInfo.Length > 0
    || !allowedHosts.Contains(parsedUrl.Host, StringComparer.OrdinalIgnoreCase))
{
    throw new RunbookFailedException($"refusing to probe health_url '{url}': it must be an http or https URL without user info on one of the allowed hosts ({string.Join(", ", allowedHosts)})");
}

// A flapping service often answers on the second or third try: probe with backoff before restarting anything.
try
{
    await Step("probe health", async ct =>
    {
        if (!await HttpHealthy(Http, url, probeTimeout, ct))
        {
            throw new RunbookFailedException($"{url} did not answer 2xx");
        }
    }, retries: 2, backoff: TimeSpan.FromMilliseconds(500));
    Log.Info($"{url} is healthy: nothing to do");
    return;
}
catch (StepFailedException)
{
    Log.Warn($"{url} is unhealthy after 3 probes: restarting");
}

await Step("stop stale process", async ct =>
{
    if (!File.Exists(pidfile))
    {
        Log.Info($"no pidfile at {pidfile}");
        return;
    }

    var pid = File.ReadAllText(pidfile).Trim();
    if (!int.TryParse(pid, out var number) || number <= 1)
    {
        // 0, -1 or 1 would signal a process group, everything, or init.
        Log.Warn($"{pidfile} holds '{pid}', not a process id; ignoring it");
        File.Delete(pidfile);
        return;
    }

    var alive = await Shell($"kill -0 {pid}", ct, readOnly: true);
    if (alive.ExitCode == 0)
    {
        await Shell($"kill -TERM {pid}", ct, check: true);
        Log.Info($"sent TERM to {pid}");
    }

    File.Delete(pidfile);
}, sideEffects: true, idempotent: true, timeout: TimeSpan.FromSeconds(20));

await Step("start service", async ct =>
{
    // The command's words are passed to bash as arguments ("$@"), never pasted into the script bash runs.
    var argv = ShellCommand.Parse(Params.Get<string>("start_command")).ToArgv();
    // In a folder the host owns, not /tmp, where another user could plant a link at the name beforehand.
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(pidfile))!);
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
    var started = await Shell("bash", ["-c", "log=$1; shift; setsid \"$@\" >\"$log\" 2>&1 </dev/null & echo $!", "start", logFile, .. argv], ct, check: true);
    File.WriteAllText(pidfile, started.StdOut.Trim());
    Log.Info($"started process {started.StdOut.Trim()}");
}, sideEffects: true, timeout: TimeSpan.FromSeconds(20));

await Step("verify health", async ct =>
{
    if (!await HttpHealthy(Http, url, probeTimeout, ct))
    {
        throw new RunbookFailedException($"{url} still does not answer after the restart; see {logFile}");
    }
}, retries: 8, backoff: TimeSpan.FromMilliseconds(250));
