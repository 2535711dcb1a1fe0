namespace RunbookEngine.IntegrationTests;

/// <summary>Telemetry settings an operator got wrong stop the host at start with a message that says what to write instead.</summary>
public sealed class telemetry_settings_that_are_wrong
{
    [Theory]
    [InlineData("RunbookEngine__Telemetry__LogFormat", "xml", "RunbookEngine:Telemetry:LogFormat is 'xml'; use text, json or none")]
    [InlineData("RunbookEngine__Telemetry__OtlpEndpoint", "collector:4318", "RunbookEngine:Telemetry:OtlpEndpoint is 'collector:4318'; give an http:// or https:// address")]
    public async Task stop_the_host_with_a_clear_message(string setting, string value, string message)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => HostWorkspace.StartAsync(new Dictionary<string, string> { [setting] = value }));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
