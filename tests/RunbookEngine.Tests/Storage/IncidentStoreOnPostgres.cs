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

    protected override async Task<SqlRunStore> CreateStoreAsync()
    {
        var server = await PostgresServer.SharedAsync();
        _database = await server.CreateDatabaseAsync(nameof(IncidentStoreOnPostgres));
        return SqlRunStore.Postgres(_database, Time);
    }
}
