using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RunbookEngine.Storage;

namespace RunbookEngine.Scheduling;

/// <summary>
/// One execution's claim on its run: the token written on the run when it started, and the way to stop the execution
/// when a person cancels the run (on any node) or when the claim turns out lost.
/// </summary>
internal sealed class RunClaim : IDisposable
{
    private readonly CancellationTokenSource _stop;

    public RunClaim(string runId, string token, CancellationToken cancelled)
    {
        RunId = runId;
        Token = token;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancelled);
    }

    public string RunId { get; }

    /// <summary>The claim written on the run; every journal and outcome write checks it.</summary>
    public string Token { get; }

    /// <summary>Fires on a person's cancel, wherever it was asked, and when the claim is lost.</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>True once another execution took the run over (this node was taken for dead): nothing more may be written.</summary>
    public bool Lost { get; private set; }

    public void Cancel()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The execution already ended.
        }
    }

    public void MarkLost()
    {
        Lost = true;
        Cancel();
    }

    public void Dispose() => _stop.Dispose();
}

/// <summary>The claims of the executions running on this node, renewed by <see cref="ClaimHeartbeat"/>.</summary>
internal sealed class RunClaims
{
    private readonly ConcurrentDictionary<string, RunClaim> _running = new(StringComparer.Ordinal);

    /// <summary>Registers an execution's claim until the returned handle is disposed.</summary>
    public IDisposable Register(RunClaim claim)
    {
        _running[claim.RunId] = claim;
        return new Registration(this, claim);
    }

    /// <summary>The runs this node runs now.</summary>
    public IReadOnlyCollection<string> RunIds => [.. _running.Keys];

    public RunClaim? Find(string runId) => _running.TryGetValue(runId, out var claim) ? claim : null;

    /// <summary>Cancels the run's execution if it runs on this node.</summary>
    public bool Interrupt(string runId)
    {
        if (Find(runId) is not { } claim)
        {
            return false;
        }

        claim.Cancel();
        return true;
    }

    private sealed class Registration(RunClaims claims, RunClaim claim) : IDisposable
    {
        public void Dispose() => claims._running.TryRemove(new KeyValuePair<string, RunClaim>(claim.RunId, claim));
    }
}

/// <summary>
/// Renews, once a second, the claims of the runs this node runs, so other nodes know it is alive; and, in the same
/// round trip, finds the runs a person asked to cancel from another node (cancelled here within about a second) and
/// the runs another node took over while this one was taken for dead (stopped here at once, their writes refused).
/// </summary>
internal sealed partial class ClaimHeartbeat(RunClaims claims, IRunStore store, NodeIdentity node, StoreHealth health, TimeProvider time, ILogger<ClaimHeartbeat> logger) : BackgroundService
{
    /// <summary>How often claims are renewed; a third of <see cref="SqlRunStore.ClaimLease"/>.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await BeatAsync(stoppingToken);
                failing = false;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The store is away: runs go on (their writes wait for it), and the next beat renews them when it is back.
                health.Failed();
                if (!failing)
                {
                    LogBeatFailed(ex);
                }

                failing = true;
            }

            await Task.Delay(Interval, time, stoppingToken);
        }
    }

    internal async Task BeatAsync(CancellationToken cancellationToken)
    {
        var running = claims.RunIds;
        if (running.Count == 0)
        {
            return;
        }

        foreach (var state in await store.RenewClaimsAsync(running, node.Id, cancellationToken))
        {
            if (claims.Find(state.RunId) is not { } claim)
            {
                continue;
            }

            if (state.Claim != claim.Token && state.Status == Scripting.Execution.RunStatus.Running)
            {
                LogLost(state.RunId);
                claim.MarkLost();
            }
            else if (state.CancelRequested is { } by && state.Claim == claim.Token && !claim.Stopping.IsCancellationRequested)
            {
                LogCancelRequested(state.RunId, by);
                claim.Cancel();
            }
        }
    }

    [LoggerMessage(EventId = 310, Level = LogLevel.Error, Message = "Run {RunId} was taken over by another node while this one was taken for dead; its execution here stops")]
    private partial void LogLost(string runId);

    [LoggerMessage(EventId = 311, Level = LogLevel.Information, Message = "Run {RunId} is cancelled, as {By} asked")]
    private partial void LogCancelRequested(string runId, string by);

    [LoggerMessage(EventId = 312, Level = LogLevel.Warning, Message = "Renewing the claims of this node's runs failed; trying again every second")]
    private partial void LogBeatFailed(Exception exception);
}
