using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Hosting;

namespace RunbookEngine.Tests.Alerts;

public sealed class CustomSourceOptionsTests
{
    private static ServiceProvider Provider(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>("RunbookEngine:Alerts:Custom:" + s.Key, s.Value)))
            .Build();
        return new ServiceCollection().AddRunbookEngine(configuration).BuildServiceProvider();
    }

    [Fact]
    public void settings_bind_with_their_defaults_and_dotted_field_keys()
    {
        using var provider = Provider(("acme:Fields:name", "/alert/title"), ("acme:Fields:label.team", "/owner/team"), ("acme:ResolvedValues", "up"));

        var acme = provider.GetRequiredService<IOptions<RunbookEngineOptions>>().Value.Alerts.Custom["acme"];
        var source = provider.GetRequiredService<CustomAlertSources>().Find("acme")!;

        Assert.Equal("/owner/team", acme.Fields["label.team"]);
        Assert.Equal(("firing,triggered,alert,open", "up"), (acme.FiringValues, acme.ResolvedValues));
        var alert = Assert.Single(Assert.IsType<WebhookAccepted>(source.Parse(Webhook.Request("{\"alert\": {\"title\": \"X\"}, \"owner\": {\"team\": \"sre\"}}"), Webhook.ReceivedAt)).Alerts).Alert;
        Assert.Equal(("custom/acme", "sre"), (alert.Source, alert.Label("team")));
    }

    [Fact]
    public void a_bad_pointer_stops_the_host_naming_the_setting()
    {
        using var provider = Provider(("acme:Fields:name", "alert.title"), ("acme:BearerToken", "t"));

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RunbookEngineOptions>>().Value);

        Assert.Contains("RunbookEngine:Alerts:Custom:acme:Fields:name must be a JSON Pointer such as /alert/title", error.Failures);
    }

    [Fact]
    public void a_signature_encoding_other_than_hex_or_base64_stops_the_host_naming_the_setting()
    {
        using var provider = Provider(("acme:Fields:name", "/alert/title"), ("acme:Secret", "s"), ("acme:SignatureEncoding", "base32"));

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RunbookEngineOptions>>().Value);

        Assert.Contains(error.Failures, f => f.StartsWith("RunbookEngine:Alerts:Custom:acme:SignatureEncoding is 'base32'", StringComparison.Ordinal));
    }
}
