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
        """
        ALTER TABLE runbook_runs ADD COLUMN alert_id TEXT NULL;
        ALTER TABLE runbook_runs ADD COLUMN target TEXT NULL;
        CREATE UNIQUE INDEX ux_runbook_runs_alert ON runbook_runs (alert_id, runbook) WHERE alert_id IS NOT NULL AND retry_of IS NULL;
        CREATE INDEX ix_runbook_runs_target ON runbook_runs (runbook, target, queued_at);
        CREATE INDEX ix_runbook_runs_trigger ON runbook_runs (runbook, trigger_kind, queued_at);
        CREATE TABLE runbook_deliveries (
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            received_at BIGINT NOT NULL,
            source_delivery_id TEXT NULL,
            payload TEXT NOT NULL,
            alerts INTEGER NOT NULL
        );
        CREATE TABLE runbook_alerts (
            id TEXT PRIMARY KEY,
            delivery TEXT NOT NULL REFERENCES runbook_deliveries (id) ON DELETE CASCADE,
            source TEXT NOT NULL,
            name TEXT NOT NULL,
            status TEXT NOT NULL,
            severity TEXT NULL,
            labels TEXT NOT NULL,
            annotations TEXT NOT NULL,
            starts_at BIGINT NOT NULL,
            ends_at BIGINT NULL,
            fingerprint TEXT NOT NULL,
            source_delivery_id TEXT NULL,
            dedup_key TEXT NOT NULL,
            received_at BIGINT NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT NULL,
            duplicate_of TEXT NULL,
            claimed_by TEXT NULL,
            claimed_at BIGINT NULL,
            resolved_at BIGINT NULL
        );
        CREATE INDEX ix_runbook_alerts_newest ON runbook_alerts (received_at DESC, id DESC);
        CREATE INDEX ix_runbook_alerts_outcome ON runbook_alerts (outcome, received_at);
        CREATE INDEX ix_runbook_alerts_fingerprint ON runbook_alerts (source, fingerprint, status);
        CREATE INDEX ix_runbook_alerts_name ON runbook_alerts (name, received_at);
        CREATE TABLE runbook_alert_keys (
            dedup_key TEXT PRIMARY KEY,
            alert_id TEXT NOT NULL
        );
        CREATE TABLE runbook_alert_decisions (
            alert_id TEXT NOT NULL REFERENCES runbook_alerts (id) ON DELETE CASCADE,
            runbook TEXT NOT NULL,
            decision TEXT NOT NULL,
            run_id TEXT NULL,
            reason TEXT NULL,
            decided_at BIGINT NOT NULL,
            PRIMARY KEY (alert_id, runbook)
        );
        CREATE TABLE runbook_breakers (
            runbook TEXT PRIMARY KEY,
            opened_at BIGINT NULL,
            open_until BIGINT NULL,
            reason TEXT NULL,
            reset_by TEXT NULL,
            reset_at BIGINT NULL
        );
        """,
        """
        CREATE TABLE runbook_versions (
            runbook TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            commit_sha TEXT NULL,
            author TEXT NULL,
            committed_at BIGINT NULL,
            message TEXT NULL,
            valid INTEGER NOT NULL,
            errors TEXT NOT NULL,
            files TEXT NOT NULL,
            first_seen_at BIGINT NOT NULL,
            PRIMARY KEY (runbook, content_hash)
        );
        CREATE INDEX ix_runbook_versions_seen ON runbook_versions (runbook, first_seen_at DESC);
        CREATE TABLE runbook_catalog_state (
            id INTEGER PRIMARY KEY,
            commit_sha TEXT NOT NULL,
            node TEXT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        """,
        """
        ALTER TABLE runbook_runs ADD COLUMN manual_minutes DOUBLE PRECISION NULL;
        ALTER TABLE runbook_runs ADD COLUMN wake_at BIGINT NULL;
        CREATE INDEX ix_runbook_runs_wake ON runbook_runs (status, wake_at);
        CREATE INDEX ix_runbook_runs_alert ON runbook_runs (alert_id);
        ALTER TABLE runbook_steps ADD COLUMN role TEXT NULL;
        ALTER TABLE runbook_steps ADD COLUMN different_person INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runbook_steps ADD COLUMN due_at BIGINT NULL;
        """,
        // The run page lists a run's retries (retry_of = @id); without this every run page read the whole table. Partial,
        // as most runs are not retries; both databases use it for an equality on retry_of.
        """
        CREATE INDEX ix_runbook_runs_retry ON runbook_runs (retry_of) WHERE retry_of IS NOT NULL;
        """,
        // Retention deletes runs, steps and alerts past RunbookEngine:Retention:MaxAge. The toil reports keep what they
        // need of each deleted run (its figures, not its journal) and a daily count of unautomated alerts, so past weeks
        // keep their figures. The indexes serve retention's lookups: an alert's delivery and keys, old deliveries.
        """
        CREATE TABLE runbook_toil_runs (
            run_id TEXT PRIMARY KEY,
            runbook TEXT NOT NULL,
            status TEXT NOT NULL,
            trigger_kind TEXT NOT NULL,
            queued_at BIGINT NOT NULL,
            started_at BIGINT NULL,
            finished_at BIGINT NULL,
            manual_minutes DOUBLE PRECISION NULL,
            baseline_minutes DOUBLE PRECISION NOT NULL,
            automated_minutes DOUBLE PRECISION NOT NULL,
            human_minutes DOUBLE PRECISION NOT NULL,
            saved_minutes DOUBLE PRECISION NOT NULL,
            alert_id TEXT NULL,
            alert_source TEXT NULL,
            alert_name TEXT NULL,
            alert_starts_at BIGINT NULL,
            alert_resolved_at BIGINT NULL,
            alert_labels TEXT NULL,
            summarised_at BIGINT NOT NULL
        );
        CREATE INDEX ix_runbook_toil_runs_queued ON runbook_toil_runs (queued_at);
        CREATE INDEX ix_runbook_toil_runs_alert ON runbook_toil_runs (alert_id) WHERE alert_id IS NOT NULL;
        CREATE TABLE runbook_toil_unautomated (
            day_start BIGINT NOT NULL,
            name TEXT NOT NULL,
            source TEXT NOT NULL,
            alerts BIGINT NOT NULL,
            first_seen BIGINT NOT NULL,
            last_seen BIGINT NOT NULL,
            PRIMARY KEY (day_start, name, source)
        );
        CREATE INDEX ix_runbook_alerts_delivery ON runbook_alerts (delivery);
        CREATE INDEX ix_runbook_alert_keys_alert ON runbook_alert_keys (alert_id);
        CREATE INDEX ix_runbook_deliveries_received ON runbook_deliveries (received_at);
        """,

        // 7: the W3C trace context of the request that delivered an alert and of whatever queued a run, so matching
        // and every execution of the run, on any node and after restarts, link back to it.
        """
        ALTER TABLE runbook_alerts ADD COLUMN trace_parent TEXT NULL;
        ALTER TABLE runbook_runs ADD COLUMN trace_parent TEXT NULL;
        """,

        // 8: the execution running the run (a Quartz trigger then; the claim of an execution since step 10), so only the
        // execution that holds the run writes to it.
        """
        ALTER TABLE runbook_runs ADD COLUMN execution TEXT NULL;
        """,

        // 9: security round two. The Data Protection key ring every node (and every run's own process) shares, for
        // sign-in cookies, anti-forgery tokens and secret parameters at rest; secret parameter values sealed with it,
        // out of the searchable parameters column (the partial index finds the runs from before, which the host seals at start, so
        // that check costs nothing once they are done); GitHub delivery ids, so a replay to another node is recognised.
        """
        CREATE TABLE runbook_protection_keys (
            name TEXT PRIMARY KEY,
            xml TEXT NOT NULL,
            created_at BIGINT NOT NULL
        );
        ALTER TABLE runbook_runs ADD COLUMN sealed_parameters TEXT NULL;
        CREATE INDEX ix_runbook_runs_unsealed ON runbook_runs (id) WHERE sealed_parameters IS NULL;
        CREATE TABLE runbook_github_deliveries (
            delivery_id TEXT PRIMARY KEY,
            received_at BIGINT NOT NULL
        );
        """,

        // 10: Hangfire delivers at least once, so the run store decides who runs a run. `execution` becomes the claim of
        // the execution that runs it, renewed by its node's heartbeat; a delivery that finds a live claim steps back, and
        // every journal write checks it. The watchdog re-dispatches a run whose dispatch was lost, at most once per bound
        // (`dispatched_at`), and a cancel asked on any node reaches the node running the run through `cancel_requested`.
        // `job_id` is the Hangfire job of the latest execution, which the run's page links to.
        """
        ALTER TABLE runbook_runs ADD COLUMN job_id TEXT NULL;
        ALTER TABLE runbook_runs ADD COLUMN heartbeat_at BIGINT NULL;
        ALTER TABLE runbook_runs ADD COLUMN dispatched_at BIGINT NULL;
        ALTER TABLE runbook_runs ADD COLUMN cancel_requested TEXT NULL;
        CREATE INDEX ix_runbook_runs_key ON runbook_runs (concurrency_key, queued_at) WHERE concurrency_key IS NOT NULL;
        """,

        // 11: runbooks earn trust. A run in shadow or confirm mode says so (`mode`, null for auto); a shadow run that
        // stopped before its first side effect keeps what it would have done (`proposal`, JSON), and a person's verdict
        // on it. The partial indexes serve a runbook's shadow and confirm records, which the promotion suggestion counts
        // on every read of the runbooks list: without them that read would scan every run ever kept.
        """
        ALTER TABLE runbook_runs ADD COLUMN mode TEXT NULL;
        ALTER TABLE runbook_runs ADD COLUMN proposal TEXT NULL;
        ALTER TABLE runbook_runs ADD COLUMN verdict TEXT NULL;
        ALTER TABLE runbook_runs ADD COLUMN verdict_by TEXT NULL;
        ALTER TABLE runbook_runs ADD COLUMN verdict_comment TEXT NULL;
        ALTER TABLE runbook_runs ADD COLUMN verdict_at BIGINT NULL;
        CREATE INDEX ix_runbook_runs_proposed ON runbook_runs (runbook, queued_at) WHERE proposal IS NOT NULL;
        CREATE INDEX ix_runbook_runs_confirm ON runbook_runs (runbook, queued_at) WHERE mode = 'confirm';
        """,

        // 12: the `runbooks` check of a commit is posted once for the whole cluster. Two nodes that fetch the same commit
        // (or the same pull request's head) within a request's length both found no check on GitHub and both posted one;
        // now each first inserts (commit, check name), and only the node whose insert wins posts. A node that gives up
        // posting deletes its row, so a later sync can try again; a node that dies first leaves a claim without
        // `posted_at`, which another node may take over once it is older than a lease. A version also keeps the pull
        // request GitHub's API says its commit came from, for merges whose message names none (a rebase merge, a fast-forward).
        """
        CREATE TABLE runbook_github_checks (
            head_sha TEXT NOT NULL,
            check_name TEXT NOT NULL,
            node TEXT NOT NULL,
            claimed_at BIGINT NOT NULL,
            posted_at BIGINT NULL,
            PRIMARY KEY (head_sha, check_name)
        );
        ALTER TABLE runbook_versions ADD COLUMN pull_request INTEGER NULL;
        """,

        // 13: game days: a fault injected on purpose, the alert it raised, the run that fixed it, the check that it is
        // gone, and the times between. The partial unique index is what allows one running game day per runbook across a
        // cluster; `node` and `heartbeat_at` let any node tell a game day whose node died from one still going.
        """
        CREATE TABLE runbook_gamedays (
            id TEXT PRIMARY KEY,
            runbook TEXT NOT NULL,
            started_by TEXT NOT NULL,
            started_at BIGINT NOT NULL,
            injected_at BIGINT NULL,
            alert_id TEXT NULL,
            alert_at BIGINT NULL,
            run_id TEXT NULL,
            remediated_at BIGINT NULL,
            verified_at BIGINT NULL,
            restored_at BIGINT NULL,
            finished_at BIGINT NULL,
            status TEXT NOT NULL,
            phase TEXT NOT NULL,
            error TEXT NULL,
            log TEXT NOT NULL,
            node TEXT NOT NULL,
            heartbeat_at BIGINT NOT NULL
        );
        CREATE INDEX ix_runbook_gamedays_runbook ON runbook_gamedays (runbook, started_at DESC, id DESC);
        CREATE UNIQUE INDEX ux_runbook_gamedays_running ON runbook_gamedays (runbook) WHERE status = 'Running';
        """,

        // 14: what each command and HTTP call of a run returned (masked, outputs capped), in order, so a test case can
        // be recorded from a real alert and its run with these as its stubs. They go with their run (cascade, and
        // retention deletes them first on SQLite files opened without foreign keys).
        """
        CREATE TABLE runbook_run_calls (
            run_id TEXT NOT NULL REFERENCES runbook_runs (id) ON DELETE CASCADE,
            attempt INTEGER NOT NULL,
            sequence INTEGER NOT NULL,
            step_sequence INTEGER NOT NULL,
            kind TEXT NOT NULL,
            request TEXT NOT NULL,
            status INTEGER NOT NULL,
            output TEXT NOT NULL,
            error_output TEXT NULL,
            duration_ms BIGINT NOT NULL,
            recorded_at BIGINT NOT NULL,
            PRIMARY KEY (run_id, sequence)
        );
        """,

        // 15: the notifications outbox. A run's outcome writes its event row in the transaction that records the outcome,
        // so an event is never lost to a crash between the two nor sent for an outcome that was rolled back; a node routes
        // the event to its channels (one delivery row each) and delivers them under a lease, as runs are claimed. Rows
        // with no channel are events not yet routed. A chat message per run and channel is remembered so a later event
        // or a second delivery updates it rather than posting again.
        """
        CREATE TABLE runbook_notifications (
            id TEXT PRIMARY KEY,
            event TEXT NOT NULL,
            run_id TEXT NULL,
            runbook TEXT NULL,
            detail TEXT NULL,
            channel TEXT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at BIGINT NOT NULL,
            lease_node TEXT NULL,
            lease_until BIGINT NULL,
            last_error TEXT NULL,
            created_at BIGINT NOT NULL,
            delivered_at BIGINT NULL
        );
        CREATE INDEX ix_runbook_notifications_due ON runbook_notifications (next_attempt_at) WHERE state IN ('Routing', 'Pending', 'Failing');
        CREATE INDEX ix_runbook_notifications_state ON runbook_notifications (state, created_at);
        CREATE TABLE runbook_notification_messages (
            run_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            message_ref TEXT NOT NULL,
            PRIMARY KEY (run_id, channel)
        );
        """,

        // 16: incidents. Related firing alerts are grouped when they are stored: each incident owns keys (the sender's
        // group, the fingerprint, shared labels within a window) while it is open, and the primary key on the key is what
        // makes two nodes that store related alerts at once agree on one incident. An alert keeps its incident and the
        // sender's own group key; closing an incident frees its keys, so a later firing opens a new one.
        """
        CREATE TABLE runbook_incidents (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            service TEXT NULL,
            group_rule TEXT NOT NULL,
            group_key TEXT NOT NULL,
            state TEXT NOT NULL,
            opened_at BIGINT NOT NULL,
            closed_at BIGINT NULL,
            last_alert_at BIGINT NOT NULL
        );
        CREATE INDEX ix_runbook_incidents_newest ON runbook_incidents (opened_at DESC, id DESC);
        CREATE TABLE runbook_incident_keys (
            group_key TEXT PRIMARY KEY,
            incident_id TEXT NOT NULL,
            expires_at BIGINT NULL
        );
        CREATE INDEX ix_runbook_incident_keys_incident ON runbook_incident_keys (incident_id);
        ALTER TABLE runbook_alerts ADD COLUMN incident_id TEXT NULL;
        ALTER TABLE runbook_alerts ADD COLUMN group_key TEXT NULL;
        CREATE INDEX ix_runbook_alerts_incident ON runbook_alerts (incident_id, received_at) WHERE incident_id IS NOT NULL;
        """,

        // 17: what a runbook's budget gate decided for an alert-started run (the SLO, its budget left, the threshold, and
        // whether the run was switched to confirm), JSON, kept on the run so its page and an incident's timeline show it.
        """
        ALTER TABLE runbook_runs ADD COLUMN budget_gate TEXT NULL;
        """,

        // 18: chat callbacks seen lately (a Slack interaction's signature and trigger id), so a replayed Approve is refused
        // on every node of a cluster, not only the one that took the first. seen_at is the callback's signed timestamp;
        // rows signed more than two 5-minute windows before a new callback's are deleted as it arrives.
        """
        CREATE TABLE runbook_interactions (
            interaction_key TEXT PRIMARY KEY,
            seen_at BIGINT NOT NULL
        );
        """,
    ];

    public static int Latest => Steps.Count;
}
