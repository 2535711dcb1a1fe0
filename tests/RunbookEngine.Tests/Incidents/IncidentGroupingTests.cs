using RunbookEngine.Incidents;
using static RunbookEngine.Tests.Alerts.Webhook;

namespace RunbookEngine.Tests.Incidents;

/// <summary>The keys each sender's alerts bring to grouping, from live payloads.</summary>
public sealed class IncidentGroupingTests
{
    [Fact]
    public void AnAlertmanagerGroup_KeepsItsGroupKey_AndBringsEveryRulesKeyInOrder()
    {
        var accepted = Accept("alertmanager", Fixture("alertmanager/live-firing-grouped.json"));

        Assert.All(accepted.Alerts, a => Assert.Equal("{}:{alertname=\"HighLatency\"}", a.GroupKey));
        var group = IncidentGrouping.For(accepted.Alerts[0], new IncidentOptions { Labels = ["service", "job"] })!;
        Assert.Equal(("HighLatency", "checkout"), (group.Title, group.Service));
        Assert.Equal(
            [
                (IncidentRules.GroupKey, "group-key:alertmanager:{}:{alertname=\"HighLatency\"}", (TimeSpan?)null),
                (IncidentRules.Fingerprint, "fingerprint:alertmanager:04bc28d9238102ec", null),
                (IncidentRules.Labels, "labels:[\"service=checkout\",\"job=checkout\"]", TimeSpan.FromMinutes(30)),
            ],
            group.Keys.Select(k => (k.Rule, k.Key, k.Window)));
    }

    [Fact]
    public void APagerDutyIncident_IsKeyedByItsIncidentId()
    {
        var parsed = Single("pagerduty", Fixture("pagerduty/zulip-incident-triggered-v3.json"));

        Assert.Equal("PFQZPSY", parsed.GroupKey);
        Assert.Equal("pagerduty-incident:PFQZPSY", IncidentGrouping.For(parsed, new IncidentOptions())!.Keys[0].Key);
    }

    [Fact]
    public void AResolvedNotification_OrGroupingTurnedOff_JoinsNoIncident()
    {
        var resolved = Accept("alertmanager", Fixture("alertmanager/live-resolved.json")).Alerts[0];
        var firing = Accept("alertmanager", Fixture("alertmanager/live-firing-grouped.json")).Alerts[0];

        Assert.Null(IncidentGrouping.For(resolved, new IncidentOptions()));
        Assert.Null(IncidentGrouping.For(firing, new IncidentOptions { Enabled = false }));
    }
}
