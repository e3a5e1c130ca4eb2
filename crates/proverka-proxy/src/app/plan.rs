//! `--check-config`: what this proxy would do, in words, never a secret's value.

use proverka_core::CredentialStyle;

use super::AppState;

impl AppState {
    /// What this proxy would do, one line each; never a secret's value.
    pub(crate) fn plan(&self) -> Vec<String> {
        let c = &self.config;
        let mut lines = vec![format!("listen on {}", c.listen)];
        if let Some(m) = c.metrics_listen {
            lines.push(format!("serve /metrics, /healthz, /readyz on {m}"));
        }
        for u in self.engine.upstreams() {
            let credential = match (u.credential_style(), u.configured_credential()) {
                (CredentialStyle::None, _) => "no credential needed",
                (CredentialStyle::CallerBearer, _) => "the caller's own bearer",
                (CredentialStyle::QueryParam(_), Some(_)) => {
                    "the configured credential (one shared cache)"
                }
                (CredentialStyle::QueryParam(_), None) => {
                    "the caller's own credential (cache partitioned by it)"
                }
            };
            let mut line = format!(
                "call {} at {} with {credential}; timeout {} s",
                u.provider(),
                u.settings().base_url(),
                u.settings().timeout().as_secs()
            );
            if let Some(pace) = u.pace() {
                line.push_str(&format!("; one call every {} ms", pace.as_millis()));
            }
            if let Some(free) = u.free() {
                line.push_str(&format!(
                    "; source {:?}, free source {} (wait at most {} s)",
                    free.mode,
                    free.source.free(),
                    free.max_wait.as_secs()
                ));
            }
            lines.push(line);
        }
        lines.push(
            match (&c.cache.redis_url, c.cache.redis_cluster.is_empty()) {
                (Some(_), _) => format!(
                    "cache in memory ({} MiB) and in Redis, {}",
                    c.cache.memory_mb,
                    if c.cache.encryption_key.is_some() || !c.cache.encryption_keys.is_empty() {
                        "encrypted"
                    } else {
                        "in plain text (allow_plaintext)"
                    }
                ),
                (None, false) => format!(
                    "cache in memory ({} MiB) and in a Redis Cluster",
                    c.cache.memory_mb
                ),
                (None, true) => format!(
                    "cache in memory only ({} MiB): one process",
                    c.cache.memory_mb
                ),
            },
        );
        let store = self.engine.store();
        lines.push(format!(
            "keep budgets, the ledger and batch state in {} at {}",
            store.backend(),
            store.location()
        ));
        let live = self.live();
        lines.push(if live.clients.is_empty() {
            "accept any caller on loopback (no [[clients]])".to_owned()
        } else {
            format!(
                "accept {} client key(s); {} with a daily budget",
                live.clients.len(),
                live.clients
                    .iter()
                    .filter(|cl| cl.tenant.budget.is_some())
                    .count()
            )
        });
        lines.push(match &c.ledger_path {
            Some(p) => format!("also append the ledger to {}", p.display()),
            None => "also write the ledger to the log".to_owned(),
        });
        lines
    }
}
