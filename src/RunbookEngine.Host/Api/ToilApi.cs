using System.Globalization;
using System.Text;
using System.Text.Json;
using RunbookEngine.Runs;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using RunbookEngine.Toil;

namespace RunbookEngine.Host.Api;

/// <summary>Human steps, the toil reports and <c>/metrics</c>; documented in docs/api.md.</summary>
internal static class ToilApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void MapToilApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapPost("/runs/{id}/steps/{step:int}/complete", CompleteAsync);
        api.MapPost("/runs/{id}/steps/{step:int}/pickup", PickUpAsync);
        api.MapGet("/toil", ReportAsync);
        api.MapGet("/toil/unautomated", UnautomatedAsync);
        app.MapGet("/metrics", MetricsAsync);
    }

    private static async Task<IResult> CompleteAsync(string id, int step, HttpRequest request, HumanSteps humans, CancellationToken cancellationToken)
    {
        var (body, error) = await ReadAsync<AnswerBody>(request, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var answer = new HumanResponse(body!.Reject != true, Who(request.HttpContext, body.By), body.Comment, body.PickedUpAt);
        return Respond(await humans.AnswerAsync(id, step, answer, cancellationToken));
    }

    private static async Task<IResult> PickUpAsync(string id, int step, HttpRequest request, HumanSteps humans, CancellationToken cancellationToken)
    {
        var (body, error) = await ReadAsync<AnswerBody>(request, cancellationToken);
        return error ?? Respond(await humans.PickUpAsync(id, step, Who(request.HttpContext, body!.By), cancellationToken));
    }

    /// <summary>A caller with a token acts under the token's name, whatever "by" says; an anonymous loopback caller is who they say.</summary>
    internal static string Who(HttpContext context, string? by) => RunbookEngine.Access.AccessIdentity.Name(context.User) ?? by?.Trim() ?? "";

    private static IResult Respond(HumanStepResult result) => result.Problem switch
    {
        HumanStepProblem.None => TypedResults.Ok(result.Step),
        HumanStepProblem.NotFound => TypedResults.NotFound(new ApiError(result.Message!)),
        HumanStepProblem.Forbidden => TypedResults.Json(new ApiError(result.Message!), statusCode: StatusCodes.Status403Forbidden),
        HumanStepProblem.Invalid => TypedResults.BadRequest(new ApiError(result.Message!)),
        _ => TypedResults.Conflict(new ApiError(result.Message!)),
    };

    private static async Task<IResult> ReportAsync(HttpRequest request, ToilReports reports, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Window(request, time) is not ({ } since, { } until, null))
        {
            return TypedResults.BadRequest(new ApiError(Window(request, time).Error!));
        }

        var groupBy = request.Query["groupBy"].ToString();
        if (!Enum.TryParse<ToilGrouping>(groupBy.Length == 0 ? "runbook" : groupBy, ignoreCase: true, out var grouping) || !Enum.IsDefined(grouping))
        {
            return TypedResults.BadRequest(new ApiError($"groupBy '{groupBy}' is not one of runbook, week, service, source"));
        }

        var report = await reports.ReportAsync(since, until, grouping, cancellationToken);
        if (!WantsCsv(request))
        {
            return TypedResults.Ok(report);
        }

        var csv = new StringBuilder("key,runs,succeeded,failed,success_rate,baseline_minutes,minutes_saved,human_minutes,automated_minutes,alerts,alerts_remediated,median_minutes_to_remediate,p90_minutes_to_remediate,median_minutes_to_resolve\n");
        foreach (var g in report.Groups.Append(report.Total))
        {
            csv.AppendJoin(',', Csv(g.Key), g.Runs, g.Succeeded, g.Failed, Num(g.SuccessRate), Num(g.BaselineMinutes), Num(g.MinutesSaved), Num(g.HumanMinutes),
                Num(g.AutomatedMinutes), g.Alerts, g.AlertsRemediated, Num(g.MedianMinutesToRemediate), Num(g.P90MinutesToRemediate), Num(g.MedianMinutesToResolve)).Append('\n');
        }

        return TypedResults.Text(csv.ToString(), "text/csv; charset=utf-8");
    }

    private static async Task<IResult> UnautomatedAsync(HttpRequest request, ToilReports reports, TimeProvider time, CancellationToken cancellationToken)
    {
        var window = Window(request, time);
        if (window.Error is not null)
        {
            return TypedResults.BadRequest(new ApiError(window.Error));
        }

        var ranking = await reports.UnautomatedAsync(window.Since!.Value, window.Until!.Value, cancellationToken);
        if (!WantsCsv(request))
        {
            return TypedResults.Ok(new { from = window.Since, to = window.Until, alerts = ranking });
        }

        var csv = new StringBuilder("rank,alert,sources,count,minutes_each,estimated_minutes,first_seen,last_seen\n");
        foreach (var a in ranking)
        {
            csv.AppendJoin(',', a.Rank, Csv(a.Alert), Csv(string.Join(' ', a.Sources)), a.Count, Num(a.MinutesEach), Num(a.EstimatedMinutes),
                a.FirstSeen.ToString("O", CultureInfo.InvariantCulture), a.LastSeen.ToString("O", CultureInfo.InvariantCulture)).Append('\n');
        }

        return TypedResults.Text(csv.ToString(), "text/csv; charset=utf-8");
    }

    // Exported here rather than by prometheus-net's middleware so that /metrics stays behind the API's authorization.
    // The registry reads the cluster-wide gauges from the store before it writes (EngineMetrics.ReadClusterAsync).
    // Buffered, so that a failure mid-way is an error answer and not a truncated page a scraper would take as whole.
    private static async Task<IResult> MetricsAsync(EngineMetrics metrics, CancellationToken cancellationToken)
    {
        using var text = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(text, cancellationToken);
        return TypedResults.Bytes(text.ToArray(), "text/plain; version=0.0.4; charset=utf-8");
    }

    /// <summary>
    /// The report window: <c>from</c> and <c>to</c> as ISO 8601 times or dates, or <c>from</c> as a duration back from
    /// now (<c>7d</c>); the last 7 days when neither is given.
    /// </summary>
    private static (DateTimeOffset? Since, DateTimeOffset? Until, string? Error) Window(HttpRequest request, TimeProvider time)
    {
        var now = time.GetUtcNow();
        DateTimeOffset until = now;
        if (request.Query["to"].ToString() is { Length: > 0 } to && !Moments.TryParse(to, now, out until))
        {
            return (null, null, $"to '{to}' is not an ISO 8601 time (2026-11-24T10:00:00Z) or date");
        }

        var since = until - TimeSpan.FromDays(7);
        if (request.Query["from"].ToString() is { Length: > 0 } from && !Moments.TryParse(from, until, out since))
        {
            return (null, null, $"from '{from}' is not an ISO 8601 time or date, or a duration back from now such as 7d");
        }

        return since < until ? (since, until, null) : (null, null, "from must be before to");
    }

    private static bool WantsCsv(HttpRequest request) =>
        string.Equals(request.Query["format"], "csv", StringComparison.OrdinalIgnoreCase)
        || request.Headers.Accept.ToString().Contains("text/csv", StringComparison.OrdinalIgnoreCase);

    private static string Num(double? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    // Only text cells (names, keys, sources) go through here; numbers we write ourselves stay numbers, so a negative one is not a formula.
    private static string Csv(string value)
    {
        // A spreadsheet runs a cell that starts like a formula; an alert's name is whatever a webhook sender chose.
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.IndexOfAny([',', '"', '\n', '\r']) < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    private static async Task<(T? Body, IResult? Error)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class, new()
    {
        if (request.ContentLength is 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count == 0))
        {
            return (new T(), null);
        }

        try
        {
            return (await JsonSerializer.DeserializeAsync<T>(request.Body, Json, cancellationToken) ?? new T(), null);
        }
        catch (JsonException ex)
        {
            return (null, TypedResults.BadRequest(new ApiError($"the body is not valid JSON for this request: {ex.Message}")));
        }
    }

    /// <summary>An answer to a human step.</summary>
    private sealed class AnswerBody
    {
        public string? By { get; set; }

        public string? Comment { get; set; }

        public bool? Reject { get; set; }

        public DateTimeOffset? PickedUpAt { get; set; }
    }
}
