using System.Diagnostics;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// docker-compose.yml, checked against the engine it configures, then run: its PostgreSQL user and connection string, its
/// two engine nodes' environment, its Caddyfile and its Alertmanager configuration, on real processes on this machine
/// with only host names, ports and container paths rewritten (there is no Docker engine here).
/// </summary>
public sealed partial class the_compose_file
{
    private static readonly string[] EngineNodes = ["engine-1", "engine-2"];

    private readonly ComposeFile _compose = ComposeFile.Load();

    [Fact]
    public void has_postgresql_two_engine_nodes_a_proxy_and_alertmanager_on_pinned_images()
    {
        Assert.Equal(["alertmanager", "engine-1", "engine-2", "postgres", "proxy"], _compose.Services.Keys.Order());
        foreach (var (name, service) in _compose.Services.Where(s => !EngineNodes.Contains(s.Key)))
        {
            Assert.Matches(@"^[a-z0-9./-]+:v?\d+\.\d+(\.\d+)?$", service["image"].Text); // a release, not latest or a moving major
        }

        Assert.All(EngineNodes, node => Assert.Equal(".", _compose.Services[node]["build"].Text));
    }

    [Fact]
    public void keeps_postgresql_on_a_named_volume_and_starts_the_engines_once_it_is_healthy()
    {
        var postgres = _compose.Services["postgres"];
        var volume = postgres["volumes"].List.Single().Text.Split(':');
        Assert.Equal("/var/lib/postgresql/data", volume[1]);
        Assert.Contains(volume[0], _compose.Volumes);
        Assert.Contains("pg_isready", postgres["healthcheck"]["test"].Words);
        Assert.False(postgres.Has("ports"), "PostgreSQL is for the engine nodes only; publishing its port exposes the database");
        Assert.All(EngineNodes, node => Assert.Equal("service_healthy", _compose.Services[node]["depends_on"]["postgres"]["condition"].Text));
    }

    [Fact]
    public void publishes_the_cluster_on_one_loopback_port_through_the_proxy()
    {
        Assert.All(EngineNodes, node => Assert.False(_compose.Services[node].Has("ports"), $"{node} publishes a port of its own"));
        Assert.Equal(["127.0.0.1:5080:8080"], _compose.Services["proxy"]["ports"].List.Select(p => p.Text));

        var (listen, upstreams) = Proxy();
        Assert.Equal(8080, listen);
        Assert.Equal(EngineNodes.Select(node => $"{node}:{EnginePort(node)}"), upstreams);
    }

    [Fact]
    public void configures_both_engine_nodes_alike_but_for_their_names()
    {
        var environments = EngineNodes.Select(node => _compose.Services[node].Environment).ToList();
        Assert.Equal(EngineNodes, environments.Select(e => e["RunbookEngine__NodeId"]));
        Assert.Equal(environments[0].Where(e => e.Key != "RunbookEngine__NodeId").OrderBy(e => e.Key), environments[1].Where(e => e.Key != "RunbookEngine__NodeId").OrderBy(e => e.Key));
        Assert.All(EngineNodes, node => Assert.Equal(["./runbooks:/srv/runbookengine/runbooks:ro"], _compose.Services[node]["volumes"].List.Select(v => v.Text)));
    }

    [Fact]
    public void gives_the_engine_nodes_the_time_they_need_to_hand_their_runs_back_when_stopped()
    {
        foreach (var node in EngineNodes)
        {
            var environment = _compose.Services[node].Environment;
            var defaults = new RunbookEngineOptions();
            var grace = environment.TryGetValue("RunbookEngine__ShutdownGrace", out var configured)
                ? TimeSpan.Parse(configured, System.Globalization.CultureInfo.InvariantCulture)
                : defaults.ShutdownGrace;
            var killGrace = environment.TryGetValue("RunbookEngine__Execution__ProcessKillGrace", out var kill)
                ? TimeSpan.Parse(kill, System.Globalization.CultureInfo.InvariantCulture)
                : defaults.Execution.ProcessKillGrace;
            var stop = _compose.Services[node].Has("stop_grace_period") ? ComposeDuration(_compose.Services[node]["stop_grace_period"].Text) : TimeSpan.FromSeconds(10);

            // The host's own stop timeout is the grace, the kill grace of a run's process and 15 s (Program.cs); Docker
            // sends SIGKILL at stop_grace_period.
            Assert.True(stop >= grace + killGrace + TimeSpan.FromSeconds(15), $"{node}: stop_grace_period {stop} is shorter than ShutdownGrace {grace} + ProcessKillGrace {killGrace} + 15 s");
        }
    }

    [Fact]
    public void sets_only_options_the_engine_has()
    {
        foreach (var (key, _) in _compose.Services["engine-1"].Environment.Where(e => e.Key.StartsWith("RunbookEngine__", StringComparison.Ordinal)))
        {
            var problem = OptionProblem(key["RunbookEngine__".Length..].Split("__"));
            Assert.True(problem is null, $"{key}: {problem}");
        }
    }

    [Fact]
    public void runs_on_postgres_in_the_database_the_postgres_service_creates()
    {
        var engine = _compose.Services["engine-1"].Environment;
        var postgres = _compose.Services["postgres"].Environment;
        var connection = new NpgsqlConnectionStringBuilder(engine["RunbookEngine__ConnectionString"]);

        Assert.Equal("postgres", engine["RunbookEngine__Storage"]);
        Assert.Equal(("postgres", 5432), (connection.Host, connection.Port));
        Assert.Equal((postgres["POSTGRES_DB"], postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"]), (connection.Database, connection.Username, connection.Password));
        Assert.Equal(postgres["POSTGRES_USER"], _compose.Services["postgres"]["healthcheck"]["test"].Words.SkipWhile(w => w != "-U").ElementAt(1));
    }

    [Fact]
    public void takes_every_secret_from_a_variable_with_a_default_for_trying_it_out()
    {
        Assert.Equal(["POSTGRES_PASSWORD", "RUNBOOKENGINE_ALERTMANAGER_TOKEN", "RUNBOOKENGINE_TOKEN"], _compose.Variables.Keys.Order());
        Assert.All(_compose.Variables, variable => Assert.False(string.IsNullOrEmpty(variable.Value), $"{variable.Key} has no default, so docker compose up fails without an .env file"));
        Assert.Equal(_compose.Variables.Count, _compose.Variables.Values.Distinct().Count());

        var engine = _compose.Services["engine-1"].Environment;
        Assert.Equal("false", engine["RunbookEngine__Access__TrustLoopback"]);
        Assert.Equal(_compose.Variables["RUNBOOKENGINE_TOKEN"], engine["RunbookEngine__Access__Tokens__admin"]);
    }

    [Fact]
    public void points_alertmanager_at_the_webhook_route_through_the_proxy_with_the_engines_bearer_token()
    {
        var receiver = AlertmanagerReceiver();
        var url = new Uri(receiver["url"].Text);
        var (listen, _) = Proxy();

        Assert.Equal(("proxy", listen), (url.Host, url.Port));
        Assert.Matches(WebhookRoute(), url.AbsolutePath);
        Assert.NotNull(AlertSources.Find(url.Segments[^1]));
        Assert.Equal("true", receiver["send_resolved"].Text);
        Assert.Equal("Bearer", receiver["http_config"]["authorization"]["type"].Text);
        Assert.Equal(
            _compose.Services["engine-1"].Environment[$"RunbookEngine__Alerts__Sources__{url.Segments[^1]}__BearerToken"],
            receiver["http_config"]["authorization"]["credentials"].Text);
    }

    [Fact]
    public void builds_the_engine_image_from_every_project_the_host_needs()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Repository.Root, "Dockerfile"));
        var copied = Regex.Matches(dockerfile, @"^COPY (src/\S+\.csproj) ", RegexOptions.Multiline).Select(m => m.Groups[1].Value).Order();

        // The restore step sees only the project files copied before it; a project the host references but the
        // Dockerfile does not copy breaks the image's build, not this repository's.
        Assert.Equal(ProjectClosure("src/RunbookEngine.Host/RunbookEngine.Host.csproj").Order(), copied);
    }

    [Fact]
    public void runs_the_engine_image_where_the_compose_file_expects_it()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Repository.Root, "Dockerfile"));
        var engine = _compose.Services["engine-1"].Environment;
        var workdir = Regex.Matches(dockerfile, @"^WORKDIR (\S+)", RegexOptions.Multiline).Last().Groups[1].Value;

        Assert.Equal(engine["Urls"], Regex.Match(dockerfile, @"\bUrls=(\S+)").Groups[1].Value);
        Assert.Equal(EnginePort("engine-1").ToString(System.Globalization.CultureInfo.InvariantCulture), Regex.Match(dockerfile, @"^EXPOSE (\d+)", RegexOptions.Multiline).Groups[1].Value);
        Assert.Matches(@"^RUN mkdir -p runbooks data && chown ""\$APP_UID"" data$", Regex.Match(dockerfile, "^RUN mkdir.*$", RegexOptions.Multiline).Value);
        Assert.Equal(($"{workdir}/runbooks", $"{workdir}/data"), (engine["RunbookEngine__RunbooksPath"], engine["RunbookEngine__DataPath"]));
        Assert.Matches(@"^USER \$APP_UID$", Regex.Match(dockerfile, "^USER.*$", RegexOptions.Multiline).Value);
    }

    [Fact]
    public async Task has_an_alertmanager_configuration_that_amtool_accepts()
    {
        Assert.True(AlertmanagerProcess.IsInstalled, "prometheus-alertmanager is not installed: apt-get install -y prometheus-alertmanager (tests/run.sh does this)");
        var directory = Directory.CreateTempSubdirectory("runbook-compose-").FullName;
        var file = Path.Combine(directory, "alertmanager.yml");
        await File.WriteAllTextAsync(file, _compose.Config("alertmanager"));

        var (exitCode, output) = await RunAsync("amtool", "check-config", file);
        TryDelete(directory);

        Assert.True(exitCode == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task has_a_caddyfile_that_caddy_accepts()
    {
        Assert.True(CaddyProcess.IsInstalled, "caddy is not installed: apt-get install -y caddy (tests/run.sh does this)");

        var (exitCode, output) = await CaddyProcess.ValidateAsync(_compose.Config("caddyfile"));

        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task uses_the_postgresql_and_alertmanager_versions_the_tests_run()
    {
        var server = await PostgresServer.SharedAsync();
        await using var connection = new NpgsqlConnection(await server.CreateDatabaseAsync("composeversion"));
        await connection.OpenAsync();
        var major = connection.PostgreSqlVersion.Major;
        Assert.StartsWith($"postgres:{major}.", _compose.Services["postgres"]["image"].Text, StringComparison.Ordinal);

        var (_, version) = await RunAsync("prometheus-alertmanager", "--version");
        var tag = _compose.Services["alertmanager"]["image"].Text.Split(":v")[1];
        Assert.Contains($"version {tag}", version, StringComparison.Ordinal);
    }

    [Fact]
    public async Task run_as_configured_it_takes_an_alert_from_alertmanager_through_the_proxy_and_runs_its_runbook()
    {
        Assert.True(AlertmanagerProcess.IsInstalled, "prometheus-alertmanager is not installed: apt-get install -y prometheus-alertmanager (tests/run.sh does this)");
        Assert.True(CaddyProcess.IsInstalled, "caddy is not installed: apt-get install -y caddy (tests/run.sh does this)");
        var root = Directory.CreateTempSubdirectory("runbook-compose-").FullName;
        var runbooks = Path.Combine(root, "runbooks");
        CopyFolder(Path.Combine(Repository.Root, "runbooks"), runbooks);
        var connectionString = await DatabaseAsPostgresServiceCreatesItAsync();

        // Under /tmp, one of disk-cleanup's allowed roots, wherever TMPDIR points.
        var cleanup = Directory.CreateDirectory(Path.Combine("/tmp", $"runbook-compose-{Guid.NewGuid():N}")).FullName;
        var nodes = new List<HostProcess>();
        CaddyProcess? proxy = null;
        AlertmanagerProcess? alertmanager = null;
        try
        {
            foreach (var node in EngineNodes)
            {
                // Only what names a place in the containers changes: the database's host, and the folders (the image's working directory).
                var environment = _compose.Services[node].Environment;
                environment.Remove("Urls"); // HostProcess binds a free loopback port with --urls, which wins over it
                environment["RunbookEngine__ConnectionString"] = connectionString;
                environment["RunbookEngine__RunbooksPath"] = runbooks;
                environment["RunbookEngine__DataPath"] = Path.Combine(root, node, "data");
                Directory.CreateDirectory(Path.Combine(root, node));
                nodes.Add(await HostProcess.StartAsync(Path.Combine(root, node), environment));
            }

            var proxyPort = Loopback.FreePort();
            var caddyfile = Regex.Replace(_compose.Config("caddyfile"), $"^:{Proxy().Listen} {{", $":{proxyPort} {{\n  bind 127.0.0.1", RegexOptions.Multiline);
            for (var i = 0; i < EngineNodes.Length; i++)
            {
                caddyfile = caddyfile.Replace($"{EngineNodes[i]}:{EnginePort(EngineNodes[i])}", $"127.0.0.1:{nodes[i].Address.Port}", StringComparison.Ordinal);
            }

            var proxyAddress = new Uri($"http://127.0.0.1:{proxyPort}");
            proxy = await CaddyProcess.StartAsync(caddyfile, new Uri(proxyAddress, "/readyz"));
            alertmanager = await AlertmanagerProcess.StartWithConfigAsync(
                _compose.Config("alertmanager").Replace($"http://proxy:{Proxy().Listen}/", proxyAddress.AbsoluteUri, StringComparison.Ordinal));

            using var anonymous = new HttpClient { BaseAddress = proxyAddress };
            var (refused, _) = await anonymous.SendAsync(HttpMethod.Get, "/api/runs");
            Assert.Equal(401, refused);

            using var admin = new HttpClient { BaseAddress = proxyAddress, Timeout = TimeSpan.FromMinutes(3) };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _compose.Variables["RUNBOOKENGINE_TOKEN"]);
            await alertmanager.FireAsync(
                new Dictionary<string, string> { ["alertname"] = "NodeFilesystemAlmostFull", ["severity"] = "warning", ["instance"] = "compose:9100" },
                new Dictionary<string, string> { ["cleanup_path"] = cleanup });

            var alertId = await admin.UntilAsync(
                "/api/alerts?source=alertmanager&status=firing",
                page => page.GetProperty("alerts").EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } alert ? alert.GetProperty("id") : null,
                $"Alertmanager never delivered the alert. Alertmanager log:\n{alertmanager.Log}\nCaddy log:\n{proxy.Log}");
            var settled = await admin.SettledAlertAsync(alertId.GetString()!);
            var decision = Assert.Single(settled.Decisions());
            var run = await admin.EndedRunAsync(decision.RunId!);

            Assert.Equal(("disk-cleanup", "Started"), (decision.Runbook, settled.Outcome()));
            Assert.True(run.Status() == "Succeeded", $"{run}\n{string.Join('\n', nodes.Select(n => n.Log))}");
            Assert.Contains(run.GetProperty("run").GetProperty("node").GetString(), EngineNodes);
            Assert.Contains(cleanup, run.GetProperty("run").GetRawText(), StringComparison.Ordinal); // the path parameter, from the alert's annotation

            // The engine nodes' health check, as Docker would run it inside a node's container.
            var test = _compose.Services["engine-1"]["healthcheck"]["test"].Words;
            Assert.Equal("CMD", test[0]);
            var (healthy, output) = await RunAsync(test[1], [.. test.Skip(2).Select(w => w.Replace($"/{EnginePort("engine-1")}", $"/{nodes[0].Address.Port}", StringComparison.Ordinal))]);
            Assert.True(healthy == 0, $"the health check failed: {output}");
        }
        finally
        {
            if (alertmanager is not null)
            {
                await alertmanager.DisposeAsync();
            }

            if (proxy is not null)
            {
                await proxy.DisposeAsync();
            }

            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            TryDelete(root);
            TryDelete(cleanup);
        }
    }

    /// <summary>
    /// The route the host maps webhooks on, <c>/hooks/{source}</c>, with the source as one path segment.
    /// </summary>
    [GeneratedRegex("^/hooks/[a-z]+$")]
    private static partial Regex WebhookRoute();

    /// <summary>Why a configuration key (below RunbookEngine) is not an option, or null when it is one.</summary>
    private static string? OptionProblem(string[] segments)
    {
        var type = typeof(RunbookEngineOptions);
        for (var i = 0; i < segments.Length; i++)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                type = type.GetGenericArguments()[1]; // any key
                continue;
            }

            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
            {
                if (!int.TryParse(segments[i], out _))
                {
                    return $"'{segments[i]}' is not an index of a list";
                }

                type = type.GetGenericArguments()[0];
                continue;
            }

            var property = type.GetProperty(segments[i], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || property.SetMethod is not { IsPublic: true })
            {
                return $"{type.Name} has no setting '{segments[i]}'";
            }

            type = property.PropertyType;
        }

        var bound = Nullable.GetUnderlyingType(type) ?? type;
        return bound.IsPrimitive || bound.IsEnum || bound == typeof(string) || bound == typeof(TimeSpan) || bound == typeof(decimal)
            ? null
            : $"{type.Name} is a section, not a value";
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        return (process.ExitCode, await output + await error);
    }

    /// <summary>A Compose duration such as 1m30s or 50s.</summary>
    private static TimeSpan ComposeDuration(string text)
    {
        var parts = Regex.Matches(text, @"(\d+)(ms|h|m|s)");
        Assert.True(parts.Sum(p => p.Length) == text.Length && parts.Count > 0, $"'{text}' is not a duration Compose reads");
        return parts.Aggregate(TimeSpan.Zero, (total, part) =>
        {
            var value = int.Parse(part.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            return total + part.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(value),
                "m" => TimeSpan.FromMinutes(value),
                "s" => TimeSpan.FromSeconds(value),
                _ => TimeSpan.FromMilliseconds(value),
            };
        });
    }

    /// <summary>A project and every project it references, directly or not, as paths from the repository root.</summary>
    private static HashSet<string> ProjectClosure(string project)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var next))
        {
            if (!found.Add(next))
            {
                continue;
            }

            var directory = Path.GetDirectoryName(next)!;
            foreach (var reference in System.Xml.Linq.XDocument.Load(Path.Combine(Repository.Root, next)).Descendants("ProjectReference"))
            {
                var full = Path.GetFullPath(Path.Combine(Repository.Root, directory, reference.Attribute("Include")!.Value.Replace('\\', '/')));
                pending.Push(Path.GetRelativePath(Repository.Root, full).Replace('\\', '/'));
            }
        }

        return found;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover temp folder is harmless; a failure here must not hide the test's own.
        }
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>A fresh database owned by the postgres service's user, as its image creates it, on the test server.</summary>
    private async Task<string> DatabaseAsPostgresServiceCreatesItAsync()
    {
        var postgres = _compose.Services["postgres"].Environment;
        var server = await PostgresServer.SharedAsync();
        var created = new NpgsqlConnectionStringBuilder(await server.CreateDatabaseAsync("compose"));
        await using (var connection = new NpgsqlConnection(created.ConnectionString))
        {
            await connection.OpenAsync();
            var user = postgres["POSTGRES_USER"];
            var password = postgres["POSTGRES_PASSWORD"].Replace("'", "''", StringComparison.Ordinal);
            await using var command = new NpgsqlCommand(
                $"""
                DO $$ BEGIN
                  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN CREATE ROLE "{user}" LOGIN PASSWORD '{password}'; END IF;
                END $$;
                ALTER DATABASE "{created.Database}" OWNER TO "{user}";
                """,
                connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(_compose.Services["engine-1"].Environment["RunbookEngine__ConnectionString"])
        {
            Host = created.Host,
            Port = created.Port,
            Database = created.Database,
        }.ConnectionString;
    }

    private int EnginePort(string node) => new Uri(_compose.Services[node].Environment["Urls"]).Port;

    /// <summary>The port the Caddyfile listens on and the upstreams it proxies to.</summary>
    private (int Listen, IReadOnlyList<string> Upstreams) Proxy()
    {
        var caddyfile = _compose.Config("caddyfile");
        var listen = Regex.Match(caddyfile, @"^:(\d+) \{", RegexOptions.Multiline);
        var upstreams = Regex.Match(caddyfile, @"^\s*reverse_proxy ([^{\n]+)", RegexOptions.Multiline);
        Assert.True(listen.Success && upstreams.Success, $"the Caddyfile has no ':PORT {{' site or no reverse_proxy line:\n{caddyfile}");
        return (int.Parse(listen.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), upstreams.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    private ComposeFile.Node AlertmanagerReceiver()
    {
        var config = new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(_compose.Config("alertmanager"));
        var root = new ComposeFile.Node(config);
        var name = root["route"]["receiver"].Text;
        var receiver = root["receivers"].List.Single(r => r["name"].Text == name);
        return receiver["webhook_configs"].List.Single();
    }
}
