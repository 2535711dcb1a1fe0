using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunbookEngine.Catalog;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Alerts;

/// <summary>
/// One breaker per runbook over its alert-started runs. Closed, alerts start runs; once too many runs or failures fall
/// in the window it opens, and every further matching alert is recorded as suppressed until it times out or a person
/// resets it. The counts come from the run store, so every node sees the same breaker.
/// </summary>
public sealed partial class CircuitBreakers(IAlertStore store, RunbookCatalog catalog, IOptions<RunbookEngineOptions> options, TimeProvider time, ILogger<CircuitBreakers> logger)
{
    private BreakerOptions Settings => options.Value.Alerts.Breaker;

    /// <summary>Whether the breaker lets one more alert-started run through; opens it when the counts say so.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Null when closed; otherwise why it is open.</returns>
    public async Task<string?> CheckAsync(string runbook, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var stored = await store.GetBreakerAsync(runbook, cancellationToken);
        if (stored is { OpenUntil: { } until } && until > now)
        {
            return $"circuit breaker open until {until:yyyy-MM-dd HH:mm:ss} UTC: {stored.Reason}";
        }

        var state = await StateAsync(runbook, stored, cancellationToken);
        var reason = state.RunsInWindow >= Settings.MaxRuns
            ? $"{state.RunsInWindow} alert-started runs within {Durations.Format(Settings.Window)} (limit {Settings.MaxRuns})"
            : state.FailuresInWindow >= Settings.MaxFailures
                ? $"{state.FailuresInWindow} failed alert-started runs within {Durations.Format(Settings.Window)} (limit {Settings.MaxFailures})"
                : null;
        if (reason is null)
        {
            return null;
        }

        var openUntil = now + Settings.OpenFor;
        if (await store.OpenBreakerAsync(runbook, openUntil, reason, cancellationToken))
        {
            LogOpened(runbook, reason, openUntil);
        }

        return $"circuit breaker open until {openUntil:yyyy-MM-dd HH:mm:ss} UTC: {reason}";
    }

    /// <summary>Every runbook that alerts can start, with its breaker's state.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The breakers, by runbook.</returns>
    public async Task<IReadOnlyList<BreakerState>> ListAsync(CancellationToken cancellationToken)
    {
        var stored = (await store.ListBreakersAsync(cancellationToken)).ToDictionary(b => b.Runbook, StringComparer.Ordinal);
        var names = catalog.Entries.Where(e => e.Definition?.Alerts.Count > 0).Select(e => e.Name).Concat(stored.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var states = new List<BreakerState>();
        foreach (var name in names)
        {
            states.Add(await StateAsync(name, stored.GetValueOrDefault(name), cancellationToken));
        }

        return states;
    }

    /// <summary>One runbook's breaker.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Its state.</returns>
    public async Task<BreakerState> GetAsync(string runbook, CancellationToken cancellationToken) =>
        await StateAsync(runbook, await store.GetBreakerAsync(runbook, cancellationToken), cancellationToken);

    /// <summary>Closes a breaker by hand: alerts start runs again, and runs before now stop counting.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="by">Who closes it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The breaker's new state.</returns>
    public async Task<BreakerState> ResetAsync(string runbook, string by, CancellationToken cancellationToken)
    {
        await store.ResetBreakerAsync(runbook, by, cancellationToken);
        LogReset(runbook, by);
        return await GetAsync(runbook, cancellationToken);
    }

    private async Task<BreakerState> StateAsync(string runbook, BreakerRecord? stored, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var since = now - Settings.Window;
        if (stored?.ResetAt is { } resetAt && resetAt > since)
        {
            since = resetAt;
        }

        var (runs, failures) = await store.AlertRunCountsAsync(runbook, since, cancellationToken);
        var open = stored is { OpenUntil: { } until } && until > now;
        return new BreakerState(runbook, open ? "open" : "closed", open ? stored!.OpenedAt : null, open ? stored!.OpenUntil : null, open ? stored!.Reason : null,
            runs, failures, Settings.MaxRuns, Settings.MaxFailures, Durations.Format(Settings.Window), stored?.ResetBy, stored?.ResetAt);
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Warning, Message = "Circuit breaker of {Runbook} opened until {Until}: {Reason}; matching alerts are suppressed")]
    private partial void LogOpened(string runbook, string reason, DateTimeOffset until);

    [LoggerMessage(EventId = 501, Level = LogLevel.Warning, Message = "Circuit breaker of {Runbook} reset by {By}")]
    private partial void LogReset(string runbook, string by);
}

/// <summary>A runbook's breaker as the API shows it.</summary>
/// <param name="Runbook">The runbook.</param>
/// <param name="State"><c>open</c> or <c>closed</c>.</param>
/// <param name="OpenedAt">When it opened, while open.</param>
/// <param name="OpenUntil">When it closes on its own, while open.</param>
/// <param name="Reason">Why it opened, while open.</param>
/// <param name="RunsInWindow">Alert-started runs in the current window.</param>
/// <param name="FailuresInWindow">Failed ones among them.</param>
/// <param name="MaxRuns">The run limit.</param>
/// <param name="MaxFailures">The failure limit.</param>
/// <param name="Window">The window, e.g. <c>15m</c>.</param>
/// <param name="ResetBy">Who last reset it by hand.</param>
/// <param name="ResetAt">When.</param>
public sealed record BreakerState(
    string Runbook,
    string State,
    DateTimeOffset? OpenedAt,
    DateTimeOffset? OpenUntil,
    string? Reason,
    int RunsInWindow,
    int FailuresInWindow,
    int MaxRuns,
    int MaxFailures,
    string Window,
    string? ResetBy,
    DateTimeOffset? ResetAt);
