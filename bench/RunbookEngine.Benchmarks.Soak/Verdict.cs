using System.Globalization;
using Npgsql;

namespace RunbookEngine.Benchmarks.Soak;

/// <summary>A run as the store has it at the end.</summary>
internal sealed record StoredRun(string Id, string Status, int Attempt, string? Node, long QueuedAt, long? StartedAt, long? FinishedAt);

/// <summary>A step as the run's journal has it at the end.</summary>
internal sealed record JournaledStep(int Sequence, string Name, string Status);

/// <summary>One line of a run's step log: a step's code starting or ending in one process.</summary>
internal sealed record StepLine(int Index, string Kind, string Step, int Attempt, string Process, long At)
{
    public override string ToString() => $"{Kind} {Step} attempt {Attempt} in {Process} at {At}";
}

/// <summary>
/// What the soak left behind, judged from the store and from the files the runbook wrote. A step that ran again after
/// a kill -9 is expected when the killed process was in it (it started and never ended) or had ended its code but not
/// yet journaled it (the killed process wrote nothing more for the run: the next step's start line is written only after
/// the step's end is journaled). Any other second run of a step that had ended is a completed step repeated.
/// </summary>
internal sealed class Verdict
{
    public List<string> Lost { get; } = [];

    public List<string> Unfinished { get; } = [];

    public List<string> Overlaps { get; } = [];

    public List<string> Repeated { get; } = [];

    public List<string> CutShort { get; } = [];

    public List<string> Incomplete { get; } = [];

    public int InFlightReruns { get; private set; }

    public int UnjournaledReruns { get; private set; }

    public int StaleLocks { get; private set; }

    public int NotTriggeredByUs { get; private set; }

    public int Takeovers { get; private set; }

    public int MaxAttempt { get; private set; }

    public required IReadOnlyDictionary<string, StoredRun> Runs { get; init; }

    public required IReadOnlyDictionary<string, List<JournaledStep>> Journal { get; init; }

    public static async Task<Verdict> JudgeAsync(string database, string work, IReadOnlyList<string> triggered, IReadOnlySet<string> killed)
    {
        var runs = new Dictionary<string, StoredRun>(StringComparer.Ordinal);
        var journal = new Dictionary<string, List<JournaledStep>>(StringComparer.Ordinal);
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using (var command = new NpgsqlCommand("SELECT id, status, attempt, node, queued_at, started_at, finished_at FROM runbook_runs WHERE runbook = @runbook", connection))
            {
                command.Parameters.AddWithValue("runbook", SoakRunbook.Name);
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    var run = new StoredRun(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                        reader.GetInt64(4), reader.IsDBNull(5) ? null : reader.GetInt64(5), reader.IsDBNull(6) ? null : reader.GetInt64(6));
                    runs[run.Id] = run;
                }
            }

            await using (var command = new NpgsqlCommand(
                "SELECT s.run_id, s.sequence, s.name, s.status FROM runbook_steps s JOIN runbook_runs r ON r.id = s.run_id WHERE r.runbook = @runbook ORDER BY s.run_id, s.sequence", connection))
            {
                command.Parameters.AddWithValue("runbook", SoakRunbook.Name);
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    var id = reader.GetString(0);
                    if (!journal.TryGetValue(id, out var steps))
                    {
                        journal[id] = steps = [];
                    }

                    steps.Add(new JournaledStep(reader.GetInt32(1), reader.GetString(2), reader.GetString(3)));
                }
            }
        }

        var verdict = new Verdict { Runs = runs, Journal = journal };
        var ours = triggered.ToHashSet(StringComparer.Ordinal);
        verdict.NotTriggeredByUs = runs.Keys.Count(id => !ours.Contains(id));
        foreach (var run in runs.Values)
        {
            if (run.Status is "Queued" or "Running" or "WaitingForHuman")
            {
                verdict.Unfinished.Add($"{run.Id}: {run.Status}, attempt {run.Attempt}, node {run.Node}");
            }
        }

        foreach (var id in triggered)
        {
            if (!runs.TryGetValue(id, out var run))
            {
                verdict.Lost.Add($"{id}: accepted by the API, missing from the store");
            }
            else if (run.Status is not ("Succeeded" or "Queued" or "Running" or "WaitingForHuman"))
            {
                verdict.Lost.Add($"{id}: ended {run.Status}, attempt {run.Attempt}, node {run.Node}");
            }
            else if (run.Status == "Succeeded" && (!journal.TryGetValue(id, out var steps) || steps.Count != SoakRunbook.Steps.Length || steps.Any(s => s.Status != "Succeeded")))
            {
                verdict.Lost.Add($"{id}: Succeeded, but its journal holds {(journal.TryGetValue(id, out var held) ? string.Join(", ", held.Select(s => $"{s.Name} {s.Status}")) : "no steps")}");
            }
        }

        foreach (var run in runs.Values)
        {
            verdict.MaxAttempt = Math.Max(verdict.MaxAttempt, run.Attempt);
            if (run.Attempt > 1)
            {
                verdict.Takeovers++;
            }

            verdict.JudgeLog(work, run, killed);
        }

        var overlaps = Path.Combine(work, "overlaps.log");
        if (File.Exists(overlaps))
        {
            verdict.Overlaps.AddRange(File.ReadAllLines(overlaps).Where(line => line.Length > 0));
        }

        var stale = Path.Combine(work, "stale.log");
        verdict.StaleLocks = File.Exists(stale) ? File.ReadAllLines(stale).Count(line => line.Length > 0) : 0;
        return verdict;
    }

    /// <summary>The step log of a run, for a report.</summary>
    public static IReadOnlyList<StepLine> ReadLog(string work, string runId)
    {
        var path = Path.Combine(work, "runs", runId + ".log");
        if (!File.Exists(path))
        {
            return [];
        }

        var lines = new List<StepLine>();
        foreach (var text in File.ReadAllLines(path))
        {
            var f = text.Split(' ');
            if (f.Length == 5 && f[0] is "start" or "end")
            {
                lines.Add(new StepLine(lines.Count, f[0], f[1], int.Parse(f[2], CultureInfo.InvariantCulture), f[3], long.Parse(f[4], CultureInfo.InvariantCulture)));
            }
        }

        return lines;
    }

    private void JudgeLog(string work, StoredRun run, IReadOnlySet<string> killed)
    {
        var lines = ReadLog(work, run.Id);
        foreach (var step in SoakRunbook.Steps)
        {
            var own = lines.Where(l => l.Step == step).ToList();
            for (var i = 0; i < own.Count; i++)
            {
                if (own[i].Kind != "start" || own.Take(i).All(l => l.Kind != "start"))
                {
                    continue;
                }

                var rerun = own[i];
                if (own.Take(i).LastOrDefault(l => l.Kind == "end") is { } ended)
                {
                    var killedBeforeJournal = killed.Contains(ended.Process) && !lines.Any(l => l.Index > ended.Index && l.Process == ended.Process);
                    if (killedBeforeJournal)
                    {
                        UnjournaledReruns++;
                    }
                    else
                    {
                        Repeated.Add($"{run.Id} step {step}: ended ({ended}), then started again ({rerun})");
                    }
                }
                else if (own.Take(i).Last(l => l.Kind == "start") is var cut && killed.Contains(cut.Process))
                {
                    InFlightReruns++;
                }
                else
                {
                    CutShort.Add($"{run.Id} step {step}: started ({cut}) and never ended, though its process was not killed; started again ({rerun})");
                }
            }
        }

        if (run.Status == "Succeeded")
        {
            var missing = SoakRunbook.Steps.Where(step => lines.LastOrDefault(l => l.Step == step) is not { Kind: "end" }).ToList();
            if (missing.Count > 0)
            {
                Incomplete.Add($"{run.Id}: Succeeded, but the last line of step(s) {string.Join(", ", missing)} in its log is not an end");
            }
        }
    }
}
