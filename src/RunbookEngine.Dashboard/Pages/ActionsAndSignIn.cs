using System.Diagnostics;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using RunbookEngine.Access;
using Microsoft.Extensions.Logging;
using RunbookEngine.Alerts;
using RunbookEngine.Runs;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using static RunbookEngine.Dashboard.Html;

namespace RunbookEngine.Dashboard.Pages;

/// <summary>
/// What a person can do from the dashboard. Every action is a form post with the anti-forgery token, records who did
/// it (on the run, the step or the breaker, and in the log), and redirects back with what happened.
/// </summary>
internal static partial class Actions
{
    public static async Task<IResult> CancelAsync(string id, HttpContext context, RunService runs, ILogger<DashboardLog> log, CancellationToken cancellationToken) =>
        await ActAsync(context, $"/runs/{id}", log, async who => await runs.CancelAsync(id, cancellationToken, who) switch
        {
            CancelOutcome.NotFound => (false, $"no run '{id}'"),
            CancelOutcome.AlreadyEnded => (false, "the run had already ended"),
            CancelOutcome.Requested => (true, "cancel requested: the node running it stops it"),
            _ => (true, "cancelled"),
        });

    public static async Task<IResult> RetryAsync(string id, HttpContext context, RunService runs, ILogger<DashboardLog> log, CancellationToken cancellationToken)
    {
        string? newRun = null;
        var result = await ActAsync(context, $"/runs/{id}", log, async who =>
        {
            var retry = await runs.RetryAsync(id, who, cancellationToken);
            newRun = retry.Run?.Id;
            return retry.Run is null ? (false, string.Join("; ", retry.Errors.DefaultIfEmpty(retry.Problem.ToString()))) : (true, "retry started");
        });
        return newRun is null ? result : Results.Redirect($"/runs/{newRun}?notice={U("retry of " + id)}");
    }

    public static async Task<IResult> CompleteAsync(string id, int step, HttpContext context, HumanSteps humans, ILogger<DashboardLog> log, CancellationToken cancellationToken)
    {
        var form = await context.Request.ReadFormAsync(cancellationToken);
        var reject = form["answer"] == "reject";
        return await ActAsync(context, $"/runs/{id}", log, async who =>
        {
            var comment = form["comment"].ToString() is { Length: > 0 } c ? c : null;
            var result = await humans.AnswerAsync(id, step, new HumanResponse(!reject, who, comment), cancellationToken);
            return result.Problem == HumanStepProblem.None ? (true, $"step {step} {(reject ? "rejected" : "completed")}") : (false, result.Message!);
        });
    }

    public static async Task<IResult> StartAsync(string name, HttpContext context, RunService runs, ILogger<DashboardLog> log, CancellationToken cancellationToken)
    {
        var form = await context.Request.ReadFormAsync(cancellationToken);
        var parameters = form.Where(f => f.Key.StartsWith("p.", StringComparison.Ordinal) && f.Value.ToString().Length > 0)
            .ToDictionary(f => f.Key[2..], f => f.Value.ToString(), StringComparer.Ordinal);
        string? runId = null;
        var answer = await ActAsync(context, $"/runbooks/{name}", log, async who =>
        {
            var result = await runs.TriggerAsync(name, parameters, RunTrigger.Manual, who, null, cancellationToken);
            runId = result.Run?.Id;
            return result.Run is null ? (false, string.Join("; ", result.Errors.DefaultIfEmpty(result.Problem.ToString()))) : (true, "started");
        });
        return runId is null ? answer : Results.Redirect($"/runs/{runId}");
    }

    public static async Task<IResult> ResetBreakerAsync(string runbook, HttpContext context, CircuitBreakers breakers, ILogger<DashboardLog> log, CancellationToken cancellationToken) =>
        await ActAsync(context, $"/runbooks/{runbook}", log, async who =>
        {
            await breakers.ResetAsync(runbook, who, cancellationToken);
            return (true, "breaker reset");
        });

    private static async Task<IResult> ActAsync(HttpContext context, string back, ILogger log, Func<string, Task<(bool Ok, string Message)>> act)
    {
        if (!await CsrfValidAsync(context))
        {
            return Refused();
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (Actor(context, form) is not { } who)
        {
            return Results.Redirect($"{back}?error=1&notice={U("say who you are: fill in your name")}");
        }

        var (ok, message) = await act(who);
        LogAction(log, who, context.Request.Path, ok ? "done" : "refused", message);
        return Results.Redirect($"{back}?{(ok ? "" : "error=1&")}notice={U(message)}");
    }

    internal static IResult Refused() =>
        Results.Text("refused: the form's anti-forgery token is missing or wrong, or was issued to someone else; reload the page and try again", statusCode: StatusCodes.Status403Forbidden);

    [LoggerMessage(EventId = 900, Level = LogLevel.Information, Message = "Dashboard: {Actor} {Action}: {Outcome} ({Message})")]
    private static partial void LogAction(ILogger logger, string actor, string action, string outcome, string message);
}

/// <summary>Signing in to the dashboard with an API token from <c>RunbookEngine:Access:Tokens</c>.</summary>
internal static class SignInPage
{
    public static IResult Render(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var body = $"""
            {Notice(context.Request.Query["notice"], context.Request.Query["error"] == "1")}
            <p>This host answers other machines only with a token (RunbookEngine:Access:Tokens). Sign in with yours; you act under its name.</p>
            <form method="post" action="/signin" class="filters">
            {Csrf(context)}<input type="hidden" name="return" value="{E(context.Request.Query["return"])}">
            <label>Token<input type="password" name="token" required autocomplete="current-password" size="40"></label>
            <button type="submit">Sign in</button>
            </form>
            """;
        return Page(context, "Sign in", "", body, started);
    }

    public static async Task<IResult> SignInAsync(HttpContext context, AccessTokens tokens)
    {
        if (!await CsrfValidAsync(context))
        {
            return Actions.Refused();
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var back = LocalUrl(form["return"].ToString());
        var token = form["token"].ToString();
        if (tokens.Find(token) is not { } name)
        {
            return Results.Redirect($"/signin?error=1&notice={U("that token is not known")}&return={U(back)}");
        }

        await context.SignInAsync(AccessIdentity.CookieScheme, AccessIdentity.TokenHolder(name, AccessIdentity.CookieScheme, AccessTokens.Fingerprint(token)));
        return Results.Redirect(back);
    }

    public static async Task<IResult> SignOutAsync(HttpContext context)
    {
        if (!await CsrfValidAsync(context))
        {
            return Actions.Refused();
        }

        await context.SignOutAsync(AccessIdentity.CookieScheme);
        return Results.Redirect("/signin?notice=" + U("signed out"));
    }

    /// <summary>
    /// Where to go after signing in: a path on this site, else <c>/</c>. Browsers drop tabs and newlines and read a
    /// backslash as a slash, so <c>/%09/evil.example</c> or <c>/\evil.example</c> would leave the site; these are the
    /// rules of ASP.NET Core's own local-URL check.
    /// </summary>
    internal static string LocalUrl(string? url) =>
        url is { Length: > 0 } u && u[0] == '/' && (u.Length == 1 || (u[1] != '/' && u[1] != '\\')) && !u.Any(char.IsControl) ? u : "/";
}

/// <summary>The log category of dashboard actions.</summary>
internal sealed class DashboardLog;
