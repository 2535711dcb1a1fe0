using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RunbookEngine.Alerts;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Sdk;
using static RunbookEngine.Tests.Alerts.Webhook;

namespace RunbookEngine.Tests.Alerts;

public sealed class CustomSourceTests
{
    // A monitoring tool with a shape of its own: one incident per delivery, details nested.
    private const string Incident = """
        {"event_id": "evt-7731",
         "incident": {"title": "CheckoutLatencyHigh", "state": "TRIGGERED", "opened": "2026-11-22T10:00:00Z",
                      "closed": null, "priority": "P1",
                      "tags": {"service": "checkout", "region": "eu-west-1", "replicas": 3, "canary": false, "owner": {"team": "payments"}},
                      "owner": {"team": "payments"},
                      "details": {"summary": "p99 over 2s", "link": "https://status.example.com/i/7731"}}}
        """;

    private static CustomSourceOptions AcmeOptions() => new()
    {
        Fields = new(StringComparer.OrdinalIgnoreCase)
        {
            ["name"] = "/incident/title",
            ["status"] = "/incident/state",
            ["severity"] = "/incident/priority",
            ["startsAt"] = "/incident/opened",
            ["endsAt"] = "/incident/closed",
            ["labels"] = "/incident/tags",
            ["label.team"] = "/incident/owner/team",
            ["annotations"] = "/incident/details",
        },
    };

    private static IAlertSource Custom(string name, CustomSourceOptions settings)
    {
        var options = new RunbookEngineOptions();
        options.Alerts.Custom[name] = settings;
        return new CustomAlertSources(Options.Create(options)).Find(name) ?? throw new InvalidOperationException("not found");
    }

    private static WebhookAccepted Accept(IAlertSource source, string body) => Assert.IsType<WebhookAccepted>(source.Parse(Request(body), ReceivedAt));

    private static WebhookRejected Reject(IAlertSource source, string body, string? contentType = "application/json") =>
        Assert.IsType<WebhookRejected>(source.Parse(Request(body, contentType), ReceivedAt));

    [Fact]
    public void a_nested_payload_becomes_one_alert_with_its_labels_and_annotations()
    {
        var parsed = Assert.Single(Accept(Custom("acme", AcmeOptions()), Incident).Alerts);

        var alert = parsed.Alert;
        Assert.Equal(("custom/acme", "CheckoutLatencyHigh", AlertStatus.Firing, "P1"), (alert.Source, alert.Name, alert.Status, alert.Severity));
        // Strings, numbers and booleans become labels; a nested object is left out, and label.NAME adds one from elsewhere.
        Assert.Equal(
            new Dictionary<string, string> { ["service"] = "checkout", ["region"] = "eu-west-1", ["replicas"] = "3", ["canary"] = "false", ["team"] = "payments" },
            alert.Labels);
        Assert.Equal("p99 over 2s", alert.Annotation("summary"));
        Assert.Equal(Time("2026-11-22T10:00:00Z"), alert.StartsAt);
        Assert.Null(alert.EndsAt);
        Assert.Equal(AlertFingerprint.OfNameAndLabels("CheckoutLatencyHigh", alert.Labels), alert.Fingerprint);
        Assert.Equal($"custom/acme:{alert.Fingerprint}:2026-11-22T10:00:00.0000000+00:00:firing", parsed.DedupKey);
        Assert.Equal(Incident, alert.RawPayload);
    }

    [Fact]
    public void resolved_keeps_the_fingerprint_so_it_resolves_the_firing_alert()
    {
        var source = Custom("acme", AcmeOptions());
        var firing = Assert.Single(Accept(source, Incident).Alerts).Alert;
        var resolvedBody = Incident.Replace("\"TRIGGERED\"", "\"Recovered\"", StringComparison.Ordinal).Replace("\"closed\": null", "\"closed\": \"2026-11-22T10:20:00Z\"", StringComparison.Ordinal);

        var resolved = Assert.Single(Accept(source, resolvedBody).Alerts).Alert;

        Assert.Equal(AlertStatus.Resolved, resolved.Status);
        Assert.Equal(firing.Fingerprint, resolved.Fingerprint);
        Assert.Equal(Time("2026-11-22T10:20:00Z"), resolved.EndsAt);
    }

    [Fact]
    public void an_alerts_array_gives_one_alert_per_element_with_pointers_relative_to_it()
    {
        const string Body = """
            {"batch": {"items": [
              {"check": "DiskFull", "status": "alert", "host": "db-1", "key": "disk-db-1", "delivery": 41, "meta": {"mount": "/var"}},
              {"check": "DiskFull", "status": "OK", "host": "db-2", "key": "disk-db-2", "delivery": 41}
            ]}}
            """;
        var source = Custom("checks", new CustomSourceOptions
        {
            Fields = new(StringComparer.OrdinalIgnoreCase)
            {
                ["alerts"] = "/batch/items",
                ["name"] = "/check",
                ["status"] = "/status",
                ["fingerprint"] = "/key",
                ["id"] = "/delivery",
                ["label.host"] = "/host",
                ["annotation.mount"] = "/meta/mount",
            },
        });

        var alerts = Accept(source, Body).Alerts;

        Assert.Equal(2, alerts.Count);
        Assert.Equal(("DiskFull", AlertStatus.Firing, "disk-db-1", "db-1", "/var"), (alerts[0].Alert.Name, alerts[0].Alert.Status, alerts[0].Alert.Fingerprint, alerts[0].Alert.Label("host"), alerts[0].Alert.Annotation("mount")));
        Assert.Equal(("DiskFull", AlertStatus.Resolved, "disk-db-2", "db-2"), (alerts[1].Alert.Name, alerts[1].Alert.Status, alerts[1].Alert.Fingerprint, alerts[1].Alert.Label("host")));
        Assert.Empty(alerts[1].Alert.Annotations);
        Assert.Equal("41", alerts[0].Alert.DeliveryId);
        // With a delivery id a retry is a duplicate even though nothing in the payload dates it.
        Assert.Equal("custom/checks:id:41:disk-db-1:firing", alerts[0].DedupKey);
        Assert.Equal(ReceivedAt, alerts[0].Alert.StartsAt);
    }

    [Fact]
    public void an_empty_alerts_array_is_accepted_with_nothing_to_do()
    {
        var source = Custom("checks", new CustomSourceOptions { Fields = new(StringComparer.OrdinalIgnoreCase) { ["alerts"] = "/items", ["name"] = "/check" } });

        var accepted = Accept(source, "{\"items\": []}");

        Assert.Empty(accepted.Alerts);
        Assert.Equal("no alerts at /items", accepted.Note);
    }

    [Fact]
    public void status_words_are_configurable_and_compared_ignoring_case()
    {
        var settings = AcmeOptions();
        settings.FiringValues = "down, CRITICAL";
        settings.ResolvedValues = "up";
        var source = Custom("acme", settings);

        Assert.Equal(AlertStatus.Firing, Assert.Single(Accept(source, Incident.Replace("TRIGGERED", "Critical", StringComparison.Ordinal)).Alerts).Alert.Status);
        Assert.Equal(AlertStatus.Resolved, Assert.Single(Accept(source, Incident.Replace("TRIGGERED", "UP", StringComparison.Ordinal)).Alerts).Alert.Status);
    }

    [Fact]
    public void without_a_status_pointer_or_value_an_alert_is_firing()
    {
        var source = Custom("bare", new CustomSourceOptions { Fields = new(StringComparer.OrdinalIgnoreCase) { ["name"] = "/n", ["status"] = "/s" } });

        var alert = Assert.Single(Accept(source, "{\"n\": \"X\"}").Alerts).Alert;

        Assert.Equal(AlertStatus.Firing, alert.Status);
        Assert.Equal("custom/bare", alert.Source);
    }

    [Theory]
    [InlineData("{\"incident\": {\"state\": \"TRIGGERED\"}}", "name: nothing at /incident/title (RunbookEngine:Alerts:Custom:acme:Fields:name)")]
    [InlineData("{\"incident\": {\"title\": null}}", "name: nothing at /incident/title (RunbookEngine:Alerts:Custom:acme:Fields:name)")]
    [InlineData("{\"incident\": []}", "name: nothing at /incident/title (RunbookEngine:Alerts:Custom:acme:Fields:name)")]
    [InlineData("{\"incident\": {\"title\": \"\"}}", "name: empty at /incident/title (RunbookEngine:Alerts:Custom:acme:Fields:name)")]
    [InlineData("{\"incident\": {\"title\": {\"en\": \"X\"}}}", "name: expected a string, number or boolean at /incident/title, got an object (RunbookEngine:Alerts:Custom:acme:Fields:name)")]
    [InlineData("{\"incident\": {\"title\": \"X\", \"state\": \"acknowledged\"}}",
        "status: \"acknowledged\" at /incident/state is neither firing (firing, triggered, alert, open) nor resolved (resolved, recovered, ok, closed) (RunbookEngine:Alerts:Custom:acme:FiringValues, RunbookEngine:Alerts:Custom:acme:ResolvedValues)")]
    [InlineData("{\"incident\": {\"title\": \"X\", \"tags\": [\"a\"]}}", "labels: expected an object at /incident/tags, got an array (RunbookEngine:Alerts:Custom:acme:Fields:labels)")]
    [InlineData("{\"incident\": {\"title\": \"X\", \"owner\": {\"team\": [1]}}}", "label.team: expected a string, number or boolean at /incident/owner/team, got an array (RunbookEngine:Alerts:Custom:acme:Fields:label.team)")]
    [InlineData("{\"incident\": {\"title\": \"X\", \"opened\": 1700000000}}", "startsAt: expected an RFC 3339 timestamp string at /incident/opened, got a number (RunbookEngine:Alerts:Custom:acme:Fields:startsAt)")]
    [InlineData("{\"incident\": {\"title\": \"X\", \"closed\": \"yesterday\"}}", "endsAt: not an RFC 3339 timestamp at /incident/closed (RunbookEngine:Alerts:Custom:acme:Fields:endsAt)")]
    [InlineData("[1]", "$: expected an object, got an array")]
    public void a_payload_that_does_not_fit_is_refused_naming_the_field_and_its_setting(string body, string reason)
    {
        Assert.Equal(new WebhookRejected(400, reason), Reject(Custom("acme", AcmeOptions()), body));
    }

    [Fact]
    public void an_alerts_element_without_a_name_is_named_by_its_absolute_place()
    {
        var source = Custom("checks", new CustomSourceOptions { Fields = new(StringComparer.OrdinalIgnoreCase) { ["alerts"] = "/items", ["name"] = "/check" } });

        Assert.Equal(
            new WebhookRejected(400, "name: nothing at /items/1/check (RunbookEngine:Alerts:Custom:checks:Fields:name)"),
            Reject(source, "{\"items\": [{\"check\": \"A\"}, {\"chek\": \"B\"}]}"));
        Assert.Equal(
            new WebhookRejected(400, "alerts: nothing at /items (RunbookEngine:Alerts:Custom:checks:Fields:alerts)"),
            Reject(source, "{\"check\": \"A\"}"));
        Assert.Equal(
            new WebhookRejected(400, "alerts: expected an array at /items, got an object (RunbookEngine:Alerts:Custom:checks:Fields:alerts)"),
            Reject(source, "{\"items\": {\"check\": \"A\"}}"));
    }

    [Fact]
    public void a_body_that_is_not_json_is_refused_as_for_every_source()
    {
        var source = Custom("acme", AcmeOptions());

        Assert.Equal(400, Reject(source, "title=X").StatusCode);
        Assert.StartsWith("malformed JSON", Reject(source, "title=X").Reason, StringComparison.Ordinal);
        Assert.Equal(new WebhookRejected(415, "expected application/json"), Reject(source, "{}", "text/plain"));
        Assert.Equal(new WebhookRejected(400, "malformed JSON: empty body"), Reject(source, ""));
    }

    [Fact]
    public void pointers_follow_rfc_6901_escapes_and_array_indexes()
    {
        var source = Custom("esc", new CustomSourceOptions
        {
            Fields = new(StringComparer.OrdinalIgnoreCase) { ["name"] = "/a~1b/m~0n", ["label.first"] = "/list/0", ["label.past"] = "/list/-", ["label.lead"] = "/list/01" },
        });

        var alert = Assert.Single(Accept(source, "{\"a/b\": {\"m~n\": \"Escaped\"}, \"list\": [\"zero\", \"one\"]}").Alerts).Alert;

        Assert.Equal("Escaped", alert.Name);
        Assert.Equal(new Dictionary<string, string> { ["first"] = "zero" }, alert.Labels);
    }

    [Theory]
    [InlineData("name", "alert/title", "RunbookEngine:Alerts:Custom:acme:Fields:name must be a JSON Pointer such as /alert/title")]
    [InlineData("status", "state", "RunbookEngine:Alerts:Custom:acme:Fields:status must be a JSON Pointer such as /alert/state")]
    [InlineData("label.team", "/a/~2", "RunbookEngine:Alerts:Custom:acme:Fields:label.team must be a JSON Pointer such as /alert/team")]
    [InlineData("label.", "/a", "RunbookEngine:Alerts:Custom:acme:Fields:label. needs a name after the dot, e.g. label.team")]
    [InlineData("title", "/a", "RunbookEngine:Alerts:Custom:acme:Fields:title is not an alert field; use name, status, severity, fingerprint, startsAt, endsAt, labels, annotations, id, alerts, label.NAME or annotation.NAME")]
    public void settings_that_cannot_work_are_refused_at_start_naming_the_setting(string key, string path, string problem)
    {
        var settings = new CustomSourceOptions { Fields = new(StringComparer.OrdinalIgnoreCase) { ["name"] = "/alert/title", [key] = path } };
        var options = new RunbookEngineOptions();
        options.Alerts.Custom["acme"] = settings;

        Assert.Contains(problem, CustomAlertSources.Problems(options));
    }

    [Fact]
    public void a_custom_source_needs_a_name_pointer_a_url_safe_name_and_distinct_status_words()
    {
        var options = new RunbookEngineOptions();
        options.Alerts.Custom["acme"] = new CustomSourceOptions();
        options.Alerts.Custom["a b"] = new CustomSourceOptions { Fields = new() { ["name"] = "/n" } };
        options.Alerts.Custom["words"] = new CustomSourceOptions { Fields = new() { ["name"] = "/n" }, FiringValues = "down,ok" };

        Assert.Equal(
            [
                "RunbookEngine:Alerts:Custom:acme:Fields:name must be a JSON Pointer such as /alert/title",
                "RunbookEngine:Alerts:Custom:a b: a custom source's name takes letters, digits, - and _ (it is part of the URL /hooks/custom/NAME)",
                "RunbookEngine:Alerts:Custom:words: FiringValues and ResolvedValues share ok",
            ],
            CustomAlertSources.Problems(options));
    }

    [Fact]
    public void an_unknown_name_is_not_found_and_names_are_listed()
    {
        var options = new RunbookEngineOptions();
        options.Alerts.Custom["zeta"] = AcmeOptions();
        options.Alerts.Custom["acme"] = AcmeOptions();
        var sources = new CustomAlertSources(Options.Create(options));

        Assert.Null(sources.Find("nope"));
        Assert.Equal("custom/acme", sources.Find("ACME")?.Name);
        Assert.Equal(["acme", "zeta"], sources.Names);
    }

    [Fact]
    public void credentials_are_those_of_the_custom_source_bearer_token_and_query_token()
    {
        var options = new RunbookEngineOptions();
        var bearer = AcmeOptions();
        bearer.BearerToken = "b-s3cret";
        var query = AcmeOptions();
        query.QueryToken = "q-s3cret";
        options.Alerts.Custom["bearer"] = bearer;
        options.Alerts.Custom["query"] = query;
        options.Alerts.Custom["open"] = AcmeOptions();
        // A built-in source's credential says nothing about a custom source of a similar name.
        options.Alerts.Sources["generic"] = new WebhookSourceOptions { BearerToken = "g-s3cret" };
        var sources = new CustomAlertSources(Options.Create(options));
        var authenticator = new WebhookAuthenticator(Options.Create(options), TimeProvider.System, NullLogger<WebhookAuthenticator>.Instance);
        var body = Encoding.UTF8.GetBytes("{}");
        WebhookRequest WithToken(string? token) => new(
            ReadOnlyMemory<byte>.Empty, "application/json", new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase), token is null ? null : new Dictionary<string, string> { ["token"] = token });

        Assert.Equal(401, authenticator.AuthenticateHeaders(sources.Find("bearer")!, Request(body), fromLoopback: true)?.StatusCode);
        Assert.Equal(403, authenticator.AuthenticateHeaders(sources.Find("bearer")!, Request(body, "application/json", ("Authorization", "Bearer g-s3cret")), fromLoopback: true)?.StatusCode);
        Assert.Null(authenticator.Authenticate(sources.Find("bearer")!, Request(body, "application/json", ("Authorization", "Bearer b-s3cret")), fromLoopback: false));

        Assert.Null(authenticator.AuthenticateHeaders(sources.Find("query")!, WithToken("q-s3cret"), fromLoopback: false));
        Assert.Equal(401, authenticator.AuthenticateHeaders(sources.Find("query")!, WithToken(null), fromLoopback: false)?.StatusCode);
        Assert.Equal(403, authenticator.AuthenticateHeaders(sources.Find("query")!, WithToken("q-s3cre"), fromLoopback: false)?.StatusCode);

        Assert.Null(authenticator.AuthenticateHeaders(sources.Find("open")!, Request(body), fromLoopback: true));
        var refused = authenticator.AuthenticateHeaders(sources.Find("open")!, Request(body), fromLoopback: false);
        Assert.Equal(401, refused?.StatusCode);
        Assert.Contains("configure RunbookEngine:Alerts:Custom:open", System.Text.Json.JsonSerializer.Serialize(refused!.Body), StringComparison.Ordinal);
    }
}
