//! Real `redis-server` processes on free loopback ports, stopped on drop.
//!
//! A missing `redis-server` is a failure, never a skip: `scripts/ensure-deps.sh` installs it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1.
///
/// # Panics
/// When no port can be bound.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A free port for a Redis Cluster node: its cluster bus listens 10,000 higher, so both must
/// be free and the bus's below 65,536 (an ephemeral port may be above 55,535).
///
/// # Panics
/// When no such port is found.
pub fn free_node_port() -> u16 {
    for _ in 0..1000 {
        let port = free_port();
        let port = if port > 45_000 { port - 20_000 } else { port };
        let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
        if free(port) && free(port + 10_000) {
            return port;
        }
    }
    panic!("no free port pair for a cluster node");
}

fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 7];
    // A server with `requirepass` answers an unauthenticated PING with NOAUTH: it is up.
    s.write_all(b"PING\r\n").is_ok()
        && s.read(&mut buf).is_ok()
        && (buf.starts_with(b"+PONG") || buf.starts_with(b"-NOAUTH"))
}

/// One `redis-server --port N --save ''` process.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    extra: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers.
    ///
    /// # Panics
    /// When `redis-server` is missing or does not start: the tests need a real one.
    pub fn start() -> Self {
        Self::start_with(free_port(), &[])
    }

    /// Starts a server on `port` with extra arguments.
    ///
    /// # Panics
    /// As [`RedisServer::start`].
    pub fn start_with(port: u16, extra: &[&str]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("proverka-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder for redis");
        let mut server = Self {
            port,
            dir,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
        };
        server.restart();
        server
    }

    /// The `redis://` URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (its data is gone: it saves nothing).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while ping(self.port) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same port.
    ///
    /// # Panics
    /// As [`RedisServer::start`].
    pub fn restart(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "redis-server could not be started ({e}): install it (bash scripts/ensure-deps.sh); \
                     these tests need a real Redis and never skip"
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ping(self.port) {
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not answer",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis Cluster of `n` masters on loopback, created with `redis-cli --cluster create`.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts `n` (at least 3) cluster-enabled servers and joins them.
    ///
    /// # Panics
    /// When `redis-server`/`redis-cli` are missing or the cluster does not form.
    pub fn start(n: usize) -> Self {
        Self::with_replicas(n, 0)
    }

    /// Starts `masters` (at least 3) cluster-enabled masters with one replica each, and waits
    /// until every replica has its master's data: a master killed then fails over.
    ///
    /// # Panics
    /// As [`RedisCluster::start`].
    pub fn start_replicated(masters: usize) -> Self {
        let cluster = Self::with_replicas(masters * 2, 1);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cluster.nodes.iter().all(|n| {
            let info = redis_cli(n.port(), &["info", "replication"]);
            !info.contains("role:slave") || info.contains("master_link_status:up")
        }) {
            assert!(Instant::now() < deadline, "the replicas did not sync");
            std::thread::sleep(Duration::from_millis(100));
        }
        cluster
    }

    /// Kills (SIGKILL) the master that serves `key`'s slot, after making sure its replica has
    /// every write so far (`WAIT`); the cluster promotes the replica after its node timeout
    /// (2 s here). Returns the killed node's port.
    ///
    /// # Panics
    /// When no live master serves the slot.
    pub fn kill_master_serving(&mut self, key: &str) -> u16 {
        let any = self
            .nodes
            .iter()
            .find(|n| n.child.is_some())
            .map(RedisServer::port);
        let any = any.expect("a live node");
        let slot: u16 = redis_cli(any, &["cluster", "keyslot", key])
            .trim()
            .parse()
            .expect("a slot number");
        let nodes = redis_cli(any, &["cluster", "nodes"]);
        let port = nodes
            .lines()
            .filter(|line| {
                let fields: Vec<&str> = line.split(' ').collect();
                fields.get(2).is_some_and(|flags| flags.contains("master"))
                    && !fields.get(2).is_some_and(|flags| flags.contains("fail"))
                    && fields.iter().skip(8).any(|range| {
                        let mut ends = range.split('-').map(str::parse::<u16>);
                        match (ends.next(), ends.next()) {
                            (Some(Ok(lo)), Some(Ok(hi))) => (lo..=hi).contains(&slot),
                            (Some(Ok(one)), None) => one == slot,
                            _ => false,
                        }
                    })
            })
            .find_map(|line| {
                let addr = line.split(' ').nth(1)?;
                addr.split('@')
                    .next()?
                    .rsplit(':')
                    .next()?
                    .parse::<u16>()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no master serves slot {slot}"));
        redis_cli(port, &["wait", "1", "2000"]);
        let node = self
            .nodes
            .iter_mut()
            .find(|n| n.port() == port)
            .expect("the master is one of the cluster's nodes");
        node.stop();
        port
    }

    fn with_replicas(n: usize, replicas: usize) -> Self {
        let nodes: Vec<RedisServer> = (0..n)
            .map(|_| {
                let port = free_node_port();
                let conf = format!("nodes-{port}.conf");
                RedisServer::start_with(
                    port,
                    &[
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        &conf,
                        "--cluster-node-timeout",
                        "2000",
                    ],
                )
            })
            .collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let status = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap_or_else(|e| {
                panic!("redis-cli could not be started ({e}): install redis-tools")
            });
        assert!(status.success(), "redis-cli --cluster create failed");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ok = nodes.iter().all(|n| {
                Command::new("redis-cli")
                    .args(["-p", &n.port().to_string(), "cluster", "info"])
                    .output()
                    .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
            });
            if ok {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster did not reach cluster_state:ok"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { nodes }
    }

    /// The nodes' `redis://` URLs.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }
}

/// `redis-cli -p port args…`'s output (empty when it cannot run).
fn redis_cli(port: u16, args: &[&str]) -> String {
    Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// A `redis-server` that also speaks TLS, on a second port, with a certificate for
/// `127.0.0.1` signed by a CA of its own (made with `openssl`, Debian's `openssl` package;
/// scripts/ensure-deps.sh installs it). The plain port stays for health checks and tests
/// that look at what is stored.
#[derive(Debug)]
pub struct TlsRedisServer {
    server: RedisServer,
    tls_port: u16,
    certs: PathBuf,
}

impl TlsRedisServer {
    /// Makes the CA and the server certificate, starts the server, waits until it answers.
    ///
    /// # Panics
    /// When `openssl` or `redis-server` is missing or fails: these tests never skip.
    pub fn start() -> Self {
        let tls_port = free_port();
        let certs = std::env::temp_dir().join(format!(
            "proverka-redis-tls-{}-{tls_port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&certs).expect("a temporary folder for certificates");
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&certs)
                .output()
                .unwrap_or_else(|e| {
                    panic!("openssl could not be started ({e}): install it (bash scripts/ensure-deps.sh)")
                });
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=proverka test CA",
                ],
            ]
            .concat(),
        );
        openssl(
            &[
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                    "-subj",
                    "/CN=127.0.0.1",
                ],
            ]
            .concat(),
        );
        std::fs::write(certs.join("san.cnf"), "subjectAltName=IP:127.0.0.1\n")
            .expect("the certificate's extensions");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "san.cnf",
        ]);
        let path = |f: &str| certs.join(f).display().to_string();
        let tls = tls_port.to_string();
        let (cert, key, ca) = (path("server.pem"), path("server.key"), path("ca.pem"));
        let server = RedisServer::start_with(
            free_port(),
            &[
                "--tls-port",
                &tls,
                "--tls-cert-file",
                &cert,
                "--tls-key-file",
                &key,
                "--tls-ca-cert-file",
                &ca,
                "--tls-auth-clients",
                "no",
            ],
        );
        Self {
            server,
            tls_port,
            certs,
        }
    }

    /// The `rediss://` URL of the TLS port.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}/", self.tls_port)
    }

    /// The CA certificate (PEM) that signed the server's.
    pub fn ca_pem(&self) -> PathBuf {
        self.certs.join("ca.pem")
    }

    /// The same server's plain port.
    pub fn plain(&self) -> &RedisServer {
        &self.server
    }
}

impl Drop for TlsRedisServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.certs);
    }
}
