using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RunbookEngine.Access;
using RunbookEngine.Sdk;

namespace RunbookEngine.Dashboard;

/// <summary>The pieces every page is made of: encoding, the layout, badges, times, and the anti-forgery token.</summary>
internal static class Html
{
    private const string NameCookie = "rbe-name";

    /// <summary>Text made safe for HTML content and attribute values.</summary>
    public static string E(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    /// <summary>A query-string value.</summary>
    public static string U(string? text) => Uri.EscapeDataString(text ?? "");

    /// <summary>A whole page: the navigation, the body, and the time it took on the server (<c>Server-Timing</c>).</summary>
    public static IResult Page(HttpContext context, string title, string active, string body, long startedAt, string? head = null)
    {
        var who = AccessIdentity.Name(context.User);
        var nav = new StringBuilder();
        foreach (var (href, label) in new[] { ("/", "Runs"), ("/runbooks", "Runbooks"), ("/alerts", "Alerts"), ("/incidents", "Incidents"), ("/toil", "Toil"), ("/notifications", "Notifications"), ("/slos", "SLOs") })
        {
            nav.Append(CultureInfo.InvariantCulture, $"<a href=\"{href}\"{(label == active ? " class=\"active\"" : "")}>{label}</a>");
        }

        var page = $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{E(title)}} · RunbookEngine</title>
            <style>{{Style}}</style>
            {{head}}
            </head>
            <body>
            <header><span class="brand">RunbookEngine</span><nav>{{nav}}</nav><span class="who">{{(who is null ? "local" : "signed in as " + E(who))}}</span>{{(who is null ? "" : $"<form method=\"post\" action=\"/signout\" class=\"inline signout\">{Csrf(context)}<button type=\"submit\" class=\"secondary\">Sign out</button></form>")}}</header>
            <main>
            <h1>{{E(title)}}</h1>
            {{body}}
            </main>
            </body>
            </html>
            """;
        context.Response.Headers["Server-Timing"] = $"render;dur={Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)}";
        context.Response.Headers.CacheControl = "no-store";
        return Results.Content(page, "text/html; charset=utf-8");
    }

    public static string Badge(string status) => $"<span class=\"badge s-{E(status)}\">{E(status)}</span>";

    public static string When(DateTimeOffset? at) =>
        at is { } value ? $"<time datetime=\"{value.UtcDateTime:O}\">{value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}</time>" : "–";

    public static string Took(DateTimeOffset? from, DateTimeOffset? to) => from is { } a && to is { } b ? E(Durations.Format(b - a)) : "–";

    public static string Num(double? value, string format = "0.##") => value?.ToString(format, CultureInfo.InvariantCulture) ?? "–";

    /// <summary>
    /// The hidden anti-forgery field of a form: ASP.NET Core antiforgery, its cookie and field signed with the key ring
    /// every node shares (so a form rendered by one node can be posted to another) and bound to who is signed in, so a
    /// pair obtained as someone else, or planted by a same-site page, is refused.
    /// </summary>
    public static string Csrf(HttpContext context)
    {
        // GetAndStoreTokens keeps one cookie per response however many forms the page has.
        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        return $"<input type=\"hidden\" name=\"{E(tokens.FormFieldName)}\" value=\"{E(tokens.RequestToken)}\">";
    }

    public static Task<bool> CsrfValidAsync(HttpContext context) =>
        context.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(context);

    /// <summary>
    /// Who acts: the signed-in name, else (a loopback caller, who has no account) the name typed into the form,
    /// remembered in a cookie for the next form.
    /// </summary>
    public static string ActorField(HttpContext context) =>
        AccessIdentity.Name(context.User) is { } who
            ? $"<span class=\"as\">as {E(who)}</span>"
            : $"<input name=\"by\" placeholder=\"your name\" required size=\"10\" value=\"{E(context.Request.Cookies[NameCookie])}\">";

    public static string? Actor(HttpContext context, IFormCollection form)
    {
        if (AccessIdentity.Name(context.User) is { } who)
        {
            return who;
        }

        var typed = form["by"].ToString().Trim();
        if (typed.Length == 0)
        {
            return null;
        }

        context.Response.Cookies.Append(NameCookie, typed, new CookieOptions { SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/", MaxAge = TimeSpan.FromDays(365) });
        return typed;
    }

    public static string Notice(string? text, bool error = false) =>
        text is { Length: > 0 } ? $"<p class=\"notice{(error ? " error" : "")}\" role=\"status\">{E(text)}</p>" : "";

    private const string Style = """
        :root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f8f9fb; --accent: #2f5fd0; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
        header { display: flex; gap: 24px; align-items: center; padding: 10px 24px; background: #141a29; color: #fff; }
        header .brand { font-weight: 600; letter-spacing: .02em; }
        header nav a { color: #c9d2e3; text-decoration: none; margin-right: 16px; }
        header nav a.active, header nav a:hover { color: #fff; border-bottom: 2px solid #7aa2ff; }
        header .who { margin-left: auto; color: #c9d2e3; font-size: 13px; }
        main { padding: 16px 24px 48px; max-width: 1400px; }
        h1 { font-size: 20px; margin: 4px 0 16px; }
        h2 { font-size: 16px; margin: 24px 0 8px; }
        a { color: var(--accent); }
        table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
        th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; background: #fbfcfd; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
        pre { background: #0f1420; color: #e6e9ef; padding: 10px 12px; border-radius: 6px; overflow: auto; max-height: 420px; white-space: pre-wrap; word-break: break-word; }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #eef0f4; color: #344054; }
        .s-Succeeded, .s-closed, .s-Started { background: #e3f6ea; color: #137a3a; }
        .s-Failed, .s-TimedOut, .s-open, .s-Suppressed { background: #fde8e7; color: #b42318; }
        .s-Running, .s-Matching, .s-Pending { background: #e6efff; color: #2f5fd0; }
        .s-WaitingForHuman, .s-Guarded, .s-Cooldown, .s-Busy { background: #fff4d6; color: #8a5a00; }
        .s-Queued, .s-Cancelled, .s-Skipped, .s-Interrupted, .s-Duplicate, .s-Resolution { background: #eef0f4; color: #475467; }
        .s-ok { background: #e3f6ea; color: #137a3a; } .s-low { background: #fff4d6; color: #8a5a00; } .s-exhausted, .s-unknown { background: #fde8e7; color: #b42318; }
        .s-Unautomated { background: #f4e8ff; color: #6b2fb3; }
        .s-fresh { background: #e3f6ea; color: #137a3a; } .s-aging { background: #fff4d6; color: #8a5a00; } .s-stale { background: #fde8e7; color: #b42318; }
        .s-Proposed, .s-shadow, .s-confirm { background: #e8f4f8; color: #0b6378; }
        form.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin-bottom: 12px; }
        form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
        input, select, button, textarea { font: inherit; padding: 4px 8px; border: 1px solid #cfd4dc; border-radius: 5px; background: #fff; }
        button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
        button.secondary { background: #fff; color: var(--fg); border-color: #cfd4dc; }
        button.danger { background: #b42318; border-color: #b42318; }
        form.inline { display: inline-flex; gap: 6px; align-items: center; margin: 0 6px 0 0; }
        .notice { padding: 8px 12px; background: #e6efff; border-radius: 6px; }
        .notice.error { background: #fde8e7; color: #b42318; }
        .muted { color: var(--muted); }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 12px; margin-bottom: 16px; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
        .card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
        .card .value { font-size: 22px; font-weight: 600; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0 0 12px; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; }
        .pager { margin-top: 10px; display: flex; gap: 12px; }
        svg text { font: 11px system-ui, sans-serif; fill: #475467; }
        details > summary { cursor: pointer; color: var(--accent); }
        .step { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; margin-bottom: 8px; }
        .step h3 { font-size: 14px; margin: 0 0 4px; display: flex; gap: 8px; align-items: center; }
        """;
}
