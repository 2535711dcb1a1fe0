using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using RunbookEngine.Storage;
using static RunbookEngine.Dashboard.Html;

namespace RunbookEngine.Dashboard.Pages;

/// <summary>The notifications outbox: deliveries that keep failing first, with a retry, and the latest of each state.</summary>
internal static class NotificationsPage
{
    private static readonly string[] States = ["failing", "pending", "delivered"];

    public static async Task<IResult> RenderAsync(HttpContext context, INotificationStore store, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var state = context.Request.Query["state"].ToString() is { Length: > 0 } asked && States.Contains(asked) ? asked : "failing";
        var rows = await store.ListNotificationsAsync(state, 100, cancellationToken);
        var body = new StringBuilder(Notice(context.Request.Query["notice"], context.Request.Query["error"] == "1"));
        body.Append("<div class=\"filters\">");
        foreach (var name in States)
        {
            body.Append(CultureInfo.InvariantCulture, $"<a href=\"/notifications?state={name}\"{(name == state ? " class=\"active\"" : "")}>{name}</a> ");
        }

        body.Append("</div>");
        body.Append("""<table id="notifications"><thead><tr><th>Event (UTC)</th><th>Event</th><th>Runbook</th><th>Channel</th><th>State</th><th>Attempts</th><th>Last error</th><th></th></tr></thead><tbody>""");
        foreach (var row in rows)
        {
            var run = row.RunId is { } id ? $" <a href=\"/runs/{E(id)}\" class=\"mono\">{E(id[^Math.Min(12, id.Length)..])}</a>" : "";
            var retry = row.State is "Failing" or "Abandoned"
                ? $"<form class=\"inline\" method=\"post\" action=\"/notifications/{E(row.Id)}/retry\">{Csrf(context)}{ActorField(context)}<button type=\"submit\" class=\"secondary\">Retry</button></form>"
                : "";
            body.Append(CultureInfo.InvariantCulture, $"""
                <tr data-notification="{E(row.Id)}"><td>{When(row.CreatedAt)}</td><td>{E(row.Event)}{run}</td><td>{E(row.Runbook)}</td><td>{E(row.Channel ?? "(routing)")}</td>
                <td>{Badge(row.State)}</td><td>{row.Attempts}</td><td>{E(row.LastError)}</td><td>{retry}</td></tr>
                """);
        }

        if (rows.Count == 0)
        {
            body.Append(CultureInfo.InvariantCulture, $"""<tr><td colspan="8" class="muted">No {E(state)} notifications.</td></tr>""");
        }

        body.Append("</tbody></table>");
        return Page(context, "Notifications", "Notifications", body.ToString(), started);
    }
}
