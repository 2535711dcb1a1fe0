using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using RunbookEngine.Storage;

namespace RunbookEngine.Trust.Testing;

/// <summary>
/// Keeps what a run attempt's commands and HTTP calls returned, in order, and writes them to the store in one batch as
/// the attempt ends (<see cref="FlushAsync"/>): the SDK reports calls synchronously, on the runbook's own flow, where
/// a database round trip per call would slow every command down. At most <see cref="RecordedCall.MaxPerAttempt"/> calls
/// are kept; those after are counted in an <see cref="RecordedCall.OmittedKind"/> note, so a case recorded from the run says so.
/// </summary>
/// <param name="runId">The run.</param>
/// <param name="attempt">The attempt.</param>
/// <param name="time">The clock, for when each call ended.</param>
internal sealed class StoreCallRecorder(string runId, int attempt, TimeProvider time) : ICallRecorder
{
    // The calls so far, in the order they ended.
    private readonly List<RecordedCall> _calls = [];

    // Calls kept so far this attempt, flushed or not: the cap is on the attempt, not on a batch.
    private int _kept;

    // Calls past the cap, not kept.
    private int _omitted;

    public void Command(int stepSequence, CommandCall command, ShellResult result)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(result);
        Add((sequence, at) => new RecordedCall(attempt, sequence, stepSequence, RecordedCall.CommandKind, command.Display, result.ExitCode,
            Cap(result.StdOut), Cap(result.StdErr), result.Duration, at));
    }

    public void Http(int stepSequence, HttpCall exchange)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        Add((sequence, at) => new RecordedCall(attempt, sequence, stepSequence, RecordedCall.HttpKind, $"{exchange.Method} {exchange.Url}", exchange.Status,
            Cap(exchange.Body), exchange.ContentType, exchange.Duration, at));
    }

    /// <summary>Writes the calls kept so far and forgets them; a failure to write loses only the recording, never the run.</summary>
    /// <param name="store">The run store.</param>
    /// <param name="claim">The execution's claim on the run: once another execution holds the run, nothing is written; null writes unfenced.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when they are written.</returns>
    public async Task FlushAsync(IRunStore store, string? claim, CancellationToken cancellationToken)
    {
        RecordedCall[] calls;
        lock (_calls)
        {
            if (_omitted > 0)
            {
                _calls.Add(new RecordedCall(attempt, 0, 0, RecordedCall.OmittedKind,
                    $"{_omitted} later calls of attempt {attempt} were not kept (at most {RecordedCall.MaxPerAttempt} an attempt)", _omitted, "", null, TimeSpan.Zero, time.GetUtcNow()));
                _omitted = 0;
            }

            calls = [.. _calls];
            _calls.Clear();
        }

        if (calls.Length > 0)
        {
            await store.SaveCallsAsync(runId, calls, claim, cancellationToken);
        }
    }

    private void Add(Func<int, DateTimeOffset, RecordedCall> create)
    {
        lock (_calls)
        {
            if (_kept >= RecordedCall.MaxPerAttempt)
            {
                _omitted++;
                return;
            }

            _kept++;
            _calls.Add(create(_calls.Count + 1, time.GetUtcNow()));
        }
    }

    private static string Cap(string text) => text.Length <= RecordedCall.MaxOutput ? text : text[..RecordedCall.MaxOutput];
}
