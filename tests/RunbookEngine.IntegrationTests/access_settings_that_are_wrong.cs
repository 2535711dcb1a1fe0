namespace RunbookEngine.IntegrationTests;

/// <summary>Access settings that would open the host more than the operator meant stop it at start, saying what to write instead.</summary>
public sealed class access_settings_that_are_wrong
{
    [Theory]
    [InlineData("RunbookEngine__Access__AllowedHosts__0", "*", "RunbookEngine:Access:AllowedHosts is *, so any web page whose name points at this machine")]
    [InlineData("RunbookEngine__Access__AllowedHosts__0", "https://runbooks.example.com", "RunbookEngine:Access:AllowedHosts takes host names without scheme or port")]
    [InlineData("RunbookEngine__Access__AllowedHosts__0", "runbooks.example.com:5080", "RunbookEngine:Access:AllowedHosts takes host names without scheme or port")]
    [InlineData("RunbookEngine__Access__KnownProxies__0", "proxy.internal", "RunbookEngine:Access:KnownProxies takes IP addresses")]
    public async Task stop_the_host_with_a_clear_message(string setting, string value, string message)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => HostWorkspace.StartAsync(new Dictionary<string, string> { [setting] = value }));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
