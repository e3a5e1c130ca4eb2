//! The schema, as migrations that live with the code and run when a store is opened: a table
//! `proverka_schema` records the versions applied, so a binary refuses a database written by a
//! newer one instead of misreading money state.
//!
//! Hand-written rather than `sqlx::migrate!`: that macro would build sqlx's macro crate (and a
//! second copy of both drivers) for three statements; this is one loop.

/// The newest schema version this binary reads and writes.
pub const SCHEMA_VERSION: i64 = 3;

/// The migrations in order: version, what it does, its DDL (`{ID}` is the backend's
/// auto-increment primary key).
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "money state: instances, budgets, the ledger, batches",
        "CREATE TABLE instances (
        id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid BIGINT NOT NULL,
        pid_start BIGINT NOT NULL,
        program TEXT NOT NULL,
        started_ms BIGINT NOT NULL,
        heartbeat_ms BIGINT NOT NULL,
        stopped_ms BIGINT
    );
    CREATE TABLE budgets (
        tenant TEXT NOT NULL,
        day TEXT NOT NULL,
        committed_kopecks BIGINT NOT NULL,
        PRIMARY KEY (tenant, day)
    );
    CREATE TABLE ledger (
        id {ID},
        instance TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        day TEXT NOT NULL,
        tenant TEXT NOT NULL,
        tenant_name TEXT NOT NULL,
        provider TEXT NOT NULL,
        kind TEXT NOT NULL,
        query_key TEXT NOT NULL,
        request_id TEXT NOT NULL,
        attempt BIGINT NOT NULL,
        reserved_kopecks BIGINT NOT NULL,
        batch TEXT,
        row_key TEXT,
        settled_ms BIGINT,
        billed TEXT,
        price_kopecks BIGINT,
        code TEXT,
        http_status BIGINT,
        latency_ms BIGINT,
        resent BIGINT,
        settled_by TEXT
    );
    CREATE INDEX ledger_open ON ledger (instance) WHERE settled_ms IS NULL;
    CREATE INDEX ledger_day ON ledger (day, tenant);
    CREATE INDEX ledger_request ON ledger (request_id);
    CREATE TABLE batches (
        id TEXT PRIMARY KEY,
        label TEXT NOT NULL,
        holder TEXT,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL
    );
    CREATE TABLE batch_rows (
        batch TEXT NOT NULL,
        row_key TEXT NOT NULL,
        state TEXT NOT NULL,
        intent BIGINT,
        request_id TEXT,
        outcome TEXT,
        updated_ms BIGINT NOT NULL,
        PRIMARY KEY (batch, row_key)
    );",
    ),
    (
        2,
        "savings: paid answers served without a call, per day and provider",
        "CREATE TABLE savings (
        day TEXT NOT NULL,
        provider TEXT NOT NULL,
        answers BIGINT NOT NULL,
        saved_kopecks BIGINT NOT NULL,
        PRIMARY KEY (day, provider)
    );",
    ),
    (
        3,
        "watch lists: lists, sealed subjects, runs, answers, changes, notifications",
        "CREATE TABLE watch_lists (
        name TEXT PRIMARY KEY,
        check_name TEXT NOT NULL,
        every_s BIGINT NOT NULL,
        schedule TEXT NOT NULL,
        webhook_sealed TEXT,
        options TEXT NOT NULL,
        created_ms BIGINT NOT NULL
    );
    CREATE TABLE watch_subjects (
        list TEXT NOT NULL,
        id TEXT NOT NULL,
        sealed TEXT NOT NULL,
        added_ms BIGINT NOT NULL,
        due_ms BIGINT NOT NULL,
        PRIMARY KEY (list, id)
    );
    CREATE TABLE watch_runs (
        id {ID},
        list TEXT NOT NULL,
        started_ms BIGINT NOT NULL,
        finished_ms BIGINT,
        baseline BIGINT NOT NULL
    );
    CREATE INDEX watch_runs_list ON watch_runs (list, id);
    CREATE TABLE watch_answers (
        id {ID},
        list TEXT NOT NULL,
        subject TEXT NOT NULL,
        run BIGINT NOT NULL,
        at_ms BIGINT NOT NULL,
        status TEXT NOT NULL,
        source TEXT NOT NULL,
        billed TEXT NOT NULL,
        price_kopecks BIGINT,
        request_id TEXT NOT NULL,
        body_sha256 TEXT,
        sealed TEXT
    );
    CREATE INDEX watch_answers_subject ON watch_answers (list, subject, id);
    CREATE UNIQUE INDEX watch_answers_run ON watch_answers (run, subject);
    CREATE TABLE watch_changes (
        id {ID},
        list TEXT NOT NULL,
        subject TEXT NOT NULL,
        run BIGINT NOT NULL,
        at_ms BIGINT NOT NULL,
        what TEXT NOT NULL,
        sealed TEXT NOT NULL
    );
    CREATE INDEX watch_changes_list ON watch_changes (list, at_ms);
    CREATE TABLE watch_deliveries (
        run BIGINT PRIMARY KEY,
        list TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        sealed TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        delivered_ms BIGINT
    );",
    ),
];

/// The table of applied versions.
pub(crate) const VERSIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS proverka_schema (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    applied_ms BIGINT NOT NULL
)";
