using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using RunbookEngine.Sdk;

namespace RunbookEngine.Alerts.Sources;

/// <summary>
/// Amazon SNS HTTP/HTTPS deliveries carrying CloudWatch alarms. The envelope is <c>{"Type", "MessageId", "TopicArn", "Message",
/// "Timestamp", "Signature", ...}</c>; a <c>Notification</c>'s <c>Message</c> is the alarm, itself JSON as a string.
/// <list type="bullet">
/// <item>Name: <c>AlarmName</c>. Status: <c>NewStateValue</c> <c>ALARM</c> fires, <c>OK</c> resolves; <c>INSUFFICIENT_DATA</c> fires only
/// when <see cref="AwsSnsOptions.InsufficientDataFires"/> is on, and otherwise carries no alert.</item>
/// <item>Fingerprint: <c>AlarmArn</c>, or the topic and alarm name for alarms too old to send one; both are the same for every state of the alarm.</item>
/// <item>Labels: <c>region</c> and <c>account</c> (from the alarm's ARN, else the topic's), <c>namespace</c>, <c>metric</c>,
/// <c>alarm_state</c>, <c>topic</c>, and each of <c>Trigger.Dimensions</c> under its own name (engine labels win a clash).
/// Metric math alarms give the names and namespaces of their metrics, comma-joined.</item>
/// </list>
/// Signatures, topics and subscriptions are checked by <see cref="AwsSnsReceiver"/> before this runs; this reads, it does not trust.
/// A verified notification that is not an alarm is accepted with no alerts, since Amazon would only resend it.
/// </summary>
/// <param name="insufficientDataFires">Whether <c>INSUFFICIENT_DATA</c> fires an alert.</param>
internal sealed partial class AwsSnsSource(bool insufficientDataFires = false) : IAlertSource
{
    public const string SourceName = "aws-sns";

    public string Name => SourceName;

    public WebhookParseResult Parse(WebhookRequest request, DateTimeOffset receivedAt)
    {
        SnsEnvelope? envelope = null;
        var parsed = WebhookJson.Parse(
            request,
            (root, raw) =>
            {
                envelope = SnsEnvelope.Read(root);
                return envelope.Type == SnsEnvelope.Notification
                    ? Read(envelope, raw, receivedAt)
                    : new WebhookAccepted([], $"an SNS {envelope.Type}; it carries no alert");
            },
            acceptTextPlain: true);
        return parsed;
    }

    /// <summary>The envelope alone, for the receiver's checks; a rejection when the body is not an SNS message.</summary>
    public static (SnsEnvelope? Envelope, WebhookRejected? Rejected) ReadEnvelope(WebhookRequest request)
    {
        SnsEnvelope? envelope = null;
        var parsed = WebhookJson.Parse(
            request,
            (root, _) =>
            {
                envelope = SnsEnvelope.Read(root);
                return new WebhookAccepted([], null);
            },
            acceptTextPlain: true);
        return parsed is WebhookRejected rejected ? (null, rejected) : (envelope, null);
    }

    private WebhookAccepted Read(SnsEnvelope envelope, string raw, DateTimeOffset receivedAt)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(envelope.Message);
        }
        catch (JsonException)
        {
            return new WebhookAccepted([], "the SNS message is not JSON, so not a CloudWatch alarm; nothing to do");
        }

        using (document)
        {
            var root = new Field(document.RootElement, "Message");
            if (root.Kind != JsonValueKind.Object || root.Get("AlarmName") is not { Kind: JsonValueKind.String })
            {
                return new WebhookAccepted([], "the SNS message has no AlarmName, so is not a CloudWatch alarm; nothing to do");
            }

            try
            {
                return ReadAlarm(root, envelope, raw, receivedAt);
            }
            catch (PayloadException e)
            {
                // Signed by Amazon and never going to read differently: refusing it would only have SNS resend it.
                return new WebhookAccepted([], "the CloudWatch alarm cannot be read, so nothing was stored: " + e.Message);
            }
        }
    }

    private WebhookAccepted ReadAlarm(Field alarm, SnsEnvelope envelope, string raw, DateTimeOffset receivedAt)
    {
        var name = alarm.NonEmptyString("AlarmName") ?? throw new PayloadException("Message.AlarmName: empty");
        var stateField = alarm.Require("NewStateValue");
        var state = stateField.AsString();
        AlertStatus status;
        switch (state)
        {
            case "ALARM":
                status = AlertStatus.Firing;
                break;
            case "OK":
                status = AlertStatus.Resolved;
                break;
            case "INSUFFICIENT_DATA" when insufficientDataFires:
                status = AlertStatus.Firing;
                break;
            case "INSUFFICIENT_DATA":
                return new WebhookAccepted([], $"alarm {name} entered INSUFFICIENT_DATA; recorded in the log, fires nothing (RunbookEngine:Alerts:AwsSns:InsufficientDataFires is off)");
            default:
                throw stateField.Error($"expected \"ALARM\", \"OK\" or \"INSUFFICIENT_DATA\", got \"{state}\"");
        }

        var alarmArn = alarm.NonEmptyString("AlarmArn");
        var arn = alarmArn ?? envelope.TopicArn;
        var labels = WebhookJson.NewMap();
        var annotations = WebhookJson.NewMap();
        WebhookJson.Put(labels, "region", ArnPart(arn, 3));
        WebhookJson.Put(labels, "account", alarm.Scalar("AWSAccountId") ?? ArnPart(arn, 4));
        WebhookJson.Put(labels, "alarm_state", state);
        labels["topic"] = envelope.TopicArn;

        var extra = WebhookJson.NewMap();
        if (alarm.Get("Trigger") is { Kind: JsonValueKind.Object } trigger)
        {
            ReadTrigger(trigger, labels, extra, annotations);
        }

        foreach (var (key, value) in extra)
        {
            labels.TryAdd(key, value);
        }

        WebhookJson.Put(annotations, "description", alarm.Get("AlarmDescription") is { Kind: JsonValueKind.String } d && d.AsString() is { Length: > 0 } description ? description : null);
        WebhookJson.Put(annotations, "reason", alarm.Get("NewStateReason") is { Kind: JsonValueKind.String } r ? r.AsString() : null);
        WebhookJson.Put(annotations, "old_state", alarm.Get("OldStateValue") is { Kind: JsonValueKind.String } o ? o.AsString() : null);
        WebhookJson.Put(annotations, "region_name", alarm.Get("Region") is { Kind: JsonValueKind.String } g ? g.AsString() : null);
        WebhookJson.Put(annotations, "alarm_arn", alarmArn);
        WebhookJson.Put(annotations, "subject", envelope.Subject);
        annotations["message_id"] = envelope.MessageId;

        var changeText = alarm.Get("StateChangeTime") is { Kind: JsonValueKind.String } t ? t.AsString() : null;
        var changedAt = changeText is not null && TryParseTime(changeText, out var changed) ? changed
            : TryParseTime(envelope.Timestamp, out var published) ? published : receivedAt;
        var fingerprint = alarmArn ?? $"{envelope.TopicArn}:alarm:{name}";
        var alert = new RunbookAlert(
            Name,
            name,
            status,
            Severity: null,
            WebhookJson.Freeze(labels),
            WebhookJson.Freeze(annotations),
            changedAt,
            status == AlertStatus.Resolved ? changedAt : null,
            fingerprint,
            DeliveryId: envelope.MessageId,
            RawPayload: raw);

        // The same state change published to two subscribed topics is one alert; a retry of one message is the same key too.
        return new WebhookAccepted([new ParsedAlert(alert, $"aws-sns:{fingerprint}:{changeText ?? envelope.MessageId}:{state}")], null);
    }

    /// <summary>A single-metric alarm names its metric; a metric math alarm lists <c>Metrics[].MetricStat.Metric</c> instead.</summary>
    private static void ReadTrigger(Field trigger, Dictionary<string, string> labels, Dictionary<string, string> extra, Dictionary<string, string> annotations)
    {
        var metrics = new List<string>();
        var namespaces = new List<string>();
        AddMetric(trigger.Element, metrics, namespaces, extra);
        if (Get(trigger.Element, "Metrics") is { ValueKind: JsonValueKind.Array } list)
        {
            foreach (var item in list.EnumerateArray())
            {
                if (Get(item, "MetricStat") is { } stat && Get(stat, "Metric") is { ValueKind: JsonValueKind.Object } metric)
                {
                    AddMetric(metric, metrics, namespaces, extra);
                }
            }
        }

        if (metrics.Count > 0)
        {
            labels["metric"] = string.Join(",", metrics);
        }

        if (namespaces.Count > 0)
        {
            labels["namespace"] = string.Join(",", namespaces);
        }

        WebhookJson.Put(annotations, "statistic", Text(trigger.Element, "Statistic") ?? Text(trigger.Element, "ExtendedStatistic"));
        WebhookJson.Put(annotations, "comparison_operator", Text(trigger.Element, "ComparisonOperator"));
        WebhookJson.Put(annotations, "threshold", Text(trigger.Element, "Threshold"));
    }

    private static void AddMetric(JsonElement metric, List<string> metrics, List<string> namespaces, Dictionary<string, string> extra)
    {
        if (Text(metric, "MetricName") is { } name && !metrics.Contains(name))
        {
            metrics.Add(name);
        }

        if (Text(metric, "Namespace") is { } ns && !namespaces.Contains(ns))
        {
            namespaces.Add(ns);
        }

        // SNS alarms write dimensions [{"name", "value"}]; the metric math form capitalises them.
        if (Get(metric, "Dimensions") is { ValueKind: JsonValueKind.Array } dimensions)
        {
            foreach (var dimension in dimensions.EnumerateArray())
            {
                if ((Text(dimension, "name") ?? Text(dimension, "Name")) is { } key && (Text(dimension, "value") ?? Text(dimension, "Value")) is { } value)
                {
                    extra.TryAdd(key, value);
                }
            }
        }
    }

    /// <summary>The n-th colon-separated part of an ARN (3 region, 4 account), or null when there is none.</summary>
    private static string? ArnPart(string arn, int index)
    {
        var parts = arn.Split(':');
        return parts.Length > index && parts[0] == "arn" && parts[index].Length > 0 ? parts[index] : null;
    }

    /// <summary>CloudWatch writes <c>2015-05-26T07:49:42.541+0000</c>, an offset without its colon; SNS's own timestamps are RFC 3339.</summary>
    private static bool TryParseTime(string text, out DateTimeOffset value)
    {
        var fixedText = NoColonOffset().IsMatch(text) ? text[..^2] + ":" + text[^2..] : text;
        return Rfc3339.TryParse(fixedText, out value);
    }

    private static JsonElement? Get(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    /// <summary>A string, or a number as written (thresholds); anything else is absent.</summary>
    private static string? Text(JsonElement element, string name) => Get(element, name) switch
    {
        { ValueKind: JsonValueKind.String } text => text.GetString() is { Length: > 0 } s ? s : null,
        { ValueKind: JsonValueKind.Number } number => number.GetRawText(),
        _ => null,
    };

    [GeneratedRegex(@"[+-]\d{4}$", RegexOptions.CultureInvariant)]
    private static partial Regex NoColonOffset();
}

/// <summary>An SNS HTTP/HTTPS message: the envelope of a notification or of a subscription's confirmation.</summary>
internal sealed record SnsEnvelope(
    string Type,
    string MessageId,
    string TopicArn,
    string Message,
    string Timestamp,
    string? Subject,
    string? Token,
    string? SubscribeUrl,
    string? SignatureVersion,
    string? Signature,
    string? SigningCertUrl)
{
    public const string Notification = "Notification";
    public const string SubscriptionConfirmation = "SubscriptionConfirmation";
    public const string UnsubscribeConfirmation = "UnsubscribeConfirmation";

    public static SnsEnvelope Read(Field root)
    {
        var typeField = root.Require("Type");
        var type = typeField.AsString();
        if (type is not (Notification or SubscriptionConfirmation or UnsubscribeConfirmation))
        {
            throw typeField.Error($"expected \"{Notification}\", \"{SubscriptionConfirmation}\" or \"{UnsubscribeConfirmation}\", got \"{type}\"");
        }

        var confirmation = type != Notification;
        return new SnsEnvelope(
            type,
            root.RequireString("MessageId"),
            root.NonEmptyString("TopicArn") ?? throw new PayloadException("TopicArn: missing"),
            root.RequireString("Message"),
            root.RequireString("Timestamp"),
            confirmation ? null : root.String("Subject"),
            confirmation ? root.RequireString("Token") : null,
            confirmation ? root.RequireString("SubscribeURL") : null,
            root.String("SignatureVersion"),
            root.NonEmptyString("Signature"),
            root.NonEmptyString("SigningCertURL"));
    }

    /// <summary>
    /// What SNS signs: each field as <c>Name\nvalue\n</c>, in this order. A notification's <c>Subject</c> is signed only when it was sent;
    /// confirmations sign their <c>SubscribeURL</c> and <c>Token</c> instead.
    /// </summary>
    public byte[] StringToSign()
    {
        var text = new StringBuilder();
        Add("Message", Message);
        Add("MessageId", MessageId);
        if (Type == Notification)
        {
            if (Subject is not null)
            {
                Add("Subject", Subject);
            }
        }
        else
        {
            Add("SubscribeURL", SubscribeUrl!);
        }

        Add("Timestamp", Timestamp);
        if (Type != Notification)
        {
            Add("Token", Token!);
        }

        Add("TopicArn", TopicArn);
        Add("Type", Type);
        return Encoding.UTF8.GetBytes(text.ToString());

        void Add(string name, string value) => text.Append(name).Append('\n').Append(value).Append('\n');
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Type} {MessageId} from {TopicArn}");
}
