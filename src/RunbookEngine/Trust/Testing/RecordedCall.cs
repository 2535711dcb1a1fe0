namespace RunbookEngine.Trust.Testing;

/// <summary>
/// One command or HTTP exchange of a run, as the host kept it (<c>runbook_run_calls</c>), so a test case can be
/// recorded from the run with these as its stubs. Secrets are masked before the host sees them.
/// </summary>
/// <param name="Attempt">The run's attempt that made it.</param>
/// <param name="Sequence">Its place among the run's calls, from 1, across attempts; the store numbers them as it writes them.</param>
/// <param name="StepSequence">The step that made it; 0 outside any step.</param>
/// <param name="Kind"><see cref="CommandKind"/>, <see cref="HttpKind"/> or <see cref="OmittedKind"/>.</param>
/// <param name="Request">The command line as displayed, or <c>METHOD url</c>.</param>
/// <param name="Status">The exit code, or the HTTP status (0 when no response came).</param>
/// <param name="Output">Standard output, or the response body (capped).</param>
/// <param name="ErrorOutput">Standard error, or the response's media type.</param>
/// <param name="Duration">How long it took.</param>
/// <param name="RecordedAt">When it ended.</param>
public sealed record RecordedCall(
    int Attempt,
    int Sequence,
    int StepSequence,
    string Kind,
    string Request,
    int Status,
    string Output,
    string? ErrorOutput,
    TimeSpan Duration,
    DateTimeOffset RecordedAt)
{
    /// <summary>The kind of a command run with <c>Shell</c>.</summary>
    public const string CommandKind = "command";

    /// <summary>The kind of a request made with <c>Http</c>.</summary>
    public const string HttpKind = "http";

    /// <summary>
    /// Not a call: a note that the attempt made more calls than <see cref="MaxPerAttempt"/> and the rest were not kept;
    /// <see cref="Status"/> counts them.
    /// </summary>
    public const string OmittedKind = "omitted";

    /// <summary>The most calls kept of one attempt: a runbook polling in a loop would otherwise hold them all in memory.</summary>
    public const int MaxPerAttempt = 500;

    /// <summary>The most characters of each output kept: what a case needs to replay, not a log.</summary>
    public const int MaxOutput = 64 * 1024;
}
