//! What a reload (SIGHUP) cannot apply: the settings that need a restart.

use std::collections::BTreeMap;

use proverka_core::Secret;

use super::Config;

/// Every setting that needs a restart, as text by its key; a secret as its SHA-256, so a
/// changed secret is seen without being held in the clear twice.
pub(super) fn restart_only(c: &Config) -> BTreeMap<String, String> {
    use sha2::Digest as _;
    let secret = |s: &Option<Secret>| {
        s.as_ref().map_or_else(String::new, |s| {
            format!("{:x}", sha2::Sha256::digest(s.expose().as_bytes()))
        })
    };
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        m.insert(k.to_owned(), v);
    };
    put("listen", c.listen.to_string());
    put("metrics_listen", format!("{:?}", c.metrics_listen));
    put("log_format", format!("{:?}", c.log_format));
    put("shutdown_grace_secs", c.shutdown_grace_secs.to_string());
    put("max_query_bytes", c.max_query_bytes.to_string());
    put("ledger_path", format!("{:?}", c.ledger_path));
    put("store_path", format!("{:?}", c.store_path));
    put("store_url", secret(&c.store_url));
    put(
        "http.header_read_timeout_secs",
        c.http.header_read_timeout_secs.to_string(),
    );
    put("http.max_header_bytes", c.http.max_header_bytes.to_string());
    put("http.max_connections", c.http.max_connections.to_string());
    put("cache.memory_mb", c.cache.memory_mb.to_string());
    put("cache.redis_url", secret(&c.cache.redis_url));
    put("cache.redis_cluster", c.cache.redis_cluster.join(","));
    put(
        "cache.redis_ca_file",
        format!("{:?}", c.cache.redis_ca_file),
    );
    put("cache.encryption_key", secret(&c.cache.encryption_key));
    put(
        "cache.encryption_keys",
        c.cache
            .encryption_keys
            .iter()
            .map(|k| secret(&Some(k.clone())))
            .collect::<Vec<_>>()
            .join(","),
    );
    put("cache.allow_plaintext", c.cache.allow_plaintext.to_string());
    put("cache.key_prefix", c.cache.key_prefix.clone());
    put(
        "cache.stale_grace_secs",
        c.cache.stale_grace_secs.to_string(),
    );
    put("cache.max_flights", c.cache.max_flights.to_string());
    put("cache.lock_ttl_secs", c.cache.lock_ttl_secs.to_string());
    put(
        "cache.outage_wait_secs",
        c.cache.outage_wait_secs.to_string(),
    );
    put("retry.max_attempts", c.retry.max_attempts.to_string());
    put("retry.base_delay_ms", c.retry.base_delay_ms.to_string());
    // Every registered provider, so a section added with defaults changes nothing.
    for name in crate::registry::names() {
        let p = c.providers.get(name).cloned().unwrap_or_default();
        let key = |field: &str| format!("providers.{name}.{field}");
        put(&key("base_url"), format!("{:?}", p.base_url));
        put(&key("credential"), secret(&p.credential().cloned()));
        put(&key("timeout_secs"), format!("{:?}", p.timeout_secs));
        put(&key("max_concurrency"), format!("{:?}", p.max_concurrency));
        put(&key("max_body_bytes"), format!("{:?}", p.max_body_bytes));
        put(&key("per_minute"), format!("{:?}", p.per_minute));
        put(&key("source"), format!("{:?}", p.source));
        put(
            &key("free_max_wait_secs"),
            format!("{:?}", p.free_max_wait_secs),
        );
    }
    m
}
