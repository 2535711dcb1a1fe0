using System.Globalization;
using System.Reflection;
using System.Text;
using Npgsql;
using RunbookEngine.Storage;

namespace RunbookEngine.Benchmarks.Dashboard;

/// <summary>The filters of one <c>ListRunsAsync</c> call, as the dashboard pages make them.</summary>
internal sealed record RunFilter(
    string? Runbook = null, string? Status = null, string? Trigger = null, string? AlertId = null, string? RetryOf = null, string? Target = null,
    string? Before = null, string? Text = null, int Limit = 50);

/// <summary>
/// The SQL of <c>SqlRunStore.ListRunsAsync</c>, rebuilt here the same way (same columns, same conditions in the same order,
/// same parameters), so <c>EXPLAIN (ANALYZE)</c> shows what PostgreSQL does for each page. Keep it in step with the store.
/// </summary>
internal static class Plans
{
    private const string RunColumns = """
        id AS Id, runbook AS Runbook, commit_sha AS CommitSha, content_hash AS ContentHash, trigger_kind AS TriggerKind,
        triggered_by AS TriggeredBy, parameters AS Parameters, status AS Status, attempt AS Attempt, node AS Node,
        concurrency_key AS ConcurrencyKey, queued_at AS QueuedAt, started_at AS StartedAt, finished_at AS FinishedAt,
        error AS Error, retry_of AS RetryOf, alert_id AS AlertId, target AS Target, manual_minutes AS ManualMinutes
        """;

    /// <summary>
    /// What free-text search looks in: <c>SqlRunStore.SearchExpression</c>, copied (it is internal to the store) and checked
    /// against the store's at start-up by <see cref="CheckInStep"/>. The trigram index <c>ix_runbook_runs_search</c> is on it.
    /// </summary>
    public const string SearchExpression =
        "(LOWER(id || ' | ' || runbook || ' | ' || triggered_by || ' | ' || COALESCE(target, '') || ' | ' || parameters || ' | ' || COALESCE(error, '')))";

    private const string TextSearch = SearchExpression + @" LIKE @text ESCAPE '\'";

    // The first conjunct lets the index on queued_at seek to the cursor (as in the store).
    private const string Cursor = "queued_at <= @cursorTime AND (queued_at < @cursorTime OR (queued_at = @cursorTime AND id < @cursorId))";

    /// <summary>Fails unless the store's search expression is the one rebuilt here, so the EXPLAINs are of the product's SQL.</summary>
    public static void CheckInStep()
    {
        var field = typeof(SqlRunStore).GetField("SearchExpression", BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new InvalidOperationException("SqlRunStore.SearchExpression is gone: bring Plans.cs in step with SqlRunStore.ListRunsAsync");
        if ((string?)field.GetRawConstantValue() != SearchExpression)
        {
            throw new InvalidOperationException($"SqlRunStore.SearchExpression is now {field.GetRawConstantValue()}: bring Plans.cs in step with SqlRunStore.ListRunsAsync");
        }
    }

    /// <summary>The query of one page of runs, with its parameters; a cursor is looked up first, as the store does.</summary>
    public static async Task<(string Sql, Dictionary<string, object?> Parameters)> RunsQueryAsync(NpgsqlConnection connection, RunFilter filter)
    {
        long? cursorTime = null;
        if (filter.Before is not null)
        {
            await using var lookup = new NpgsqlCommand("SELECT queued_at FROM runbook_runs WHERE id = @id", connection);
            lookup.Parameters.AddWithValue("id", filter.Before);
            cursorTime = (long?)await lookup.ExecuteScalarAsync();
        }

        var where = new List<string>();
        var parameters = new Dictionary<string, object?> { ["limit"] = filter.Limit };
        void Filter(string name, object? value, string condition)
        {
            if (value is not null)
            {
                where.Add(condition);
                parameters[name] = value;
            }
        }

        Filter("runbook", filter.Runbook, "runbook = @runbook");
        Filter("status", filter.Status, "status = @status");
        Filter("trigger", filter.Trigger, "trigger_kind = @trigger");
        Filter("alertId", filter.AlertId, "alert_id = @alertId");
        Filter("retryOf", filter.RetryOf, "retry_of = @retryOf");
        Filter("target", Like(filter.Target), @"LOWER(target) LIKE @target ESCAPE '\'");
        Filter("cursorTime", cursorTime, Cursor);
        if (cursorTime is not null)
        {
            parameters["cursorId"] = filter.Before;
        }

        Filter("text", Like(filter.Text), TextSearch);
        var sql = $"""
            SELECT {RunColumns} FROM runbook_runs
            {(where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where))}
            ORDER BY queued_at DESC, id DESC
            LIMIT @limit
            """;
        return (sql, parameters);
    }

    /// <summary>Runs <c>EXPLAIN (ANALYZE, BUFFERS)</c> twice (the first warms the cache) and answers the second: execution time and plan.</summary>
    public static async Task<(double ExecutionMs, string Plan)> ExplainAsync(NpgsqlConnection connection, string sql, IReadOnlyDictionary<string, object?> parameters)
    {
        var plan = new StringBuilder();
        for (var round = 0; round < 2; round++)
        {
            plan.Clear();
            await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS) " + sql, connection) { CommandTimeout = 0 };
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }

            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                plan.AppendLine(reader.GetString(0));
            }
        }

        var text = plan.ToString();
        var line = text.Split('\n').Last(l => l.StartsWith("Execution Time:", StringComparison.Ordinal));
        var ms = double.Parse(line["Execution Time:".Length..].Replace("ms", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
        return (ms, text);
    }

    /// <summary>The plan's node types, outermost first, without costs: a short form for the table.</summary>
    public static string Shape(string plan) => string.Join(" → ", plan.Split('\n')
        .Where(l => l.Length > 0 && !l.StartsWith("Planning", StringComparison.Ordinal) && !l.StartsWith("Execution", StringComparison.Ordinal)
                    && (l.TrimStart().StartsWith("->", StringComparison.Ordinal) || !l.StartsWith(' ')))
        .Select(l => l.TrimStart(' ', '-', '>').Split("  (", 2)[0].Trim()));

    /// <summary>A case-insensitive contains pattern, as the store makes it.</summary>
    public static string? Like(string? text) =>
        text is null ? null : "%" + text.ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
}
