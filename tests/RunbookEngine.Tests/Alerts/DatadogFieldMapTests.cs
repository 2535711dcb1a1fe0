using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Hosting;
using RunbookEngine.Sdk;

namespace RunbookEngine.Tests.Alerts;

/// <summary>A team's Datadog template that puts its fields where the source does not look, mapped in settings.</summary>
public sealed class DatadogFieldMapTests
{
    // As a team's template might nest it: nothing where the Datadog source looks for an id, a title, a transition or tags.
    private const string Nested = """
        {"event": {"id": "7421", "title": "[Triggered on {host:db-1}] Replication lag", "state": "Triggered"}, "meta": {"tags": "env:prod,team:db"}}
        """;

    private static RunbookEngineOptions Options(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>("RunbookEngine:Alerts:Sources:" + s.Key, s.Value)))
            .Build();
        using var provider = new ServiceCollection().AddRunbookEngine(configuration).BuildServiceProvider();
        return provider.GetRequiredService<IOptions<RunbookEngineOptions>>().Value;
    }

    private static IAlertSource Datadog(RunbookEngineOptions options) => AlertSources.Configured(AlertSources.Find("datadog")!, options);

    [Fact]
    public void mapped_fields_are_read_where_the_template_puts_them()
    {
        var options = Options(("datadog:Fields:id", "/event/id"), ("datadog:Fields:title", "/event/title"),
            ("datadog:Fields:alert_transition", "/event/state"), ("datadog:Fields:tags", "/meta/tags"));

        var alert = Assert.Single(Assert.IsType<WebhookAccepted>(Datadog(options).Parse(Webhook.Request(Nested), Webhook.ReceivedAt)).Alerts).Alert;

        Assert.Equal(("datadog", "Replication lag", AlertStatus.Firing), (alert.Source, alert.Name, alert.Status));
        Assert.Equal(("prod", "db"), (alert.Label("env"), alert.Label("team")));
        Assert.Equal("Replication lag on {host:db-1}", alert.Fingerprint);
    }

    [Fact]
    public void without_a_map_the_same_body_is_refused_naming_the_setting_that_would_map_it()
    {
        var refused = Assert.IsType<WebhookRejected>(Datadog(Options()).Parse(Webhook.Request(Nested), Webhook.ReceivedAt));

        Assert.Equal(400, refused.StatusCode);
        Assert.Contains("id: missing", refused.Reason, StringComparison.Ordinal);
        Assert.Contains("RunbookEngine:Alerts:Sources:datadog:Fields:id", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void a_mapped_field_the_body_lacks_is_refused_saying_where_the_map_looked()
    {
        var options = Options(("datadog:Fields:id", "/incident/id"), ("datadog:Fields:title", "/event/title"));

        var refused = Assert.IsType<WebhookRejected>(Datadog(options).Parse(Webhook.Request(Nested), Webhook.ReceivedAt));

        Assert.Equal(400, refused.StatusCode);
        Assert.EndsWith("; RunbookEngine:Alerts:Sources:datadog:Fields:id points at /incident/id, which the body does not have", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void the_raw_body_the_engine_keeps_is_the_one_received()
    {
        var options = Options(("datadog:Fields:id", "/event/id"), ("datadog:Fields:title", "/event/title"));
        var request = Webhook.Request(Nested);

        Assert.IsType<WebhookAccepted>(Datadog(options).Parse(request, Webhook.ReceivedAt));

        Assert.Equal(Nested, System.Text.Encoding.UTF8.GetString(request.Body.Span));
    }

    [Theory]
    [InlineData("grafana:Fields:name", "/x", "RunbookEngine:Alerts:Sources:grafana:Fields: only datadog takes a field map")]
    [InlineData("datadog:Fields:severity", "/x", "RunbookEngine:Alerts:Sources:datadog:Fields:severity is not a field the datadog source reads")]
    [InlineData("datadog:Fields:id", "event.id", "RunbookEngine:Alerts:Sources:datadog:Fields:id must be a JSON Pointer")]
    public void a_wrong_map_stops_the_host_naming_the_setting(string key, string value, string expected)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Options((key, value)));

        Assert.Contains(error.Failures, f => f.StartsWith(expected, StringComparison.Ordinal));
    }
}
