using Microsoft.Extensions.Options;
using RunbookEngine.Scripting.FrontMatter;

namespace RunbookEngine.Notifications;

/// <summary>
/// Refuses at start a channel that could never deliver (no kind, no URL, no secret) and a default route to an unknown
/// event or channel, which would otherwise be found only in the failing list after the first incident.
/// </summary>
internal sealed class NotificationValidation : IValidateOptions<RunbookEngineOptions>
{
    private const string Prefix = "RunbookEngine:Notifications:";

    public ValidateOptionsResult Validate(string? name, RunbookEngineOptions options)
    {
        var settings = options.Notifications;
        var errors = new List<string>();
        foreach (var (channel, c) in settings.Channels)
        {
            var at = $"{Prefix}Channels:{channel}:";
            switch (c.Kind?.ToLowerInvariant())
            {
                case "webhook":
                    RequireUrl(errors, at, c.Url);
                    if (c.Secret is not { } secret || !secret.StartsWith("whsec_", StringComparison.Ordinal) || !IsBase64(secret["whsec_".Length..]))
                    {
                        errors.Add($"{at}Secret must be whsec_ and base64 (whsec_$(openssl rand -base64 32)); receivers verify the signature with it");
                    }

                    break;
                case "slack":
                    if (c.Url is not null)
                    {
                        RequireUrl(errors, at, c.Url);
                    }

                    if (string.IsNullOrWhiteSpace(c.BotToken))
                    {
                        errors.Add($"{at}BotToken must be set: the Slack app's bot token (xoxb-...) with the chat:write scope");
                    }

                    if (string.IsNullOrWhiteSpace(c.Channel))
                    {
                        errors.Add($"{at}Channel must be set: the Slack channel's id (C0123456789), from its details");
                    }

                    // A name that is blank would answer steps as nobody; a key that is a user name would never match.
                    foreach (var (user, person) in c.People.Where(p => string.IsNullOrWhiteSpace(p.Value) || p.Key.Length < 2 || p.Key[0] is not ('U' or 'W')))
                    {
                        errors.Add($"{at}People:{user} must map a Slack user id (U0123ABCD, from the profile's Copy member ID) to a person's name; '{person}' under '{user}' does not");
                    }

                    // A user name is only worth anything within one workspace: another workspace's "carol" is anyone.
                    if (c.MapUserNames && string.IsNullOrWhiteSpace(c.TeamId))
                    {
                        errors.Add($"{at}MapUserNames needs {at}TeamId (the workspace's T0123ABCD): without it a user of any workspace the app reaches, named like one of your people, would answer as them");
                    }

                    if (c.TeamId is { } team && (team.Length < 2 || team[0] != 'T'))
                    {
                        errors.Add($"{at}TeamId must be the workspace's team id (T0123ABCD, from the workspace's URL or auth.test), not '{team}'");
                    }

                    break;
                case "teams":
                    RequireUrl(errors, at, c.Url);
                    break;
                case "email":
                    if (string.IsNullOrWhiteSpace(c.SmtpHost) || string.IsNullOrWhiteSpace(c.From) || c.To.Count == 0)
                    {
                        errors.Add($"{at}SmtpHost, From and To must be set for an email channel");
                    }

                    if (c.SmtpSecurity.ToLowerInvariant() is not ("starttls" or "tls" or "auto" or "none"))
                    {
                        errors.Add($"{at}SmtpSecurity must be starttls, tls, auto or none");
                    }

                    break;
                default:
                    errors.Add($"{at}Kind must be webhook, slack, teams or email");
                    break;
            }
        }

        foreach (var (notifyEvent, channels) in settings.Defaults)
        {
            if (!NotifyEvents.All.Contains(notifyEvent))
            {
                errors.Add($"{Prefix}Defaults:{notifyEvent} is not an event; use {string.Join(", ", NotifyEvents.All)}");
            }

            foreach (var channel in channels.Where(c => !settings.Channels.ContainsKey(c)))
            {
                errors.Add($"{Prefix}Defaults:{notifyEvent} names channel '{channel}', which is not configured under {Prefix}Channels");
            }
        }

        if (settings.DashboardUrl is { Length: > 0 } dashboard && !IsHttpUrl(dashboard))
        {
            errors.Add($"{Prefix}DashboardUrl must be an absolute http(s) URL, the address people open the dashboard at");
        }

        if (settings.PollInterval < TimeSpan.FromMilliseconds(50) || settings.Timeout < TimeSpan.FromSeconds(1) || settings.FirstBackoff <= TimeSpan.Zero
            || settings.MaxBackoff < settings.FirstBackoff || settings.MaxAttempts < 1)
        {
            errors.Add($"{Prefix}PollInterval must be at least 50 ms, Timeout at least 1 s, FirstBackoff positive and at most MaxBackoff, and MaxAttempts at least 1");
        }

        return errors.Count > 0 ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }

    private static void RequireUrl(List<string> errors, string at, string? url)
    {
        if (url is null || !IsHttpUrl(url))
        {
            errors.Add($"{at}Url must be an absolute http(s) URL");
        }
    }

    private static bool IsHttpUrl(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";

    private static bool IsBase64(string text) => text.Length > 0 && Convert.TryFromBase64String(text, new byte[text.Length], out _);
}
