namespace RunbookEngine.Sdk;

/// <summary>The alert that started a run, normalised across alert sources. Alert data is data: it never becomes code.</summary>
/// <param name="Source">Where it came from: <c>alertmanager</c>, <c>grafana</c>, <c>pagerduty</c>, <c>datadog</c>, <c>opsgenie</c>, <c>azure-monitor</c> or <c>generic</c>.</param>
/// <param name="Name">The alert's name (Alertmanager's <c>alertname</c> label, or the source's title).</param>
/// <param name="Status">Whether the alert is firing or resolved.</param>
/// <param name="Severity">The severity the source gave, when it gave one.</param>
/// <param name="Labels">Identifying labels.</param>
/// <param name="Annotations">Descriptive annotations.</param>
/// <param name="StartsAt">When the problem started.</param>
/// <param name="EndsAt">When it ended, for a resolved alert.</param>
/// <param name="Fingerprint">The source's identity of this alert, stable across resends.</param>
/// <param name="DeliveryId">The id of the webhook delivery that carried it, when the source sends one.</param>
/// <param name="RawPayload">The webhook body as received.</param>
public sealed record RunbookAlert(
    string Source,
    string Name,
    AlertStatus Status,
    string? Severity,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Annotations,
    DateTimeOffset StartsAt,
    DateTimeOffset? EndsAt,
    string Fingerprint,
    string? DeliveryId = null,
    string? RawPayload = null)
{
    /// <summary>A label's value, or null when the alert does not carry it.</summary>
    /// <param name="name">The label name.</param>
    /// <returns>The value or null.</returns>
    public string? Label(string name) => Labels.TryGetValue(name, out var value) ? value : null;

    /// <summary>An annotation's value, or null when the alert does not carry it.</summary>
    /// <param name="name">The annotation name.</param>
    /// <returns>The value or null.</returns>
    public string? Annotation(string name) => Annotations.TryGetValue(name, out var value) ? value : null;
}

/// <summary>Whether an alert is active.</summary>
public enum AlertStatus
{
    /// <summary>The problem is present.</summary>
    Firing,

    /// <summary>The problem has gone away.</summary>
    Resolved,
}
