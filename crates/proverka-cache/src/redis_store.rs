//! [`RedisStore`]: the shared tier on Redis or a Redis Cluster.

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue};
use tokio::sync::{Mutex, mpsc};

mod scripts;

use scripts::{READ_OR_LOCK, RENEW, STORE_AND_UNLOCK, Scripts, TAKE_TURN, UNLOCK};

use crate::pacing::Ticket;
use crate::remote::{BoxFuture, ReadOrLock, RemoteError, RemoteStore, Subscription};

/// Connection and command timeouts: short, so a dead Redis costs milliseconds, not seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisOptions {
    /// Connecting (and reconnecting).
    pub connect_timeout: Duration,
    /// One command's answer.
    pub response_timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_millis(500),
            response_timeout: Duration::from_millis(500),
        }
    }
}

enum Conn {
    /// One server: a connection manager that reconnects by itself.
    Single {
        manager: ConnectionManager,
        client: redis::Client,
    },
    /// A cluster: connected lazily and again after failures.
    Cluster {
        client: Box<redis::cluster::ClusterClient>,
        conn: Mutex<Option<ClusterConnection>>,
    },
}

/// The Redis tier. Pub/sub notifies waiting replicas on a single server; on a cluster they
/// poll (the value, lock and channel of one entry share a hash tag, so one node holds them).
pub struct RedisStore {
    conn: Conn,
    options: RedisOptions,
    scripts: Scripts,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: never printed.
        let kind = match self.conn {
            Conn::Single { .. } => "single",
            Conn::Cluster { .. } => "cluster",
        };
        f.debug_struct("RedisStore")
            .field("kind", &kind)
            .field("options", &self.options)
            .finish()
    }
}

/// A time to live in whole milliseconds, at least one (Redis refuses `PX 0`).
fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn err(e: redis::RedisError) -> RemoteError {
    // redis errors can quote the URL (and so a password) on connection failures: keep only
    // the kind and category.
    let message = format!("{:?} ({})", e.kind(), e.category());
    // A wrong password or user: a misconfiguration that will not pass by itself.
    if e.kind() == redis::ErrorKind::AuthenticationFailed
        || matches!(e.code(), Some("WRONGPASS" | "NOAUTH" | "NOPERM"))
    {
        return RemoteError::unauthorized(message);
    }
    // A cluster between a master's death and its replica's promotion (`CLUSTERDOWN`,
    // `TRYAGAIN`, `MASTERDOWN`, a slot `MOVED` or `ASK`ed elsewhere while the client's map is
    // stale) or a server loading its data (`LOADING`) answers, but for the moment only: an
    // outage that passes, not a refusal.
    let passing = matches!(
        e.code(),
        Some("CLUSTERDOWN" | "TRYAGAIN" | "MASTERDOWN" | "MOVED" | "ASK" | "LOADING")
    );
    // A server error (OOM, READONLY, …) means Redis is there and said no.
    if e.code().is_some()
        && !passing
        && !e.is_io_error()
        && !e.is_timeout()
        && !e.is_connection_dropped()
    {
        RemoteError::refused(format!("{message}: {}", e.code().unwrap_or_default()))
    } else {
        RemoteError::unreachable(message)
    }
}

/// Makes sure rustls has a process-wide crypto provider before a TLS connection is set up:
/// aws-lc-rs (the one reqwest uses too), unless the application installed one already.
/// Without it, rustls panics when several providers, or none, are compiled in.
fn tls_provider() {
    // An error only says a provider is installed already: that one is used.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

impl RedisStore {
    /// A store on one Redis server, connected lazily: a Redis that is down at start-up
    /// delays nothing, and the connection comes back by itself. Call it within a tokio
    /// runtime.
    ///
    /// # Errors
    /// When the URL does not parse, or no tokio runtime is running.
    /// `rediss://` URLs speak TLS, checking the server's certificate against the system's
    /// roots (see [`RedisStore::single_with_ca`] for a private CA).
    pub fn single(url: &str, options: RedisOptions) -> Result<Self, RemoteError> {
        Self::connect_single(url, None, options)
    }

    /// As [`RedisStore::single`], for a `rediss://` URL whose server certificate is signed by
    /// the CA in `ca_pem` (PEM) instead of one of the system's roots.
    ///
    /// # Errors
    /// As [`RedisStore::single`], and when the URL is not `rediss://`: a CA without TLS would
    /// be silently unused.
    pub fn single_with_ca(
        url: &str,
        ca_pem: Vec<u8>,
        options: RedisOptions,
    ) -> Result<Self, RemoteError> {
        Self::connect_single(url, Some(ca_pem), options)
    }

    fn connect_single(
        url: &str,
        ca_pem: Option<Vec<u8>>,
        options: RedisOptions,
    ) -> Result<Self, RemoteError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(RemoteError::unreachable(
                "RedisStore::single must be called within a tokio runtime",
            ));
        }
        if url.starts_with("rediss://") {
            tls_provider();
        }
        let client = match ca_pem {
            None => redis::Client::open(url).map_err(err)?,
            Some(_) if !url.starts_with("rediss://") => {
                return Err(RemoteError::unreachable(
                    "a Redis CA certificate needs a rediss:// URL (TLS)",
                ));
            }
            Some(pem) => redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                },
            )
            .map_err(err)?,
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.response_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager =
            ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(err)?;
        Ok(Self {
            conn: Conn::Single { manager, client },
            options,
            scripts: Scripts::default(),
        })
    }

    /// A store on a Redis Cluster, given some of its nodes.
    ///
    /// # Errors
    /// When a URL does not parse.
    /// `rediss://` nodes speak TLS (the system's roots, or `ca_pem` given to
    /// [`RedisStore::cluster_with_ca`]).
    pub fn cluster(nodes: &[String], options: RedisOptions) -> Result<Self, RemoteError> {
        Self::connect_cluster(nodes, None, options)
    }

    /// As [`RedisStore::cluster`], the nodes' certificates signed by the CA in `ca_pem`.
    ///
    /// # Errors
    /// As [`RedisStore::cluster`].
    pub fn cluster_with_ca(
        nodes: &[String],
        ca_pem: Vec<u8>,
        options: RedisOptions,
    ) -> Result<Self, RemoteError> {
        Self::connect_cluster(nodes, Some(ca_pem), options)
    }

    fn connect_cluster(
        nodes: &[String],
        ca_pem: Option<Vec<u8>>,
        options: RedisOptions,
    ) -> Result<Self, RemoteError> {
        if nodes.iter().any(|n| n.starts_with("rediss://")) {
            tls_provider();
        }
        let mut builder = redis::cluster::ClusterClient::builder(nodes.to_vec())
            .connection_timeout(options.connect_timeout)
            .response_timeout(options.response_timeout)
            .retries(1);
        if let Some(pem) = ca_pem {
            builder = builder.certs(redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem),
            });
        }
        let client = builder.build().map_err(err)?;
        Ok(Self {
            conn: Conn::Cluster {
                client: Box::new(client),
                conn: Mutex::new(None),
            },
            options,
            scripts: Scripts::default(),
        })
    }

    async fn query<T: FromRedisValue>(&self, cmd: Cmd) -> Result<T, RemoteError> {
        self.query_redis(cmd).await?.map_err(err)
    }

    /// One command within the timeouts (the outer error), with Redis's own answer inside.
    async fn query_redis<T: FromRedisValue>(
        &self,
        cmd: Cmd,
    ) -> Result<Result<T, redis::RedisError>, RemoteError> {
        let limit = self.options.connect_timeout + self.options.response_timeout;
        let run = async {
            match &self.conn {
                Conn::Single { manager, .. } => cmd.query_async(&mut manager.clone()).await,
                Conn::Cluster { client, conn } => {
                    let mut c = {
                        let mut guard = conn.lock().await;
                        match guard.as_ref() {
                            Some(c) => c.clone(),
                            None => {
                                let c = client.get_async_connection().await?;
                                *guard = Some(c.clone());
                                c
                            }
                        }
                    };
                    let result = cmd.query_async(&mut c).await;
                    if result.is_err() {
                        *conn.lock().await = None;
                    }
                    result
                }
            }
        };
        tokio::time::timeout(limit, run)
            .await
            .map_err(|_| RemoteError::unreachable("timed out"))
    }

    /// Runs `script` on `keys` and `args` by its digest, and by its text where the server
    /// does not know it yet (`NOSCRIPT`: a new or restarted server, a failover).
    async fn run_script<T: FromRedisValue>(
        &self,
        script: &redis::Script,
        source: &str,
        keys: &[&str],
        args: &[&[u8]],
    ) -> Result<T, RemoteError> {
        let command = |name: &str, first: &[u8]| {
            let mut cmd = redis::cmd(name);
            cmd.arg(first).arg(keys.len());
            for key in keys {
                cmd.arg(*key);
            }
            for arg in args {
                cmd.arg(*arg);
            }
            cmd
        };
        let by_digest = command("EVALSHA", script.get_hash().as_bytes());
        match self.query_redis(by_digest).await? {
            Err(e) if e.code() == Some("NOSCRIPT") => {
                self.query(command("EVAL", source.as_bytes())).await
            }
            result => result.map_err(err),
        }
    }
}

impl RemoteStore for RedisStore {
    fn read_or_lock<'a>(
        &'a self,
        value: &'a str,
        lock: &'a str,
        token: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<ReadOrLock, RemoteError>> {
        let ms = ttl_ms(ttl);
        Box::pin(async move {
            let (found, bytes): (i64, Vec<u8>) = self
                .run_script(
                    &self.scripts.read_or_lock,
                    READ_OR_LOCK,
                    &[value, lock],
                    &[token.as_bytes(), ms.to_string().as_bytes()],
                )
                .await?;
            Ok(match found {
                1 => ReadOrLock::Value(bytes),
                2 => ReadOrLock::Locked,
                _ => ReadOrLock::Held,
            })
        })
    }

    fn store_and_unlock<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl: Duration,
        lock: &'a str,
        token: Option<&'a str>,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<(), RemoteError>> {
        let ms = ttl_ms(ttl);
        Box::pin(async move {
            let _: i64 = self
                .run_script(
                    &self.scripts.store_and_unlock,
                    STORE_AND_UNLOCK,
                    &[key, lock],
                    &[
                        &value,
                        ms.to_string().as_bytes(),
                        token.unwrap_or("").as_bytes(),
                        channel.as_bytes(),
                    ],
                )
                .await?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, RemoteError>> {
        Box::pin(self.query(redis::cmd("GET").arg(key).clone()))
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), RemoteError>> {
        let ms = ttl_ms(ttl);
        Box::pin(
            self.query(
                redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("PX")
                    .arg(ms)
                    .clone(),
            ),
        )
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        token: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, RemoteError>> {
        let ms = ttl_ms(ttl);
        Box::pin(async move {
            let set: Option<String> = self
                .query(
                    redis::cmd("SET")
                        .arg(key)
                        .arg(token)
                        .arg("NX")
                        .arg("PX")
                        .arg(ms)
                        .clone(),
                )
                .await?;
            Ok(set.is_some())
        })
    }

    fn renew_lock<'a>(
        &'a self,
        key: &'a str,
        token: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, RemoteError>> {
        let ms = ttl_ms(ttl);
        Box::pin(async move {
            let n: i64 = self
                .query(
                    redis::cmd("EVAL")
                        .arg(RENEW)
                        .arg(1)
                        .arg(key)
                        .arg(token)
                        .arg(ms)
                        .clone(),
                )
                .await?;
            Ok(n == 1)
        })
    }

    fn unlock<'a>(
        &'a self,
        key: &'a str,
        token: &'a str,
    ) -> BoxFuture<'a, Result<(), RemoteError>> {
        Box::pin(async move {
            let _: i64 = self
                .query(
                    redis::cmd("EVAL")
                        .arg(UNLOCK)
                        .arg(1)
                        .arg(key)
                        .arg(token)
                        .clone(),
                )
                .await?;
            Ok(())
        })
    }

    fn exists<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, RemoteError>> {
        Box::pin(async move {
            let n: i64 = self.query(redis::cmd("EXISTS").arg(key).clone()).await?;
            Ok(n > 0)
        })
    }

    fn publish<'a>(&'a self, channel: &'a str) -> BoxFuture<'a, Result<(), RemoteError>> {
        Box::pin(async move {
            let _: i64 = self
                .query(redis::cmd("PUBLISH").arg(channel).arg("1").clone())
                .await?;
            Ok(())
        })
    }

    fn subscribe<'a>(
        &'a self,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subscription>, RemoteError>> {
        Box::pin(async move {
            let Conn::Single { client, .. } = &self.conn else {
                return Ok(None);
            };
            let limit = self.options.connect_timeout + self.options.response_timeout;
            let mut pubsub = tokio::time::timeout(limit, client.get_async_pubsub())
                .await
                .map_err(|_| RemoteError::unreachable("timed out"))?
                .map_err(err)?;
            tokio::time::timeout(limit, pubsub.subscribe(channel))
                .await
                .map_err(|_| RemoteError::unreachable("timed out"))?
                .map_err(err)?;
            let (tx, rx) = mpsc::channel(4);
            tokio::spawn(async move {
                let mut messages = Box::pin(pubsub.into_on_message());
                loop {
                    tokio::select! {
                        () = tx.closed() => return,
                        msg = next_message(&mut messages) => match msg {
                            Some(_) => if tx.send(()).await.is_err() { return },
                            None => return,
                        },
                    }
                }
            });
            Ok(Some(rx))
        })
    }

    fn take_turn<'a>(
        &'a self,
        key: &'a str,
        interval: Duration,
        max_wait: Option<Duration>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<(Duration, Ticket)>, RemoteError>> {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Box::pin(async move {
            // The nonce is drawn here, so the ticket is known whole before the script runs.
            let nonce = Ticket::new(0, 0).nonce;
            let (wait, start): (i64, i64) = self
                .query(
                    redis::cmd("EVAL")
                        .arg(TAKE_TURN)
                        .arg(1)
                        .arg(key)
                        .arg(ms(interval))
                        .arg(max_wait.map_or(-1, ms))
                        .arg(ms(ttl).max(1))
                        .arg(format!("{nonce:016x}"))
                        .clone(),
                )
                .await?;
            let (Ok(wait), Ok(start)) = (u64::try_from(wait), u64::try_from(start)) else {
                return Ok(None);
            };
            let ticket = Ticket {
                start_ms: start,
                len_ms: crate::pacing::ms(interval),
                nonce,
            };
            Ok(Some((Duration::from_millis(wait), ticket)))
        })
    }

    fn give_back_turn<'a>(
        &'a self,
        key: &'a str,
        ticket: Ticket,
    ) -> BoxFuture<'a, Result<(), RemoteError>> {
        Box::pin(async move {
            let _: i64 = self
                .query(redis::cmd("ZREM").arg(key).arg(ticket.member()).clone())
                .await?;
            Ok(())
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), RemoteError>> {
        Box::pin(async move {
            let _: String = self.query(redis::cmd("PING")).await?;
            Ok(())
        })
    }

    fn setting_warnings(&self) -> BoxFuture<'_, Vec<String>> {
        Box::pin(async move {
            let get = |name: &'static str| {
                let mut cmd = redis::cmd("CONFIG");
                cmd.arg("GET").arg(name);
                async move {
                    self.query::<Vec<String>>(cmd)
                        .await
                        .ok()
                        .and_then(|v| v.get(1).cloned())
                }
            };
            let (Some(max), Some(policy)) = (get("maxmemory").await, get("maxmemory-policy").await)
            else {
                return Vec::new();
            };
            if max.trim() == "0" {
                return Vec::new();
            }
            vec![if policy == "noeviction" {
                format!(
                    "Redis has maxmemory {max} with noeviction: when it is full it refuses the cache's writes, and the proxy then answers 503 cache_degraded instead of paying without the cross-replica lock; give the cache room"
                )
            } else {
                format!(
                    "Redis has maxmemory {max} with {policy}: it may evict the cache's locks and answers, and a lost lock lets two replicas pay for one query; give the cache a Redis without maxmemory, or noeviction with room"
                )
            }]
        })
    }
}

/// The next message of a pub/sub stream (`StreamExt::next` without a stream utility crate).
async fn next_message(
    stream: &mut std::pin::Pin<Box<redis::aio::PubSubStream>>,
) -> Option<redis::Msg> {
    std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx)).await
}
