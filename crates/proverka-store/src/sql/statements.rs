//! The statements, written once with PostgreSQL's `$N` placeholders (SQLite reads them as
//! `?N`, see [`SqlStore::sql`](super::SqlStore)).

/// A reservation: the tenant's day gets a row, then the amount is added only while the total
/// stays within the limit (`$4 < 0`: no limit). One row lock, so concurrent reservations of
/// every replica are serialised by the database.
pub(super) const DAY_ROW: &str =
    "INSERT INTO budgets (tenant, day, committed_kopecks) VALUES ($1, $2, 0)
    ON CONFLICT (tenant, day) DO NOTHING";
pub(super) const RESERVE: &str = "UPDATE budgets SET committed_kopecks = committed_kopecks + $3
    WHERE tenant = $1 AND day = $2 AND ($4 < 0 OR committed_kopecks + $3 <= $4)
    RETURNING committed_kopecks";
pub(super) const COMMITTED: &str =
    "SELECT committed_kopecks FROM budgets WHERE tenant = $1 AND day = $2";
pub(super) const MOVE_BUDGET: &str =
    "INSERT INTO budgets (tenant, day, committed_kopecks) VALUES ($1, $2, $3)
    ON CONFLICT (tenant, day) DO UPDATE
    SET committed_kopecks = budgets.committed_kopecks + excluded.committed_kopecks";
pub(super) const INTENT: &str =
    "INSERT INTO ledger (instance, created_ms, day, tenant, tenant_name, provider,
    kind, query_key, request_id, attempt, reserved_kopecks, batch, row_key)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";
pub(super) const ROW_BY_INTENT: &str =
    "INSERT INTO batch_rows (batch, row_key, state, intent, request_id, outcome, updated_ms)
    VALUES ($1, $2, 'sending', $3, NULL, NULL, $4)
    ON CONFLICT (batch, row_key) DO UPDATE SET state = 'sending', intent = excluded.intent,
    request_id = NULL, outcome = NULL, updated_ms = excluded.updated_ms";
pub(super) const SETTLE: &str =
    "UPDATE ledger SET settled_ms = $2, billed = $3, price_kopecks = $4, code = $5,
    http_status = $6, latency_ms = $7, resent = $8, settled_by = 'call'
    WHERE id = $1 AND settled_ms IS NULL
    RETURNING tenant, day, reserved_kopecks, batch, row_key";
pub(super) const ROW_DECIDED: &str =
    "UPDATE batch_rows SET state = 'done', outcome = $3, intent = NULL, updated_ms = $5
    WHERE batch = $1 AND row_key = $2 AND intent = $4";
pub(super) const REGISTER: &str =
    "INSERT INTO instances (id, host, pid, pid_start, program, started_ms, heartbeat_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms, stopped_ms = NULL";
pub(super) const HEARTBEAT: &str =
    "UPDATE instances SET heartbeat_ms = $2, stopped_ms = NULL WHERE id = $1";
pub(super) const LIVE: &str = "SELECT id, host, pid, pid_start, program, started_ms, heartbeat_ms
    FROM instances WHERE stopped_ms IS NULL ORDER BY started_ms";
pub(super) const STOPPED: &str =
    "UPDATE instances SET stopped_ms = $2 WHERE id = $1 AND stopped_ms IS NULL";
pub(super) const ABANDON: &str = "UPDATE ledger SET settled_ms = $2, billed = 'unknown',
    price_kopecks = reserved_kopecks, code = 'abandoned', settled_by = 'recovery'
    WHERE instance = $1 AND settled_ms IS NULL RETURNING reserved_kopecks";
pub(super) const SPEND: &str = "SELECT day, tenant, provider, kind, COUNT(*) AS calls,
    CAST(SUM(CASE WHEN billed = 'charged' THEN 1 ELSE 0 END) AS BIGINT) AS charged_calls,
    CAST(SUM(CASE WHEN billed = 'unknown' THEN 1 ELSE 0 END) AS BIGINT) AS unknown_calls,
    CAST(SUM(CASE WHEN settled_ms IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS open_calls,
    CAST(SUM(CASE WHEN billed = 'charged' THEN price_kopecks ELSE 0 END) AS BIGINT) AS charged_kopecks,
    CAST(SUM(CASE WHEN billed = 'unknown' THEN price_kopecks ELSE 0 END) AS BIGINT) AS unknown_kopecks,
    CAST(SUM(CASE WHEN settled_ms IS NULL THEN reserved_kopecks ELSE 0 END) AS BIGINT) AS open_kopecks
    FROM ledger WHERE day >= $1 AND day <= $2 AND ($3 = '' OR tenant = $3)
    GROUP BY day, tenant, provider, kind ORDER BY day, tenant, provider, kind";
pub(super) const SAVE: &str = "INSERT INTO savings (day, provider, answers, saved_kopecks)
    VALUES ($1, $2, $3, $4) ON CONFLICT (day, provider) DO UPDATE
    SET answers = savings.answers + excluded.answers,
    saved_kopecks = savings.saved_kopecks + excluded.saved_kopecks";
pub(super) const SAVINGS: &str = "SELECT day, provider, answers, saved_kopecks FROM savings
    WHERE day >= $1 AND day <= $2 ORDER BY day, provider";
pub(super) const NAMES: &str = "SELECT tenant, tenant_name FROM ledger WHERE id IN
    (SELECT MAX(id) FROM ledger WHERE day >= $1 AND day <= $2 GROUP BY tenant)";
pub(super) const OF_REQUEST: &str =
    "SELECT billed FROM ledger WHERE request_id = $1 AND ($2 = '' OR tenant = $2) ORDER BY id";
pub(super) const CLAIM: &str = "INSERT INTO batches (id, label, holder, created_ms, updated_ms)
    VALUES ($1, $2, $3, $4, $4)
    ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, label = excluded.label,
    updated_ms = excluded.updated_ms
    WHERE batches.holder IS NULL OR batches.holder = excluded.holder OR NOT EXISTS
    (SELECT 1 FROM instances WHERE instances.id = batches.holder AND instances.stopped_ms IS NULL)
    RETURNING holder";
pub(super) const HOLDER: &str =
    "SELECT i.id, i.host, i.pid, i.pid_start, i.program, i.started_ms, i.heartbeat_ms
    FROM batches b JOIN instances i ON i.id = b.holder WHERE b.id = $1";
pub(super) const RELEASE: &str =
    "UPDATE batches SET holder = NULL, updated_ms = $3 WHERE id = $1 AND holder = $2";
pub(super) const ROWS: &str = "SELECT r.row_key, r.state, r.intent, r.request_id, r.outcome,
    l.settled_ms, l.billed, l.settled_by
    FROM batch_rows r LEFT JOIN ledger l ON l.id = r.intent WHERE r.batch = $1";
pub(super) const ROW_BY_REQUEST: &str =
    "INSERT INTO batch_rows (batch, row_key, state, intent, request_id, outcome, updated_ms)
    VALUES ($1, $2, 'sending', NULL, $3, NULL, $4)
    ON CONFLICT (batch, row_key) DO UPDATE SET state = 'sending', intent = NULL,
    request_id = excluded.request_id, outcome = NULL, updated_ms = excluded.updated_ms";
pub(super) const ROW_NEW: &str =
    "INSERT INTO batch_rows (batch, row_key, state, intent, request_id, outcome, updated_ms)
    VALUES ($1, $2, 'done', NULL, NULL, $3, $4) ON CONFLICT (batch, row_key) DO NOTHING";
pub(super) const ROW_DONE: &str =
    "INSERT INTO batch_rows (batch, row_key, state, intent, request_id, outcome, updated_ms)
    VALUES ($1, $2, 'done', NULL, NULL, $3, $4)
    ON CONFLICT (batch, row_key) DO UPDATE SET state = 'done', intent = NULL, request_id = NULL,
    outcome = excluded.outcome, updated_ms = excluded.updated_ms";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_reads_the_same_in_both_dialects() {
        // SQLite's ?N is PostgreSQL's $N: no other dollar sign may appear in a statement.
        for text in [
            DAY_ROW,
            RESERVE,
            COMMITTED,
            MOVE_BUDGET,
            INTENT,
            ROW_BY_INTENT,
            SETTLE,
            ROW_DECIDED,
            REGISTER,
            HEARTBEAT,
            LIVE,
            STOPPED,
            ABANDON,
            SPEND,
            SAVE,
            SAVINGS,
            NAMES,
            OF_REQUEST,
            CLAIM,
            HOLDER,
            RELEASE,
            ROWS,
            ROW_BY_REQUEST,
            ROW_NEW,
            ROW_DONE,
        ]
        .iter()
        .chain(super::super::watch::ALL)
        {
            for (i, _) in text.match_indices('$') {
                assert!(
                    text[i + 1..].starts_with(|c: char| c.is_ascii_digit()),
                    "{text}"
                );
            }
        }
    }
}
