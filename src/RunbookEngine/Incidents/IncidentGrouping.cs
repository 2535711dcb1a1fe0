using System.Text.Json;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Sdk;

namespace RunbookEngine.Incidents;

/// <summary>
/// The keys an alert can share with an incident, one per applicable rule in the configured order. Pure: the store
/// decides which open incident owns a key, in the transaction that stores the alert.
/// </summary>
public static class IncidentGrouping
{
    /// <summary>What an alert brings to grouping.</summary>
    /// <param name="parsed">The alert as its source parsed it.</param>
    /// <param name="options">The grouping rules.</param>
    /// <returns>Its keys, title and service; null when it joins no incident (a resolved notification, or grouping is off).</returns>
    public static IncidentGroup? For(ParsedAlert parsed, IncidentOptions options)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        ArgumentNullException.ThrowIfNull(options);
        var alert = parsed.Alert;
        if (alert.Status != AlertStatus.Firing)
        {
            return null;
        }

        var rules = options.RulesInForce();
        var keys = new List<IncidentKey>(rules.Count);
        foreach (var rule in rules)
        {
            if (KeyFor(rule, parsed, options) is { } key)
            {
                keys.Add(new IncidentKey(rule, key, rule == IncidentRules.Labels ? options.LabelWindow : null));
            }
        }

        return keys.Count == 0 ? null : new IncidentGroup(alert.Name, Service(alert, options), keys);
    }

    // The service an incident is filed under: the service label, else the first grouping label the alert carries.
    private static string? Service(RunbookAlert alert, IncidentOptions options) =>
        alert.Labels.TryGetValue("service", out var service) && service.Length > 0
            ? service
            : options.LabelsInForce().Select(l => alert.Labels.GetValueOrDefault(l)).FirstOrDefault(v => !string.IsNullOrEmpty(v));

    private static string? KeyFor(string rule, ParsedAlert parsed, IncidentOptions options)
    {
        var alert = parsed.Alert;
        switch (rule)
        {
            case IncidentRules.GroupKey when alert.Source is "alertmanager" or "grafana" && parsed.GroupKey is { Length: > 0 } groupKey:
                return $"group-key:{alert.Source}:{groupKey}";
            case IncidentRules.PagerDutyIncident when alert.Source == "pagerduty" && parsed.GroupKey is { Length: > 0 } incident:
                return $"pagerduty-incident:{incident}";
            case IncidentRules.Fingerprint:
                return $"fingerprint:{alert.Source}:{alert.Fingerprint}";
            case IncidentRules.Labels:
                var labels = options.LabelsInForce();
                var values = new List<string>(labels.Count);
                foreach (var label in labels)
                {
                    if (!alert.Labels.TryGetValue(label, out var value) || value.Length == 0)
                    {
                        return null;
                    }

                    values.Add($"{label}={value}");
                }

                // JSON keeps the key unambiguous whatever the values contain.
                return $"labels:{JsonSerializer.Serialize(values)}";
            default:
                return null;
        }
    }
}

/// <summary>What an alert brings to grouping.</summary>
/// <param name="Title">The title of an incident it opens.</param>
/// <param name="Service">The service an incident it opens is filed under, if known.</param>
/// <param name="Keys">Its keys, in the rules' order of precedence.</param>
public sealed record IncidentGroup(string Title, string? Service, IReadOnlyList<IncidentKey> Keys);

/// <summary>One key an alert may share with an open incident.</summary>
/// <param name="Rule">The rule that made it.</param>
/// <param name="Key">The key.</param>
/// <param name="Window">How long after the incident's last alert with this key the key still joins it; null while the incident is open.</param>
public sealed record IncidentKey(string Rule, string Key, TimeSpan? Window);
