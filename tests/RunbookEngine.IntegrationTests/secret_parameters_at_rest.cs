using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// A secret parameter's value is sealed with the cluster's key ring: no search finds it, no database file or dump holds
/// it, and yet a retry, a run in its own process and another node all bind it. The runbook succeeds only when it was
/// given the real value (it checks the value's digest), so a *** bound in its place fails it.
/// </summary>
public sealed class secret_parameters_at_rest
{
    private const string Secret = "Zq7-hunter2-sealed";

    private static readonly string Digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Secret)));

    private static readonly Dictionary<string, string> Runbooks = new()
    {
        ["sealed"] = Runbook(""),
        ["sealed-isolated"] = Runbook("// isolation: process\n"),
    };

    [Fact]
    public async Task on_sqlite_are_bound_in_process_in_their_own_process_and_on_retry_but_found_by_no_search_and_in_no_file()
    {
        await using var host = await HostWorkspace.StartAsync(extraRunbooks: Runbooks);
        var runs = new List<string>();
        foreach (var runbook in Runbooks.Keys)
        {
            var runId = await host.Http.TriggerAsync(runbook, new { token = Secret, digest = Digest });
            Assert.Equal("Succeeded", (await host.Http.TerminalRunAsync(runId)).Status());
            runs.Add(runId);
        }

        var (status, retry) = await host.Http.SendAsync(HttpMethod.Post, $"/api/runs/{runs[0]}/retry");
        Assert.Equal(202, status);
        Assert.Equal("Succeeded", (await host.Http.TerminalRunAsync(retry.GetProperty("runId").GetString()!)).Status());

        // Every prefix of the secret, as the search would meet it in the stored parameters: none finds a run, while the
        // same search on the digest (not secret) does, so the search itself works.
        Assert.Contains(runs[0], await host.Http.GetStringAsync(Search($"\"digest\":\"{Digest[..6]}")), StringComparison.Ordinal);
        for (var length = 1; length <= Secret.Length; length++)
        {
            var page = await host.Http.GetStringAsync(Search($"\"token\":\"{Secret[..length]}"));
            Assert.DoesNotContain(runs[0], page, StringComparison.Ordinal);
            Assert.DoesNotContain(runs[1], page, StringComparison.Ordinal);
        }

        // The API shows *** and not even the sealed form.
        var detail = await host.Http.GetStringAsync($"/api/runs/{runs[0]}");
        var shown = JsonSerializer.Deserialize<Dictionary<string, string>>(
            JsonSerializer.Deserialize<JsonElement>(detail).GetProperty("run").GetProperty("parametersJson").GetString()!)!;
        Assert.Equal(("***", Digest), (shown["token"], shown["digest"]));
        Assert.DoesNotContain("sealedParameters", detail, StringComparison.OrdinalIgnoreCase);

        // The SQLite file and its write-ahead log, byte for byte.
        foreach (var file in Directory.GetFiles(Path.Combine(host.Root, "data"), "runs.db*"))
        {
            Assert.False(Contains(await ReadSharedAsync(file), Encoding.UTF8.GetBytes(Secret)), $"{file} holds the secret in plain text");
        }
    }

    [Fact]
    public async Task recorded_in_plain_text_before_the_upgrade_are_sealed_when_the_host_starts_and_still_bind()
    {
        await using var host = await HostWorkspace.StartAsync(extraRunbooks: Runbooks);
        var runId = await host.Http.TriggerAsync("sealed", new { token = Secret, digest = Digest });
        Assert.Equal("Succeeded", (await host.Http.TerminalRunAsync(runId)).Status());

        // The row as schema 8 kept it: the secret among the parameters, nothing sealed.
        var database = Path.Combine(host.Root, "data", "runs.db");
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database}"))
        {
            await connection.OpenAsync();
            await using var legacy = connection.CreateCommand();
            legacy.CommandText = "UPDATE runbook_runs SET parameters = $parameters, sealed_parameters = NULL WHERE id = $id";
            legacy.Parameters.AddWithValue("$parameters", $$"""{"token":"{{Secret}}","digest":"{{Digest}}"}""");
            legacy.Parameters.AddWithValue("$id", runId);
            Assert.Equal(1, await legacy.ExecuteNonQueryAsync());
        }

        await host.RestartAsync();
        await host.Http.UntilAsync("/api/runs", body => host.Host.Log.Contains("Sealed the secret parameters of 1 runs", StringComparison.Ordinal) ? body : null, "older runs were never sealed");
        var (status, retry) = await host.Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/retry");
        Assert.Equal(202, status);
        Assert.Equal("Succeeded", (await host.Http.TerminalRunAsync(retry.GetProperty("runId").GetString()!)).Status());
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database}"))
        {
            // The row itself: a freed page may keep the old bytes until reused, which is why operations.md says to VACUUM after upgrading.
            await connection.OpenAsync();
            await using var stored = connection.CreateCommand();
            stored.CommandText = "SELECT parameters FROM runbook_runs WHERE id = $id";
            stored.Parameters.AddWithValue("$id", runId);
            Assert.DoesNotContain(Secret, (string)(await stored.ExecuteScalarAsync())!, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task on_postgresql_are_opened_by_another_node_and_absent_from_a_dump()
    {
        var nodes = await HostWorkspace.StartClusterAsync(nameof(secret_parameters_at_rest), 2, Runbooks);
        try
        {
            var runId = await nodes[0].Http.TriggerAsync("sealed", new { token = Secret, digest = Digest });
            Assert.Equal("Succeeded", (await nodes[0].Http.TerminalRunAsync(runId)).Status());

            // The retry is recorded by the other node, which opens the sealed value with the key ring in the store.
            var (status, retry) = await nodes[1].Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/retry");
            Assert.Equal(202, status);
            Assert.Equal("Succeeded", (await nodes[1].Http.TerminalRunAsync(retry.GetProperty("runId").GetString()!)).Status());

            var dump = await PostgresServer.DumpAsync(nodes[0].Setting("RunbookEngine__ConnectionString")!);
            Assert.Contains(runId, dump, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, dump, StringComparison.Ordinal);
        }
        finally
        {
            await HostWorkspace.DisposeAllAsync(nodes);
        }
    }

    private static Uri Search(string text) => new("/?q=" + Uri.EscapeDataString(text), UriKind.Relative);

    private static string Runbook(string frontMatter) => $$"""
        // ---
        {{frontMatter}}// description: Succeeds only with the real secret, which it checks against a digest given in the clear
        // parameters:
        //   token: { type: string, secret: true, required: true }
        //   digest: { type: string, required: true }
        // ---
        using System.Security.Cryptography;
        using System.Text;
        var token = Params.Get<string>("token");
        var digest = Params.Get<string>("digest");
        await Step("check the secret", ct =>
        {
            if (Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token))) != digest)
            {
                throw new InvalidOperationException("the secret bound is not the one given");
            }

            return Task.CompletedTask;
        });
        """;

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
