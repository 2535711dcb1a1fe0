using RunbookEngine.Sdk;

namespace RunbookEngine.Alerts.Sources;

/// <summary>One webhook request as received, before any parsing.</summary>
/// <param name="Body">The exact body bytes; signatures are computed over these, so they are never re-encoded.</param>
/// <param name="ContentType">The <c>Content-Type</c> header, when the request had one.</param>
/// <param name="Headers">The request headers; build with <see cref="StringComparer.OrdinalIgnoreCase"/>, since header names are case-insensitive.</param>
/// <param name="Query">The URL's query parameters, for the <c>token</c> credential; never stored or logged.</param>
public sealed record WebhookRequest(ReadOnlyMemory<byte> Body, string? ContentType, IReadOnlyDictionary<string, string> Headers, IReadOnlyDictionary<string, string>? Query = null);

/// <summary>One alert parsed from a webhook, with the key that identifies a resend of the same notification.</summary>
/// <param name="Alert">The normalised alert.</param>
/// <param name="DedupKey">Equal for a retry, a redelivery or the other half of an HA pair; different for a new state of the alert.</param>
/// <param name="GroupKey">The sender's own grouping of the alert, kept for incidents: Alertmanager's <c>groupKey</c>, PagerDuty's incident id.</param>
public sealed record ParsedAlert(RunbookAlert Alert, string DedupKey, string? GroupKey = null);

/// <summary>What a source made of a webhook request: <see cref="WebhookAccepted"/> or <see cref="WebhookRejected"/>.</summary>
public abstract record WebhookParseResult;

/// <summary>The request is well-formed; answer 2xx, even when it carried nothing to act on.</summary>
/// <param name="Alerts">The alerts it carried, possibly none (an acknowledgement, a ping).</param>
/// <param name="Note">Why there are no alerts, or anything else worth logging about the request.</param>
public sealed record WebhookAccepted(IReadOnlyList<ParsedAlert> Alerts, string? Note) : WebhookParseResult;

/// <summary>The request cannot be used; answer with <paramref name="StatusCode"/>. Senders do not retry 4xx, so the reason is what an operator will read.</summary>
/// <param name="StatusCode">400 for a bad body, 415 for the wrong content type.</param>
/// <param name="Reason">A short, precise reason naming the offending field, e.g. <c>alerts[1].startsAt: not an RFC 3339 timestamp</c>.</param>
public sealed record WebhookRejected(int StatusCode, string Reason) : WebhookParseResult;
