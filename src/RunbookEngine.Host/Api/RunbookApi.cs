using System.Data.Common;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RunbookEngine.Catalog;
using RunbookEngine.GitHub;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Scripting.Parameters;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.Toil;
using RunbookEngine.Trust.Drills;
using RunbookEngine.Trust.Freshness;
using RunbookEngine.Trust.Modes;

namespace RunbookEngine.Host.Api;

/// <summary>The runbooks and runs API; documented in docs/api.md.</summary>
internal static class RunbookApi
{
    public static void MapRunbookApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/runbooks", async (RunbookCatalog catalog, FreshnessReader freshness, TrustRecords trust, TimeProvider time, CancellationToken cancellationToken) =>
        {
            // One set of grouped queries for every runbook, not one per runbook, shared for a few seconds (ListCacheFor).
            // The catalog is in memory: with the store away the list still answers, without what only the store knows.
            IReadOnlyDictionary<string, RunbookFreshness>? all = null;
            IReadOnlyDictionary<string, TrustCounts>? counts = null;
            try
            {
                all = await freshness.ForAllAsync(cancellationToken);
                counts = await trust.AllCountsAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is DbException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                all = null;
                counts = null;
            }

            return TypedResults.Ok(catalog.Entries.Select(e =>
                RunbookView.Of(e, time, counts is null ? null : trust.Of(RunbookView.ModeOf(e), counts.GetValueOrDefault(e.Name) ?? TrustCounts.None(e.Name)))
                    with { Freshness = all is null ? null : FreshnessView.Of(all.GetValueOrDefault(e.Name)) }));
        });
        api.MapGet("/runbooks/{name}", async Task<Results<Ok<RunbookView>, NotFound<ApiError>>> (string name, RunbookCatalog catalog, FreshnessReader freshness, TrustRecords trust, TimeProvider time, CancellationToken cancellationToken) =>
            catalog.Find(name) is { } entry
                ? TypedResults.Ok(RunbookView.Of(entry, time, await trust.ForAsync(entry.Name, RunbookView.ModeOf(entry), cancellationToken))
                    with { Freshness = FreshnessView.Of(await freshness.ForAsync(name, cancellationToken)) })
                : TypedResults.NotFound(new ApiError($"no runbook '{name}'")));
        api.MapPost("/runbooks/{name}/runs", TriggerAsync);
        api.MapPost("/runbooks/{name}/drills", DrillAsync);
        api.MapGet("/runs", ListRunsAsync);
        api.MapGet("/runs/{id}", GetRunAsync);
        api.MapPost("/runs/{id}/cancel", CancelAsync);
        api.MapPost("/runs/{id}/retry", RetryAsync);
    }

    private static async Task<IResult> TriggerAsync(string name, HttpRequest request, RunService runs, CancellationToken cancellationToken)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        var by = "api";
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
                if (body.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return TypedResults.BadRequest(new ApiError("the body must be a JSON object such as {\"parameters\": {\"path\": \"/var/log\"}}"));
                }

                if (body.RootElement.TryGetProperty("by", out var who))
                {
                    if (who.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(who.GetString()))
                    {
                        return TypedResults.BadRequest(new ApiError("\"by\" must be the name of the person starting the run"));
                    }

                    by = who.GetString()!.Trim();
                }

                if (body.RootElement.TryGetProperty("parameters", out var given))
                {
                    if (given.ValueKind != JsonValueKind.Object)
                    {
                        return TypedResults.BadRequest(new ApiError("\"parameters\" must be an object of name: value"));
                    }

                    foreach (var parameter in given.EnumerateObject())
                    {
                        parameters[parameter.Name] = parameter.Value.ValueKind == JsonValueKind.String ? parameter.Value.GetString()! : parameter.Value.GetRawText();
                    }
                }
            }
            catch (JsonException ex)
            {
                return TypedResults.BadRequest(new ApiError($"the body is not valid JSON: {ex.Message}"));
            }
        }

        var result = await runs.TriggerAsync(name, parameters, RunTrigger.Manual, RunbookEngine.Access.AccessIdentity.Name(request.HttpContext.User) ?? by, null, cancellationToken);
        return Respond(result, name);
    }

    private static async Task<IResult> DrillAsync(string name, HttpContext context, DrillRunner drills, CancellationToken cancellationToken)
    {
        var result = await drills.StartAsync(name, RunbookEngine.Access.AccessIdentity.Name(context.User) ?? DrillRunner.TriggeredBy, cancellationToken);
        return result.Problem switch
        {
            // A drill that failed before it could run is still a drill that happened: its run says why.
            DrillProblem.None => TypedResults.Accepted($"/api/runs/{result.Run!.Id}", new { runId = result.Run.Id, status = result.Run.Status, error = result.Run.Error }),
            DrillProblem.NotFound => TypedResults.NotFound(new ApiError(result.Error!)),
            DrillProblem.NoDrill => TypedResults.BadRequest(new ApiError(result.Error!)),
            _ => TypedResults.UnprocessableEntity(new ApiError(result.Error!)),
        };
    }

    private static async Task<IResult> RetryAsync(string id, HttpContext context, RunService runs, CancellationToken cancellationToken) =>
        Respond(await runs.RetryAsync(id, RunbookEngine.Access.AccessIdentity.Name(context.User) ?? "api", cancellationToken), id);

    private static IResult Respond(TriggerResult result, string subject) => result.Problem switch
    {
        TriggerProblem.None => TypedResults.Accepted($"/api/runs/{result.Run!.Id}", new { runId = result.Run.Id, status = result.Run.Status }),
        TriggerProblem.NotFound => TypedResults.NotFound(new ApiError($"no runbook or run '{subject}'")),
        TriggerProblem.InvalidParameters => TypedResults.BadRequest(new ApiError("invalid parameters", result.Errors)),
        TriggerProblem.Busy => TypedResults.Conflict(new ApiError("the target is busy", result.Errors)),
        TriggerProblem.Cooldown => TypedResults.Conflict(new ApiError("the target is cooling down", result.Errors)),
        _ => TypedResults.UnprocessableEntity(new ApiError($"runbook '{subject}' cannot run: it is invalid", result.Errors)),
    };

    private static async Task<IResult> ListRunsAsync(IRunStore store, RunbookCatalog catalog, string? runbook, string? status, int? limit, string? before, CancellationToken cancellationToken)
    {
        RunStatus? wanted = null;
        if (status is not null)
        {
            if (!Enum.TryParse<RunStatus>(status, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            {
                return TypedResults.BadRequest(new ApiError($"status '{status}' is not one of {string.Join(", ", Enum.GetNames<RunStatus>())}"));
            }

            wanted = parsed;
        }

        if (limit is < 1 or > 500)
        {
            return TypedResults.BadRequest(new ApiError("limit must be between 1 and 500"));
        }

        var page = await store.ListRunsAsync(new RunQuery(runbook, wanted, limit ?? 50, before), cancellationToken);
        var next = page.Count == (limit ?? 50) ? page[^1].Id : null;
        return TypedResults.Ok(new { runs = page.Select(run => MaskSecrets(run, catalog)), next });
    }

    private static async Task<IResult> GetRunAsync(
        string id, string? wait, IRunStore store, IAlertStore alerts, IVersionStore versions, RunEvents events, RunbookCatalog catalog, IOptions<RunbookEngineOptions> options, CancellationToken cancellationToken)
    {
        // ?wait=30s holds the answer until the run ends (or the wait is up), so callers need not poll.
        if (wait is not null)
        {
            if (!Durations.TryParse(wait, out var limit) || limit > TimeSpan.FromMinutes(5))
            {
                return TypedResults.BadRequest(new ApiError($"wait '{wait}' is not a duration of at most 5m, e.g. 30s"));
            }

            using var waitLimit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            waitLimit.CancelAfter(limit);
            try
            {
                await events.WhenEndedAsync(id, waitLimit.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The wait is up; answer with the run as it stands.
            }
        }

        var run = await store.GetRunAsync(id, cancellationToken);
        if (run is null)
        {
            return TypedResults.NotFound(new ApiError($"no run '{id}'"));
        }

        var steps = await store.GetStepsAsync(id, cancellationToken);
        var incidentId = run.AlertId is { } alertId ? (await alerts.GetAlertAsync(alertId, cancellationToken))?.IncidentId : null;
        var toil = ToilCalculator.ForRun(run.Status, run.StartedAt, run.FinishedAt, run.ManualMinutes, steps, ToilCalculator.Acted(run.Trigger, run.Mode));
        // The version's commit, not the run's: the run's is where the catalog stood, the version's is the change that brought this source.
        var provenance = Provenance.Of(await versions.GetVersionAsync(run.Runbook, run.ContentHash, cancellationToken), options.Value.GitHub);
        return TypedResults.Ok(new { run = MaskSecrets(run, catalog), incidentId, steps, toil, source = $"/api/runbooks/{run.Runbook}/versions/{run.ContentHash}/source", provenance });
    }

    /// <summary>
    /// The run with the values of secret parameters replaced by ***, and without their sealed values or the claim of
    /// the execution running it (the engine's own business).
    /// </summary>
    private static RunRecord MaskSecrets(RunRecord run, RunbookCatalog catalog) =>
        run with { ParametersJson = JsonSerializer.Serialize(RunParameters.Masked(run, catalog)), SealedParameters = null, Execution = null };

    private static async Task<IResult> CancelAsync(string id, HttpContext context, RunService runs, CancellationToken cancellationToken) =>
        await runs.CancelAsync(id, cancellationToken, RunbookEngine.Access.AccessIdentity.Name(context.User)) switch
        {
            CancelOutcome.NotFound => TypedResults.NotFound(new ApiError($"no run '{id}'")),
            CancelOutcome.AlreadyEnded => TypedResults.Conflict(new ApiError($"run '{id}' has already ended")),
            CancelOutcome.Requested => TypedResults.Accepted($"/api/runs/{id}", new { runId = id, cancel = "requested" }),
            _ => TypedResults.Ok(new { runId = id, status = RunStatus.Cancelled }),
        };
}

/// <summary>An error answer: what is wrong, and each problem when there are several.</summary>
/// <param name="Error">What is wrong.</param>
/// <param name="Errors">Each problem.</param>
internal sealed record ApiError(string Error, IReadOnlyList<string>? Errors = null);

/// <summary>A runbook as the API shows it.</summary>
internal sealed record RunbookView(
    string Name,
    string? Description,
    bool Valid,
    string Version,
    IReadOnlyList<string> Alerts,
    string? Schedule,
    DateTimeOffset? NextScheduledAt,
    string? Timeout,
    double? ManualMinutes,
    IReadOnlyList<ParameterView> Parameters,
    IReadOnlyList<string> Errors,
    string? Commit,
    PendingVersionView? FailingVersion,
    RunMode Mode,
    TrustRecord? Trust)
{
    /// <summary>Fresh, aging or stale, with the reasons and the facts behind them.</summary>
    public FreshnessView? Freshness { get; init; }

    /// <summary>The runbook's <c>budget_gate:</c>, if it has one.</summary>
    public BudgetGateView? BudgetGate { get; init; }

    /// <summary>The mode the runbook's runs take (a runbook that does not parse has none of its own: auto).</summary>
    public static RunMode ModeOf(CatalogEntry entry) => entry.Definition?.Mode ?? RunMode.Auto;

    public static RunbookView Of(CatalogEntry entry, TimeProvider time, TrustRecord? trust = null)
    {
        var d = entry.Definition;
        return new RunbookView(
            entry.Name,
            d?.Description,
            entry.IsValid,
            entry.ContentHash,
            d?.Alerts.Select(a => a.Name ?? "(labels)").ToList() ?? [],
            d?.Schedule?.Expression,
            d?.Schedule?.NextOccurrence(time.GetUtcNow()),
            d is null ? null : Durations.Format(d.Timeout),
            d?.ManualMinutes,
            d?.Parameters.Select(p => new ParameterView(p.Name, ParameterValue.Name(p.Type), p.Required, p.Secret ? null : p.Default?.ToString(), p.From, p.Description, p.Values)).ToList() ?? [],
            [.. entry.Diagnostics.Where(x => x.IsError).Select(x => x.ToString())],
            entry.Commit,
            entry.Problem is { } problem
                ? new PendingVersionView(problem.ContentHash, problem.Commit, [.. problem.Diagnostics.Where(x => x.IsError).Select(x => x.ToString())])
                : null,
            ModeOf(entry),
            trust)
        {
            BudgetGate = d?.BudgetGate is { } gate ? new BudgetGateView(gate.Slo, gate.BelowPercent, gate.Then == RunMode.Shadow ? "shadow" : "confirm") : null,
        };
    }
}

/// <summary>A runbook's budget gate as the API shows it: the SLO, the threshold in percent, and what a gated run does.</summary>
internal sealed record BudgetGateView(string Slo, double BelowPercent, string Then);

/// <summary>A newer version that does not compile, shown beside the version that keeps serving.</summary>
internal sealed record PendingVersionView(string Version, string? Commit, IReadOnlyList<string> Errors);

/// <summary>A declared parameter as the API shows it (secret defaults hidden).</summary>
internal sealed record ParameterView(string Name, string Type, bool Required, string? Default, string? From, string? Description, IReadOnlyList<string>? Values);

/// <summary>A runbook's freshness as the API shows it.</summary>
internal sealed record FreshnessView(string State, IReadOnlyList<string> Reasons, FreshnessEvidence Facts)
{
    public static FreshnessView? Of(RunbookFreshness? freshness) =>
        freshness is null ? null : new FreshnessView(freshness.StateName, freshness.Reasons, freshness.Facts);
}
