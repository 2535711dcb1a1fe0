namespace RunbookEngine.IntegrationTests;

/// <summary>
/// A query token authenticates a webhook but never reaches the host's log, even with ASP.NET Core's per-request
/// logs turned on, which print every request's URL.
/// </summary>
public sealed class a_webhook_token_in_the_url : IAsyncLifetime
{
    // Letters, digits and '-' only, so no URL or JSON encoding hides it from a plain search.
    private readonly string _token = $"qt-{Guid.NewGuid():N}";
    private readonly string _wrong = $"wrong-{Guid.NewGuid():N}";
    private HostWorkspace _workspace = null!;

    public async Task InitializeAsync() => _workspace = await HostWorkspace.StartAsync(new Dictionary<string, string>
    {
        ["RunbookEngine__Alerts__Sources__azure-monitor__QueryToken"] = _token,
        ["Serilog__MinimumLevel__Override__Microsoft.AspNetCore"] = "Information",
    });

    public async Task DisposeAsync() => await _workspace.DisposeAsync();

    [Fact]
    public async Task is_checked_but_never_logged()
    {
        var body = File.ReadAllBytes(AlertWebhooks.Fixture("azure-monitor", "docs-test-activity-log-administrative-fired.json"));

        Assert.Equal(403, (await _workspace.Http.PostHookAsync($"azure-monitor?token={_wrong}", body)).Status);
        Assert.Equal(202, (await _workspace.Http.PostHookAsync($"azure-monitor?token={_token}&x=1", body)).Status);

        // The request logs are written as the response completes; wait for the second one rather than race it.
        Assert.True(
            SpinWait.SpinUntil(() => _workspace.Host.Log.Contains("/hooks/azure-monitor?token=REDACTED&x=1", StringComparison.Ordinal), TimeSpan.FromSeconds(30)),
            "the request log never showed the redacted URL:\n" + _workspace.Host.Log);
        Assert.DoesNotContain(_token, _workspace.Host.Log, StringComparison.Ordinal);
        Assert.DoesNotContain(_wrong, _workspace.Host.Log, StringComparison.Ordinal);
    }
}
