namespace RunbookEngine.Cli.Tests;

/// <summary><c>runbook incidents</c> and <c>runbook postmortem</c> against a host that answers with canned bodies.</summary>
public sealed partial class HostCommandTests
{
    [Fact]
    public async Task Incidents_WithFilters_AsksForThemAndDrawsATable()
    {
        await using var host = await FakeHost.StartAsync(200, """
            {"incidents":[{"id":"i-1","title":"CheckoutDiskFull","service":"checkout","state":"closed","groupRule":"group-key","groupKey":"g",
              "openedAt":"2026-11-23T08:02:00Z","closedAt":"2026-11-23T08:30:00Z","lastAlertAt":"2026-11-23T08:03:00Z","alerts":3}],"next":null}
            """);

        var result = await RunAsync("incidents", "--state", "closed", "--service", "checkout", "--since", "7d", "--limit", "5", "--server", host.Url);

        Assert.True(result.ExitCode == 0, result.ToString());
        var request = Assert.Single(host.Requests);
        Assert.Equal(("/api/incidents", "?limit=5&state=closed&service=checkout&since=7d"), (request.Path, request.Query));
        Assert.Equal(
            [
                ["Incident", "Title", "Service", "State", "Alerts", "Opened (UTC)", "Closed (UTC)"],
                ["i-1", "CheckoutDiskFull", "checkout", "closed", "3", "2026-11-23 08:02:00", "2026-11-23 08:30:00"],
            ],
            Rows(result.StdOut));
    }

    [Fact]
    public async Task Incidents_RefusedByTheHost_SaysWhyAndExitsWithUsage()
    {
        await using var host = await FakeHost.StartAsync(400, """{"error":"state 'burning' is not open or closed"}""");

        var result = await RunAsync("incidents", "--state", "burning", "--server", host.Url);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("state 'burning' is not open or closed", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postmortem_PrintsTheMarkdownDraft_OrTheJsonOnAsking()
    {
        const string Markdown = "# Postmortem: CheckoutDiskFull\n\n## Summary\n\nIt was resolved.\n";
        await using var host = await FakeHost.StartAsync(200, Markdown, "text/markdown; charset=utf-8");

        var markdown = await RunAsync("postmortem", "i-1", "--server", host.Url);
        var json = await RunAsync("postmortem", "i-1", "--format", "json", "--server", host.Url);

        Assert.True(markdown.ExitCode == 0, markdown.ToString());
        Assert.Equal(Markdown, markdown.StdOut);
        Assert.Equal(["/api/incidents/i-1/postmortem.md", "/api/incidents/i-1/postmortem"], host.Requests.Select(r => r.Path));
        Assert.Equal(0, json.ExitCode);
    }

    [Fact]
    public async Task Postmortem_PrintsNoControlCharacters_ThatATerminalWouldObey()
    {
        const string Markdown = "# Postmortem: Disk\u001b]0;owned\u0007Full\u009b2J\n\n## Summary\n\n\tok\r\n";
        await using var host = await FakeHost.StartAsync(200, Markdown, "text/markdown; charset=utf-8");

        var markdown = await RunAsync("postmortem", "i-1", "--server", host.Url);

        Assert.True(markdown.ExitCode == 0, markdown.ToString());
        Assert.Equal("# Postmortem: Disk]0;ownedFull2J\n\n## Summary\n\n\tok\r\n", markdown.StdOut);
    }

    [Fact]
    public async Task Postmortem_OfAnUnknownIncident_SaysSo()
    {
        await using var host = await FakeHost.StartAsync(404, """{"error":"no incident 'nope'"}""");

        var result = await RunAsync("postmortem", "nope", "--server", host.Url);
        var badFormat = await RunAsync("postmortem", "nope", "--format", "pdf", "--server", host.Url);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no incident 'nope'", result.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, badFormat.ExitCode);
        Assert.Contains("pdf", badFormat.StdErr, StringComparison.Ordinal);
    }
}
