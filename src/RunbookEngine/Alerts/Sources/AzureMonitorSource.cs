using System.Text.Json;
using RunbookEngine.Sdk;

namespace RunbookEngine.Alerts.Sources;

/// <summary>
/// Azure Monitor action group webhooks with the common alert schema (<c>schemaId: azureMonitorCommonAlertSchema</c>):
/// one alert per request, <c>{"schemaId", "data": {"essentials", "alertContext", "customProperties"}}</c>.
/// <list type="bullet">
/// <item>Name: <c>essentials.alertRule</c>. Status: <c>monitorCondition</c> <c>Fired</c> or <c>Resolved</c>.</item>
/// <item>Severity: <c>Sev0</c>–<c>Sev4</c> as Azure names them: critical, error, warning, informational, verbose (label <c>severity</c>;
/// the value as sent is label <c>azure_severity</c>).</item>
/// <item>Fingerprint: <c>essentials.alertId</c>, the alert instance, which its Fired and Resolved notifications share.</item>
/// <item>Labels from the essentials: <c>target</c> (the first of <c>alertTargetIDs</c>; with several, each as <c>target_0</c>…),
/// <c>resource</c>, <c>resource_group</c>, <c>subscription</c> (read from that first target), <c>configuration_items</c> (comma-joined),
/// <c>monitoring_service</c>, <c>signal_type</c>, <c>alert_context_version</c>.</item>
/// <item>From the alert context: metric alerts' <c>metric_name</c> and <c>metric_namespace</c>; log search alerts' <c>search_query</c> and
/// <c>link</c> (annotations); the <c>dimensions</c> of both as labels by their own names; activity log alerts' <c>operation_name</c>,
/// <c>operation_status</c>, <c>caller</c>, <c>event_source</c>, <c>level</c>, with their <c>properties</c> as <c>property.NAME</c> annotations.
/// The rule's custom properties (<c>data.customProperties</c>, and <c>alertContext.properties</c> of metric and log search alerts)
/// become labels too. Any other kind of alert is read from its essentials only.</item>
/// </list>
/// Labels the engine sets win over dimensions and custom properties of the same name.
/// </summary>
internal sealed class AzureMonitorSource : IAlertSource
{
    public const string SchemaId = "azureMonitorCommonAlertSchema";

    public string Name => "azure-monitor";

    public WebhookParseResult Parse(WebhookRequest request, DateTimeOffset receivedAt) =>
        WebhookJson.Parse(request, (root, raw) => Read(root, raw, receivedAt));

    private WebhookAccepted Read(Field root, string raw, DateTimeOffset receivedAt)
    {
        var schema = root.RequireString("schemaId");
        if (schema != SchemaId)
        {
            throw root.Get("schemaId")!.Value.Error($"expected \"{SchemaId}\", got \"{schema}\" (turn on the common alert schema in the action group)");
        }

        var data = root.RequireObject("data");
        var essentials = data.RequireObject("essentials");
        var rule = essentials.NonEmptyString("alertRule") ?? throw new PayloadException($"{essentials.ChildPath("alertRule")}: missing");
        var conditionField = essentials.Require("monitorCondition");
        var condition = conditionField.AsString();
        var status = condition switch
        {
            "Fired" => AlertStatus.Firing,
            "Resolved" => AlertStatus.Resolved,
            _ => throw conditionField.Error($"expected \"Fired\" or \"Resolved\", got \"{condition}\""),
        };
        var alertId = essentials.NonEmptyString("alertId") ?? throw new PayloadException($"{essentials.ChildPath("alertId")}: missing");

        var labels = WebhookJson.NewMap();
        var annotations = WebhookJson.NewMap();
        var sentSeverity = essentials.NonEmptyString("severity");
        var severity = Severity(sentSeverity);
        WebhookJson.Put(labels, "severity", severity);
        WebhookJson.Put(labels, "azure_severity", sentSeverity);
        WebhookJson.Put(labels, "monitoring_service", essentials.NonEmptyString("monitoringService"));
        WebhookJson.Put(labels, "signal_type", essentials.NonEmptyString("signalType"));
        WebhookJson.Put(labels, "alert_context_version", essentials.NonEmptyString("alertContextVersion"));
        Targets(labels, Strings(essentials, "alertTargetIDs"));
        if (Strings(essentials, "configurationItems") is { Count: > 0 } items)
        {
            labels["configuration_items"] = string.Join(",", items);
        }

        WebhookJson.Put(annotations, "description", essentials.NonEmptyString("description"));
        WebhookJson.Put(annotations, "origin_alert_id", essentials.NonEmptyString("originAlertId"));
        WebhookJson.Put(annotations, "alert_id", alertId);

        // Dimensions and custom properties come second so they cannot overwrite what the engine itself says about the alert.
        var extra = WebhookJson.NewMap();
        if (data.Get("alertContext") is { Kind: JsonValueKind.Object } context)
        {
            ReadContext(context, labels, extra, annotations);
        }

        if (data.Get("customProperties") is { Kind: JsonValueKind.Object } custom)
        {
            foreach (var property in custom.Element.EnumerateObject())
            {
                if (Loose(property.Value) is { } value)
                {
                    extra.TryAdd(property.Name, value);
                }
            }
        }

        foreach (var (key, value) in extra)
        {
            labels.TryAdd(key, value);
        }

        // A notification that misdates itself still counts; the raw value stays in the dedup key so a resend maps to the same one.
        var firedText = essentials.NonEmptyString("firedDateTime");
        var firedAt = firedText is not null && Rfc3339.TryParse(firedText, out var fired) ? fired : receivedAt;
        var resolvedAt = essentials.NonEmptyString("resolvedDateTime") is { } resolvedText && Rfc3339.TryParse(resolvedText, out var resolved) ? resolved : (DateTimeOffset?)null;
        var endsAt = status == AlertStatus.Resolved ? resolvedAt ?? receivedAt : (DateTimeOffset?)null;

        var alert = new RunbookAlert(
            Name,
            rule,
            status,
            severity,
            WebhookJson.Freeze(labels),
            WebhookJson.Freeze(annotations),
            firedAt,
            endsAt,
            alertId,
            DeliveryId: null,
            RawPayload: raw);
        return new WebhookAccepted([new ParsedAlert(alert, $"azure-monitor:{alertId}:{firedText ?? WebhookJson.KeyTime(firedAt)}:{WebhookJson.StatusText(status)}")], null);
    }

    /// <summary>The names Azure gives its severities; anything else is kept as sent.</summary>
    private static string? Severity(string? sent) => sent switch
    {
        null => null,
        "Sev0" => "critical",
        "Sev1" => "error",
        "Sev2" => "warning",
        "Sev3" => "informational",
        "Sev4" => "verbose",
        _ => sent,
    };

    /// <summary>
    /// The alert context's shape tells its kind: <c>condition.allOf</c> (metric alerts and log search alerts since API 2020-05-01),
    /// <c>SearchQuery</c> (older log search alerts) or <c>operationName</c> (activity log alerts). The context is informative rather than
    /// essential, so a field of an unexpected type there is skipped rather than refusing an alert Azure will not resend.
    /// </summary>
    private static void ReadContext(Field context, Dictionary<string, string> labels, Dictionary<string, string> extra, Dictionary<string, string> annotations)
    {
        var element = context.Element;
        if (Get(element, "condition") is { ValueKind: JsonValueKind.Object } condition && Get(condition, "allOf") is { ValueKind: JsonValueKind.Array } allOf)
        {
            var metrics = new List<string>();
            var namespaces = new List<string>();
            foreach (var criterion in allOf.EnumerateArray().Where(c => c.ValueKind == JsonValueKind.Object))
            {
                AddDistinct(metrics, Text(criterion, "metricName"));
                AddDistinct(namespaces, Text(criterion, "metricNamespace"));
                if (Text(criterion, "searchQuery") is { } query)
                {
                    annotations.TryAdd("search_query", query);
                }

                if ((Text(criterion, "linkToFilteredSearchResultsUI") ?? Text(criterion, "linkToSearchResultsUI")) is { } link)
                {
                    annotations.TryAdd("link", link);
                }

                Dimensions(Get(criterion, "dimensions"), extra);
            }

            if (metrics.Count > 0)
            {
                labels["metric_name"] = string.Join(",", metrics);
            }

            if (namespaces.Count > 0)
            {
                labels["metric_namespace"] = string.Join(",", namespaces);
            }

            // The rule's custom properties; log search alerts carry them only here, not in data.customProperties.
            if (Get(element, "properties") is { ValueKind: JsonValueKind.Object } properties)
            {
                foreach (var property in properties.EnumerateObject())
                {
                    if (Loose(property.Value) is { } value)
                    {
                        extra.TryAdd(property.Name, value);
                    }
                }
            }
        }
        else if (Text(element, "SearchQuery") is { } query)
        {
            annotations["search_query"] = query;
            WebhookJson.Put(annotations, "link", Text(element, "LinkToFilteredSearchResultsUI") ?? Text(element, "LinkToSearchResults"));
            WebhookJson.Put(labels, "alert_type", Text(element, "AlertType"));
            Dimensions(Get(element, "Dimensions"), extra);
        }
        else if (Text(element, "operationName") is { } operation)
        {
            labels["operation_name"] = operation;
            WebhookJson.Put(labels, "operation_status", Text(element, "status"));
            WebhookJson.Put(labels, "caller", Text(element, "caller"));
            WebhookJson.Put(labels, "event_source", Text(element, "eventSource"));
            WebhookJson.Put(labels, "level", Text(element, "level"));
            if (Get(element, "properties") is { ValueKind: JsonValueKind.Object } properties)
            {
                foreach (var property in properties.EnumerateObject())
                {
                    if (Loose(property.Value) is { } value)
                    {
                        annotations.TryAdd("property." + property.Name, value);
                    }
                }
            }
        }
    }

    /// <summary><c>[{"name": "Computer", "value": "db-1"}]</c>: each dimension a label under its own name.</summary>
    private static void Dimensions(JsonElement? dimensions, Dictionary<string, string> extra)
    {
        if (dimensions is not { ValueKind: JsonValueKind.Array } array)
        {
            return;
        }

        foreach (var dimension in array.EnumerateArray().Where(d => d.ValueKind == JsonValueKind.Object))
        {
            if (Text(dimension, "name") is { } name && Loose(Get(dimension, "value")) is { } value)
            {
                extra.TryAdd(name, value);
            }
        }
    }

    /// <summary>
    /// ARM ids read <c>/subscriptions/S/resourceGroups/G/providers/NS/TYPE/NAME</c>; Azure lowercases parts of them at will, so the
    /// segment names are matched ignoring case while the values keep theirs.
    /// </summary>
    private static void Targets(Dictionary<string, string> labels, List<string> targets)
    {
        if (targets.Count == 0)
        {
            return;
        }

        labels["target"] = targets[0];
        if (targets.Count > 1)
        {
            for (var i = 0; i < targets.Count; i++)
            {
                labels[$"target_{i}"] = targets[i];
            }
        }

        var segments = targets[0].Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i + 1 < segments.Length; i++)
        {
            if (segments[i].Equals("subscriptions", StringComparison.OrdinalIgnoreCase))
            {
                labels.TryAdd("subscription", segments[i + 1]);
            }
            else if (segments[i].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase))
            {
                labels.TryAdd("resource_group", segments[i + 1]);
            }
        }

        // A bare subscription or resource group is the scope, not a resource.
        if (segments.Length >= 2 && !segments[^2].Equals("subscriptions", StringComparison.OrdinalIgnoreCase) && !segments[^2].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase))
        {
            labels["resource"] = segments[^1];
        }
    }

    /// <summary>An optional array of strings in the essentials; Azure sends null for "none".</summary>
    private static List<string> Strings(Field parent, string name)
    {
        if (parent.Get(name) is not { } field)
        {
            return [];
        }

        if (field.Kind != JsonValueKind.Array)
        {
            throw field.Error($"expected an array, got {Field.KindName(field.Kind)}");
        }

        return [.. field.Items().Select(item => item.AsString()).Where(item => item.Length > 0)];
    }

    private static void AddDistinct(List<string> values, string? value)
    {
        if (value is not null && !values.Contains(value))
        {
            values.Add(value);
        }
    }

    private static JsonElement? Get(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string? Text(JsonElement element, string name) => Loose(Get(element, name));

    /// <summary>A string or a number as text (ServiceHealth sends <c>level</c> and <c>eventSource</c> as numbers); anything else is absent.</summary>
    private static string? Loose(JsonElement? element)
    {
        switch (element?.ValueKind)
        {
            case JsonValueKind.String:
                try
                {
                    return element.Value.GetString() is { Length: > 0 } text ? text : null;
                }
                catch (InvalidOperationException)
                {
                    return null;
                }

            case JsonValueKind.Number:
                return element.Value.GetRawText();
            default:
                return null;
        }
    }
}
