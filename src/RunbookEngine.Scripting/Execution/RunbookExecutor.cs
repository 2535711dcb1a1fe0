using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Scripting.Execution;

/// <summary>
/// Executes a compiled runbook once: builds its context, enforces the run timeout, and turns whatever the script does
/// (finish, throw, hang, get cancelled) into a <see cref="RunResult"/>. It never throws for the script's sake.
/// </summary>
public static class RunbookExecutor
{
    /// <summary>Runs the request to its end.</summary>
    /// <param name="request">What to run.</param>
    /// <param name="cancellationToken">Cancels the run (a person's cancel, host shutdown).</param>
    /// <returns>How it ended.</returns>
    public static async Task<RunResult> ExecuteAsync(RunRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var time = request.Time;
        var timeout = request.Definition.Timeout;
        var remaining = request.Timeout is { } left ? (left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1)) : timeout;
        using var timeoutSource = new CancellationTokenSource(remaining, time);
        using var runSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token, request.InterruptToken);
        var context = new RunbookContext(new RunbookContextSettings
        {
            Run = request.Run,
            Parameters = request.Parameters,
            Alert = request.Alert,
            Journal = request.Journal,
            HumanGate = request.HumanGate,
            LogSink = request.LogSink,
            Secrets = request.Secrets,
            Redactor = request.Redactor,
            HiddenFromCommands = request.HiddenFromCommands,
            Confirm = request.Confirm,
            Commands = request.Commands,
            HttpHandler = request.HttpHandler,
            Calls = request.Calls,
            Time = time,
            CancellationToken = runSource.Token,
            RunTimeoutToken = timeoutSource.Token,
            InterruptToken = request.InterruptToken,
            DefaultBackoff = request.DefaultStepBackoff,
        });

        var startedAt = time.GetUtcNow();
        RunStatus status;
        string? error = null;
        var script = Task.Run(() => request.Runbook.InvokeAsync(context), CancellationToken.None);
        try
        {
            // Returns at the timeout even if the script ignores its token; such a script keeps a thread busy until it
            // ends on its own, which in-process execution cannot prevent.
            await script.WaitAsync(runSource.Token);
            status = RunStatus.Succeeded;
        }
        catch (Exception) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested && !request.InterruptToken.IsCancellationRequested)
        {
            status = RunStatus.TimedOut;
            error = $"the run did not finish within its timeout of {Durations.Format(timeout)}";
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            status = RunStatus.Cancelled;
            error = "the run was cancelled";
        }
        catch (Exception) when (request.InterruptToken.IsCancellationRequested)
        {
            status = RunStatus.Queued;
            error = "the host shut down during the run; it goes back to the queue";
        }
        catch (Exception) when (context.Proposal is not null)
        {
            // Where a shadow run stops, whatever the script made of the exception on its way out.
            status = RunStatus.Proposed;
        }
        catch (StepInterruptedException ex)
        {
            status = RunStatus.WaitingForHuman;
            error = ex.Message;
        }
        catch (AwaitingHumanException)
        {
            // Not an error: the run rests until a person answers; the step in the journal says what is asked.
            status = RunStatus.WaitingForHuman;
        }
        catch (RunbookFailedException ex)
        {
            status = RunStatus.Failed;
            error = ex.Message;
        }
        catch (Exception ex)
        {
            status = RunStatus.Failed;
            var where = ScriptLocation.Of(ex);
            error = $"{ex.GetType().Name}: {ex.Message}{(where is null ? "" : $" (at {where})")}";
        }

        if (status == RunStatus.Succeeded && context.Proposal is not null)
        {
            // The script caught the proposal and ended quietly: it still stopped where it would have acted.
            status = RunStatus.Proposed;
        }

        if (status is RunStatus.Cancelled or RunStatus.TimedOut or RunStatus.Queued)
        {
            await CloseOpenStepsAsync(request, context, script, status);
        }

        return new RunResult(status, request.Redactor.RedactOrNull(error), context.Steps, startedAt, time.GetUtcNow(),
            status == RunStatus.Proposed ? context.Proposal : null);
    }

    /// <summary>
    /// Lets cooperative code record how its steps ended, then records any step still open itself, so the journal never
    /// shows a step running in a run that has ended.
    /// </summary>
    private static async Task CloseOpenStepsAsync(RunRequest request, RunbookContext context, Task script, RunStatus status)
    {
        try
        {
            await script.WaitAsync(request.CancellationGrace, TimeProvider.System);
        }
        catch (Exception)
        {
            // Whatever the script ends with now, the run's status is already decided.
        }

        foreach (var open in context.Steps.Where(step => !step.IsFinished))
        {
            var closed = open with
            {
                Status = status switch { RunStatus.TimedOut => StepStatus.TimedOut, RunStatus.Queued => StepStatus.Interrupted, _ => StepStatus.Cancelled },
                FinishedAt = request.Time.GetUtcNow(),
                Error = status switch
                {
                    RunStatus.TimedOut => "the run reached its timeout while this step ran",
                    RunStatus.Queued => "the host shut down while this step ran; the run resumes on the next node",
                    _ => "the run was cancelled while this step ran",
                },
            };
            context.RecordClosed(closed);
            await request.Journal.StepFinishedAsync(closed, CancellationToken.None);
        }
    }
}
