namespace RunbookEngine.Notifications;

/// <summary>One named channel, section <c>RunbookEngine:Notifications:Channels:NAME</c>.</summary>
public sealed class NotificationChannelOptions
{
    /// <summary><c>webhook</c> (signed per Standard Webhooks), <c>slack</c>, <c>teams</c> or <c>email</c>. Required.</summary>
    public string? Kind { get; set; }

    /// <summary>
    /// Where it is sent: the receiver's URL for <c>webhook</c>, the Workflows webhook URL for <c>teams</c>, and for
    /// <c>slack</c> the Web API's base (default <c>https://slack.com/api</c>).
    /// </summary>
    public string? Url { get; set; }

    /// <summary>For <c>webhook</c>: the signing secret, <c>whsec_</c> and base64 (<c>whsec_$(openssl rand -base64 32)</c>). Required.</summary>
    public string? Secret { get; set; }

    /// <summary>For <c>slack</c>: the bot token (<c>xoxb-...</c>) with the <c>chat:write</c> scope. Required.</summary>
    public string? BotToken { get; set; }

    /// <summary>For <c>slack</c>: the channel id (<c>C0123456789</c>) messages are posted to. Required.</summary>
    public string? Channel { get; set; }

    /// <summary>
    /// For <c>slack</c>: the app's signing secret, which verifies the Approve and Reject callbacks at
    /// <c>/hooks/slack/interactions</c>. None: messages carry no buttons and every callback is refused.
    /// </summary>
    public string? SigningSecret { get; set; }

    /// <summary>
    /// For <c>slack</c>: Slack user id (<c>U0123ABCD</c>) → the person's name as <c>RunbookEngine:Roles</c> and the
    /// journal know them. A user not listed is refused and told which id to add here, unless <see cref="MapUserNames"/>.
    /// </summary>
    public Dictionary<string, string> People { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// For <c>slack</c>: the workspace's team id (<c>T0123ABCD</c>). Set: a callback whose <c>team.id</c> or
    /// <c>user.team_id</c> is another (a Slack Connect user, another workspace the app is installed in) is refused.
    /// </summary>
    public string? TeamId { get; set; }

    /// <summary>
    /// For <c>slack</c>: an unmapped Slack user answers under their Slack user name. Off by default, because users choose
    /// their own names; needs <see cref="TeamId"/>.
    /// </summary>
    public bool MapUserNames { get; set; }

    /// <summary>For <c>email</c>: the recipients. Required.</summary>
    public List<string> To { get; set; } = [];

    /// <summary>For <c>email</c>: the sender address. Required.</summary>
    public string? From { get; set; }

    /// <summary>For <c>email</c>: the SMTP server's host name. Required.</summary>
    public string? SmtpHost { get; set; }

    /// <summary>For <c>email</c>: the SMTP server's port. Default 587.</summary>
    public int SmtpPort { get; set; } = 587;

    /// <summary>
    /// For <c>email</c>: <c>starttls</c> (upgrade, and refuse a server that cannot; the default), <c>tls</c> (TLS from
    /// the first byte, port 465), <c>auto</c> (upgrade when the server offers it) or <c>none</c> (plain text; a local relay only).
    /// </summary>
    public string SmtpSecurity { get; set; } = "starttls";

    /// <summary>For <c>email</c>: the SMTP user, if the server asks for one.</summary>
    public string? SmtpUser { get; set; }

    /// <summary>For <c>email</c>: the SMTP password.</summary>
    public string? SmtpPassword { get; set; }
}
