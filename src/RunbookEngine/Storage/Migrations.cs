namespace RunbookEngine.Storage;

/// <summary>
/// The schema, as numbered steps. Never edit a step that has shipped; add the next one. The SQL is the subset PostgreSQL
/// and SQLite share; times are Unix milliseconds in BIGINT columns so both sort and compare them alike.
/// </summary>
internal static class Migrations
{
    public static readonly IReadOnlyList<string> Steps =
    [
        """
        CREATE TABLE runbook_runs (
            id TEXT PRIMARY KEY,
            runbook TEXT NOT NULL,
            commit_sha TEXT NULL,
            content_hash TEXT NOT NULL,
            trigger_kind TEXT NOT NULL,
            triggered_by TEXT NOT NULL,
            parameters TEXT NOT NULL,
            status TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            node TEXT NULL,
            concurrency_key TEXT NULL,
            queued_at BIGINT NOT NULL,
            started_at BIGINT NULL,
            finished_at BIGINT NULL,
            error TEXT NULL,
            retry_of TEXT NULL
        );
        CREATE INDEX ix_runbook_runs_newest ON runbook_runs (queued_at DESC, id DESC);
        CREATE INDEX ix_runbook_runs_runbook ON runbook_runs (runbook, queued_at DESC, id DESC);
        CREATE INDEX ix_runbook_runs_status ON runbook_runs (status, queued_at);
        CREATE TABLE runbook_steps (
            run_id TEXT NOT NULL REFERENCES runbook_runs (id) ON DELETE CASCADE,
            sequence INTEGER NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            started_at BIGINT NOT NULL,
            finished_at BIGINT NULL,
            attempts INTEGER NOT NULL,
            output TEXT NOT NULL,
            error TEXT NULL,
            actor TEXT NOT NULL,
            result_json TEXT NULL,
            idempotent INTEGER NOT NULL,
            picked_up_at BIGINT NULL,
            manual_minutes DOUBLE PRECISION NULL,
            comment TEXT NULL,
            PRIMARY KEY (run_id, sequence)
        );
        """,
    ];

    public static int Latest => Steps.Count;
}
