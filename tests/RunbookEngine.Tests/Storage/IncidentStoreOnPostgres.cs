using RunbookEngine.Alerts;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Incidents;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Tests.Storage;

public sealed class IncidentStoreOnPostgres : IncidentStoreContract
{
    private string _database = "";

    [Fact]
    public async Task Ingest_OfOneGroupByTwoNodesAtOnce_OpensOneIncident()
    {
        // Two nodes of a cluster, each with its own store and pool on the one database, receiving the two halves of an
        // Alertmanager HA pair's notifications of one group, many times over.
        await using var other = SqlRunStore.Postgres(_database, Time);
        var options = new IncidentOptions();
        WebhookDelivery Delivery(int i)
        {
            var alert = new RunbookAlert("alertmanager", "DiskFull", AlertStatus.Firing, null, new Dictionary<string, string> { ["service"] = "checkout" }, new Dictionary<string, string>(), Time.GetUtcNow(), null, $"fp-node-{i}");
            var parsed = new ParsedAlert(alert, $"alertmanager:fp-node-{i}", "{}:{service=\"checkout\"}");
            return new WebhookDelivery("alertmanager", null, "{}", [parsed], Incidents: [IncidentGrouping.For(parsed, options)]);
        }

        var stored = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => (i % 2 == 0 ? Store : other).IngestAsync(Delivery(i), default))));

        var incidents = await Task.WhenAll(stored.Select(async s => (await Store.GetAlertAsync(s[0].Id, default))!.IncidentId));
        var incident = Assert.Single(incidents.Distinct());
        Assert.Equal(20, (await other.GetIncidentAsync(incident!, default))!.Alerts);
        Assert.Single(await Store.ListIncidentsAsync(new IncidentQuery(), default));
    }

    [Fact]
    public async Task Ingest_OfTwoGroupsSharingLabelsByTwoNodesAtOnce_OpensOneIncident()
    {
        // Two Alertmanager groups of one service and cluster: each alert's first key is its own group, and only the
        // later labels key ties them, so a node that lost only that key must still end in the winner's incident.
        await using var other = SqlRunStore.Postgres(_database, Time);
        var options = new IncidentOptions();
        WebhookDelivery Delivery(int round, string group)
        {
            var labels = new Dictionary<string, string> { ["service"] = $"checkout-{round}", ["cluster"] = "eu-1" };
            var alert = new RunbookAlert("alertmanager", "DiskFull", AlertStatus.Firing, null, labels, new Dictionary<string, string>(), Time.GetUtcNow(), null, $"fp-{round}-{group}");
            var parsed = new ParsedAlert(alert, $"alertmanager:fp-{round}-{group}", $"{{}}:{{alertname=\"{group}-{round}\"}}");
            return new WebhookDelivery("alertmanager", null, "{}", [parsed], Incidents: [IncidentGrouping.For(parsed, options)]);
        }

        for (var round = 0; round < 8; round++)
        {
            var r = round;
            var stored = await Task.WhenAll(
                Task.Run(() => Store.IngestAsync(Delivery(r, "a"), default)),
                Task.Run(() => other.IngestAsync(Delivery(r, "b"), default)));

            var incidents = await Task.WhenAll(stored.Select(async s => (await Store.GetAlertAsync(s[0].Id, default))!.IncidentId));
            var incident = Assert.Single(incidents.Distinct());
            Assert.Equal(2, (await other.GetIncidentAsync(incident!, default))!.Alerts);
        }

        Assert.Equal(8, (await Store.ListIncidentsAsync(new IncidentQuery(), default)).Count);
    }

    [Fact]
    public async Task Ingest_WhenTheDatabaseRefusesTheIncident_StoresTheAlertUngrouped()
    {
        // PostgreSQL refuses a NUL in text: the incident insert fails inside the delivery's transaction, which must
        // roll back to before grouping and still store the alert (whose own fields are clean).
        var failures = new List<Exception>();
        var alert = new RunbookAlert("alertmanager", "DiskFull", AlertStatus.Firing, null, new Dictionary<string, string>(), new Dictionary<string, string>(), Time.GetUtcNow(), null, "fp-nul");
        var parsed = new ParsedAlert(alert, "alertmanager:fp-nul", "g");
        var group = new IncidentGroup("Disk\0Full", null, [new IncidentKey(IncidentRules.Fingerprint, "fingerprint:alertmanager:fp-nul", null)]);

        var stored = await Store.IngestAsync(new WebhookDelivery("alertmanager", null, "{}", [parsed], Incidents: [group]) { OnGroupingFailed = failures.Add }, default);

        Assert.Null((await Store.GetAlertAsync(stored[0].Id, default))!.IncidentId);
        Assert.Single(failures);
        Assert.Empty(await Store.ListIncidentsAsync(new IncidentQuery(), default));
    }

    [Fact]
    public async Task Ingest_JoiningAnIncidentThatRetentionDeletesAtOnce_NeverPointsAtAGoneIncident()
    {
        // One node's retention deletes an incident's last (old) alert while another node stores a new alert of its group:
        // the new alert ends in an incident that exists, the old one or a new one, never in the deleted one.
        await using var other = SqlRunStore.Postgres(_database, Time);
        var options = new IncidentOptions();
        WebhookDelivery Delivery(int round, int n)
        {
            var alert = new RunbookAlert("alertmanager", "DiskFull", AlertStatus.Firing, null, new Dictionary<string, string>(), new Dictionary<string, string>(), Time.GetUtcNow(), null, $"fp-{round}-{n}");
            var parsed = new ParsedAlert(alert, $"alertmanager:fp-{round}-{n}", $"group-{round}");
            return new WebhookDelivery("alertmanager", null, "{}", [parsed], Incidents: [IncidentGrouping.For(parsed, options)]);
        }

        for (var round = 0; round < 8; round++)
        {
            await Store.IngestAsync(Delivery(round, 0), default);
            Time.Advance(TimeSpan.FromDays(2));
            var r = round;
            var joining = Task.Run(() => other.IngestAsync(Delivery(r, 1), default));
            var deleting = Task.Run(() => Store.DeleteExpiredAlertsAsync(Time.GetUtcNow().AddDays(-1), 100, default));
            await Task.WhenAll(joining, deleting);

            var incident = (await Store.GetAlertAsync((await joining)[0].Id, default))!.IncidentId;
            Assert.NotNull(incident);
            Assert.NotNull(await Store.GetIncidentAsync(incident, default));
        }
    }

    protected override async Task<SqlRunStore> CreateStoreAsync()
    {
        var server = await PostgresServer.SharedAsync();
        _database = await server.CreateDatabaseAsync(nameof(IncidentStoreOnPostgres));
        return SqlRunStore.Postgres(_database, Time);
    }
}
