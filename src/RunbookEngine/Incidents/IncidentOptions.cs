namespace RunbookEngine.Incidents;

/// <summary>How alerts are grouped into incidents, section <c>RunbookEngine:Incidents</c>.</summary>
public sealed class IncidentOptions
{
    /// <summary>The rule names <see cref="Rules"/> accepts.</summary>
    public static readonly IReadOnlyList<string> KnownRules = [IncidentRules.GroupKey, IncidentRules.PagerDutyIncident, IncidentRules.Fingerprint, IncidentRules.Labels];

    /// <summary>Whether firing alerts are grouped into incidents at all. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The grouping rules, in order of precedence: an alert joins the open incident of the first rule whose key it shares
    /// with one. <c>group-key</c> is Alertmanager's (and Grafana's) <c>groupKey</c>, <c>pagerduty-incident</c> PagerDuty's
    /// incident id, <c>fingerprint</c> the same source and fingerprint, <c>labels</c> the same values of <see cref="Labels"/>
    /// within <see cref="LabelWindow"/>. Empty (the default) means all four in that order.
    /// </summary>
    /// <remarks>Empty stands for the defaults because configuration binding adds to a list that already has items.</remarks>
    public List<string> Rules { get; set; } = [];

    /// <summary>
    /// The labels the <c>labels</c> rule compares: alerts that carry all of them with the same values share an incident.
    /// An alert missing one of them is not grouped by this rule. Empty (the default) means <c>service</c> and <c>cluster</c>.
    /// </summary>
    public List<string> Labels { get; set; } = [];

    /// <summary>
    /// How long after an incident's last alert a new alert sharing its labels still joins it (the other rules have no
    /// window: they hold while the incident is open). Default 30 minutes.
    /// </summary>
    public TimeSpan LabelWindow { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The rules in force: <see cref="Rules"/>, or the default order; none when grouping is off.</summary>
    /// <returns>The rule names.</returns>
    public IReadOnlyList<string> RulesInForce() => !Enabled ? [] : Rules.Count > 0 ? Rules : KnownRules;

    /// <summary>The labels the <c>labels</c> rule compares: <see cref="Labels"/>, or <c>service</c> and <c>cluster</c>.</summary>
    /// <returns>The label names.</returns>
    public IReadOnlyList<string> LabelsInForce() => Labels.Count > 0 ? Labels : ["service", "cluster"];
}

/// <summary>The names of the grouping rules.</summary>
public static class IncidentRules
{
    /// <summary>Alertmanager's and Grafana's <c>groupKey</c>: the sender already grouped these alerts.</summary>
    public const string GroupKey = "group-key";

    /// <summary>PagerDuty's incident id.</summary>
    public const string PagerDutyIncident = "pagerduty-incident";

    /// <summary>The same source and fingerprint: the same alert firing again while its incident is open.</summary>
    public const string Fingerprint = "fingerprint";

    /// <summary>The same values of the configured labels, within a window.</summary>
    public const string Labels = "labels";
}
