using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using RunbookEngine.Catalog;
using RunbookEngine.GitHub;
using RunbookEngine.Runs;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.Toil;
using static RunbookEngine.Dashboard.Html;

namespace RunbookEngine.Dashboard.Pages;

/// <summary>One run: its step timeline, each step's output, what started it, the version that ran, and what a person can do.</summary>
internal static class RunPage
{
    public static async Task<IResult> RenderAsync(string id, HttpContext context, IRunStore store, IAlertStore alerts, IVersionStore versions, RunbookCatalog catalog, IOptions<RunbookEngineOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var run = await store.GetRunAsync(id, cancellationToken);
        if (run is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Page(context, "No such run", "Runs", Notice($"There is no run '{id}'.", error: true), started);
        }

        var steps = await store.GetStepsAsync(id, cancellationToken);
        var live = Live(context, run, steps, time);
        if (context.Request.Query["fragment"] == "1")
        {
            // The live view asks for just this part while the run goes on.
            return Results.Content(live, "text/html; charset=utf-8");
        }

        var body = new StringBuilder();
        body.Append(Notice(context.Request.Query["notice"], context.Request.Query["error"] == "1"));
        body.Append(CultureInfo.InvariantCulture, $"<div id=\"live\" data-terminal=\"{(run.IsTerminal ? "1" : "0")}\">{live}</div>");
        body.Append(TrustSections.Proposal(context, run));
        body.Append(Actions(context, run));

        var retries = await store.ListRunsAsync(new RunQuery(RetryOf: run.Id, Limit: 20), cancellationToken);
        if (run.RetryOf is not null || retries.Count > 0)
        {
            body.Append("<h2>Retries</h2><ul>");
            if (run.RetryOf is { } of)
            {
                body.Append(CultureInfo.InvariantCulture, $"<li>retries <a href=\"/runs/{E(of)}\" class=\"mono\">{E(of)}</a></li>");
            }

            foreach (var retry in retries)
            {
                body.Append(CultureInfo.InvariantCulture, $"<li>retried by <a href=\"/runs/{E(retry.Id)}\" class=\"mono\">{E(retry.Id)}</a> {Badge(retry.Status.ToString())}</li>");
            }

            body.Append("</ul>");
        }

        body.Append("<h2>Parameters</h2>");
        var parameters = RunParameters.Masked(run, catalog);
        body.Append(parameters.Count == 0 ? "<p class=\"muted\">none</p>" : "<table id=\"parameters\"><tbody>" + string.Concat(parameters.Select(p => $"<tr><th>{E(p.Key)}</th><td class=\"mono\">{E(p.Value)}</td></tr>")) + "</tbody></table>");

        if (run.AlertId is { } alertId && await alerts.GetAlertAsync(alertId, cancellationToken) is { } alert)
        {
            var payload = await alerts.GetPayloadAsync(alert.DeliveryRowId, cancellationToken);
            body.Append(CultureInfo.InvariantCulture, $"""
                <h2>Alert</h2>
                <dl class="facts" id="alert">
                <dt>Alert</dt><dd>{E(alert.Alert.Name)} {Badge(alert.Outcome.ToString())} <span class="muted">from {E(alert.Alert.Source)}</span></dd>
                <dt>Status</dt><dd>{E(alert.Alert.Status.ToString())}, started {When(alert.Alert.StartsAt)}{(alert.ResolvedAt is { } r ? ", resolved " + When(r) : "")}</dd>
                <dt>Labels</dt><dd class="mono">{E(string.Join(", ", alert.Alert.Labels.Select(l => $"{l.Key}={l.Value}")))}</dd>
                <dt>Fingerprint</dt><dd class="mono">{E(alert.Alert.Fingerprint)}</dd>
                {(alert.IncidentId is { } incident ? $"<dt>Incident</dt><dd><a href=\"/incidents/{U(incident)}\" id=\"incident-link\">{E(incident)}</a></dd>" : "")}
                </dl>
                <details><summary>Raw payload</summary><pre id="payload">{E(payload)}</pre></details>
                """);
        }

        // Exactly the source that ran: the version the run is pinned to, as the catalog recorded it.
        if (await versions.GetVersionAsync(run.Runbook, run.ContentHash, cancellationToken) is { } version)
        {
            var provenance = Provenance.Of(version, options.Value.GitHub);
            body.Append(CultureInfo.InvariantCulture, $"<h2>Source</h2><p class=\"muted\" id=\"provenance\">version {E(version.ContentHash[..12])}{(provenance is { } p ? ", commit " + CommitLink(p) : "")}{(version.Author is { } author ? $" by {E(author)}" : "")}{(version.Message is { } message ? $": {E(message)}" : "")}{(provenance?.PullRequest is { } pr ? ", pull request " + PullRequestLink(pr) : "")}</p>");
            foreach (var file in version.Files)
            {
                body.Append(CultureInfo.InvariantCulture, $"<details class=\"source\"><summary class=\"mono\">{E(file.Path)}</summary><pre>{E(file.Text)}</pre></details>");
            }
        }

        var script = run.IsTerminal ? "" : $$"""
            <script>
            // Live while the run goes on: the steps part is fetched again every two seconds until the run has ended.
            // It is replaced only when it changed, and never while someone is filling in an answer, so typing survives.
            (function () {
              const live = document.getElementById('live');
              let last = live.innerHTML;
              function typing() {
                return Array.from(live.querySelectorAll('form input[name]:not([type=hidden])')).some(i => i.value !== i.defaultValue)
                  || (document.activeElement && live.contains(document.activeElement) && document.activeElement.closest('form'));
              }
              async function refresh() {
                if (live.dataset.terminal === '1') return;
                try {
                  const response = await fetch(location.pathname + '?fragment=1', { cache: 'no-store' });
                  const html = response.ok ? await response.text() : null;
                  if (html !== null && html !== last && !typing()) {
                    last = html;
                    live.innerHTML = html;
                    if (live.querySelector('[data-terminal="1"]')) { live.dataset.terminal = '1'; location.reload(); return; }
                  }
                } catch (e) { }
                setTimeout(refresh, 2000);
              }
              setTimeout(refresh, 2000);
            })();
            </script>
            """;
        return Page(context, $"Run {run.Id[^12..]} of {run.Runbook}", "Runs", body + script, started);
    }

    /// <summary>The commit, short, linking to its page on GitHub when the repository is known.</summary>
    private static string CommitLink(Provenance provenance)
    {
        // A folder's "sha-dirty" stays whole: shortened, it would pass for a commit that exists.
        var shown = provenance.Commit.Length >= 40 && !provenance.Commit.Contains('-', StringComparison.Ordinal) ? provenance.Commit[..7] : provenance.Commit;
        return provenance.CommitUrl is { } url
            ? $"<a class=\"mono\" href=\"{E(url)}\" title=\"{E(provenance.Commit)}\">{E(shown)}</a>"
            : $"<span class=\"mono\" title=\"{E(provenance.Commit)}\">{E(shown)}</span>";
    }

    private static string PullRequestLink(PullRequestReference pullRequest)
    {
        var number = "#" + pullRequest.Number.ToString(CultureInfo.InvariantCulture);
        return pullRequest.Url is { } url ? $"<a href=\"{E(url)}\">{number}</a>" : number;
    }

    /// <summary>The part that changes while a run goes on: facts, toil, timeline, steps (with the answer forms of waiting steps).</summary>
    private static string Live(HttpContext context, RunRecord run, IReadOnlyList<StepOutcome> steps, TimeProvider time)
    {
        var toil = ToilCalculator.ForRun(run.Status, run.StartedAt, run.FinishedAt, run.ManualMinutes, steps, ToilCalculator.Acted(run.Trigger, run.Mode));
        var body = new StringBuilder();
        body.Append(CultureInfo.InvariantCulture, $"""
            <span hidden data-terminal="{(run.IsTerminal ? "1" : "0")}"></span>
            <dl class="facts" id="facts">
            <dt>Status</dt><dd id="status">{Badge(run.Status.ToString())} {E(run.Error)}</dd>
            <dt>Runbook</dt><dd><a href="/runbooks/{E(run.Runbook)}">{E(run.Runbook)}</a></dd>
            <dt>Version</dt><dd class="mono"><a href="/api/runbooks/{E(run.Runbook)}/versions/{E(run.ContentHash)}/source">{E(run.ContentHash[..12])}</a>{(run.Commit is { } c ? " at commit " + E(c) : "")}</dd>
            <dt>Started by</dt><dd>{E(run.Trigger.ToString())}, {E(run.TriggeredBy)}{TrustSections.ModeBadge(run.Mode)}</dd>
            <dt>Queued</dt><dd>{When(run.QueuedAt)}</dd>{SlosPage.GateFact(run.BudgetGate)}
            <dt>Started / ended</dt><dd>{When(run.StartedAt)} / {When(run.FinishedAt)} ({Took(run.StartedAt, run.FinishedAt)})</dd>
            <dt>Attempt, node</dt><dd>{run.Attempt}, {E(run.Node ?? "–")}</dd>{(run.JobId is { } job ? $"<dt>Scheduler job</dt><dd><a id=\"hangfire-job\" href=\"/hangfire/jobs/details/{E(Uri.EscapeDataString(job))}\">{E(job)}</a> in the Hangfire dashboard</dd>" : "")}
            <dt>Toil</dt><dd>baseline {Num(toil.BaselineMinutes)} min · saved <b>{Num(toil.SavedMinutes)}</b> min · human {Num(toil.HumanMinutes)} min · automated {Num(toil.AutomatedMinutes)} min</dd>
            </dl>
            """);
        body.Append(Timeline(run, steps, time));
        body.Append("<h2>Steps</h2>");
        foreach (var step in steps)
        {
            body.Append(CultureInfo.InvariantCulture, $"""
                <div class="step" id="step-{step.Sequence}" data-status="{E(step.Status.ToString())}">
                <h3>{step.Sequence}. {E(step.Name)} {Badge(step.Status.ToString())} <span class="muted">{E(step.Kind.ToString())}</span></h3>
                <div class="muted">{When(step.StartedAt)} · {Took(step.StartedAt, step.FinishedAt)} · attempts {step.Attempts}{(step.Actor.Length > 0 ? " · by " + E(step.Actor) : "")}{(step.PickedUpAt is { } p ? " · picked up " + When(p) : "")}{(step.DueAt is { } due && step.Status == StepStatus.WaitingForHuman ? " · times out " + When(due) : "")}{(step.Role is { } role ? " · needs role " + E(role) : "")}{(step.DifferentPerson ? " · not the person who started the run" : "")}</div>
                {(step.Comment is { Length: > 0 } comment ? $"<p>“{E(comment)}”</p>" : "")}
                {(step.Error is { } error ? $"<p class=\"notice error\">{E(error)}</p>" : "")}
                {(step.Output.Length > 0 ? $"<pre>{E(step.Output)}</pre>" : "")}
                {(step.Status == StepStatus.WaitingForHuman && step.Kind != StepKind.Automated ? Answer(context, run, step) : "")}
                </div>
                """);
        }

        if (steps.Count == 0)
        {
            body.Append("<p class=\"muted\">No step has started yet.</p>");
        }

        return body.ToString();
    }

    private static string Answer(HttpContext context, RunRecord run, StepOutcome step) => $"""
        <form class="inline answer" method="post" action="/runs/{E(run.Id)}/steps/{step.Sequence}/complete">
        {Csrf(context)}{ActorField(context)}
        <input name="comment" placeholder="comment (optional)" size="30">
        <button type="submit" name="answer" value="complete">{(step.Kind == StepKind.Approval ? "Approve" : "Done")}</button>
        <button type="submit" name="answer" value="reject" class="danger">Reject</button>
        </form>
        """;

    private static string Actions(HttpContext context, RunRecord run)
    {
        var form = run.IsTerminal
            ? $"<form class=\"inline\" method=\"post\" action=\"/runs/{E(run.Id)}/retry\">{Csrf(context)}{ActorField(context)}<button type=\"submit\" class=\"secondary\">Retry</button></form>"
            : $"<form class=\"inline\" method=\"post\" action=\"/runs/{E(run.Id)}/cancel\">{Csrf(context)}{ActorField(context)}<button type=\"submit\" class=\"danger\">Cancel run</button></form>";
        return $"<h2>Actions</h2><div id=\"actions\">{form}</div>";
    }

    /// <summary>A horizontal bar per step over the run's span, coloured by outcome; server-rendered SVG, so no script is needed.</summary>
    internal static string Timeline(RunRecord run, IReadOnlyList<StepOutcome> steps, TimeProvider time)
    {
        if (steps.Count == 0)
        {
            return "";
        }

        var start = run.StartedAt ?? steps.Min(s => s.StartedAt);
        var end = run.FinishedAt ?? time.GetUtcNow();
        end = new[] { end, steps.Max(s => s.FinishedAt ?? end) }.Max();
        var span = Math.Max((end - start).TotalMilliseconds, 1);
        const int Left = 220, Width = 640, Row = 22;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<h2>Timeline</h2><svg id=\"timeline\" role=\"img\" aria-label=\"step timeline\" width=\"{Left + Width + 90}\" height=\"{steps.Count * Row + 24}\" viewBox=\"0 0 {Left + Width + 90} {steps.Count * Row + 24}\">");
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            var x = Left + ((step.StartedAt - start).TotalMilliseconds / span * Width);
            var w = Math.Max(((step.FinishedAt ?? end) - step.StartedAt).TotalMilliseconds / span * Width, 2);
            var y = i * Row + 4;
            var label = step.Name.Length > 32 ? step.Name[..32] + "…" : step.Name;
            svg.Append(CultureInfo.InvariantCulture, $"""
                <text x="0" y="{y + 13}">{step.Sequence}. {E(label)}</text>
                <rect x="{x:0.#}" y="{y}" width="{w:0.#}" height="16" rx="3" fill="{Colour(step.Status)}"><title>{E(step.Name)}: {E(step.Status.ToString())}, {Took(step.StartedAt, step.FinishedAt)}, {step.Attempts} attempt(s)</title></rect>
                <text x="{Math.Min(x + w + 4, Left + Width + 4):0.#}" y="{y + 13}">{Took(step.StartedAt, step.FinishedAt)}{(step.Attempts > 1 ? $" ×{step.Attempts}" : "")}</text>
                """);
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"{steps.Count * Row + 18}\">0</text><text x=\"{Left + Width - 40}\" y=\"{steps.Count * Row + 18}\">{E(Durations.Format(end - start))}</text></svg>");
        return svg.ToString();
    }

    private static string Colour(StepStatus status) => status switch
    {
        StepStatus.Succeeded => "#2e9b5b",
        StepStatus.Failed or StepStatus.TimedOut => "#d9443a",
        StepStatus.Running => "#4b7be5",
        StepStatus.WaitingForHuman => "#e0a100",
        _ => "#98a2b3",
    };
}
