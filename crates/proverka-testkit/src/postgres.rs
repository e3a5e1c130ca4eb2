//! Real PostgreSQL servers on free loopback ports: `initdb` into a temporary folder, `postgres`
//! started on it, stopped (and the folder removed) on drop.
//!
//! A missing PostgreSQL is a failure, never a skip: `scripts/ensure-deps.sh` installs Debian's
//! `postgresql`. PostgreSQL refuses to run as root: as root the server runs as the `postgres`
//! user (made by the Debian package), switched to before `exec`, so the process killed on
//! [`PostgresServer::stop`] is the server itself.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::redis::free_port;

/// One PostgreSQL server (`initdb` + `postgres`) on a loopback port, with trust
/// authentication for the `postgres` user.
#[derive(Debug)]
pub struct PostgresServer {
    port: u16,
    dir: PathBuf,
    bin: PathBuf,
    child: Option<Child>,
}

/// Where the server binaries are: Debian puts them under `/usr/lib/postgresql/<major>/bin`.
fn binaries() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("postgres").exists() && bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL's server binaries were not found under /usr/lib/postgresql: install the \
             postgresql package (bash scripts/ensure-deps.sh); these tests need a real server and never skip"
        )
    })
}

fn is_root() -> bool {
    // The process's effective user, without a libc dependency: /proc knows.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// The `postgres` user's uid and gid, from `/etc/passwd`.
fn postgres_user() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&"postgres") && f.len() > 3)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                .flatten()
        })
        .unwrap_or_else(|| {
            panic!("no postgres user: install the postgresql package (bash scripts/ensure-deps.sh)")
        })
}

/// A command run as the user who may own the data folder: as root, the `postgres` user,
/// switched to before `exec`.
fn as_owner(program: &Path) -> Command {
    use std::os::unix::process::CommandExt as _;
    let mut c = Command::new(program);
    if is_root() {
        let (uid, gid) = postgres_user();
        c.uid(uid).gid(gid);
    }
    c
}

fn answers(port: u16) -> bool {
    TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// Removes what earlier test processes left: a server a test binary keeps in a `static` is
/// never dropped, and a killed test never drops anything. A folder is named
/// `proverka-pg-<pid>-<port>`; when that process is gone, its server (the pid in
/// `postmaster.pid`) is stopped and the folder removed, so repeated runs do not fill the disk.
fn sweep_leftovers() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name
            .to_str()
            .and_then(|n| n.strip_prefix("proverka-pg-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if owner == std::process::id() || Path::new(&format!("/proc/{owner}")).exists() {
            continue;
        }
        let dir = entry.path();
        let postmaster = std::fs::read_to_string(dir.join("data").join("postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<u32>().ok()));
        if let Some(pid) = postmaster
            && Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = Command::new("kill")
                .args(["-QUIT", &pid.to_string()])
                .status();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

impl PostgresServer {
    /// Creates a cluster in a temporary folder and starts it on a free port; returns once it
    /// accepts connections.
    ///
    /// # Panics
    /// When PostgreSQL is missing or does not start: the tests need a real one.
    pub fn start() -> Self {
        sweep_leftovers();
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("proverka-pg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary folder for PostgreSQL");
        let bin = binaries();
        if is_root() {
            let (uid, gid) = postgres_user();
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("chown of {} to postgres: {e}", dir.display()));
        }
        let data = dir.join("data");
        let out = as_owner(&bin.join("initdb"))
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
            .arg("-D")
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("initdb could not be started ({e})"));
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut server = Self {
            port,
            dir,
            bin,
            child: None,
        };
        server.restart();
        server
    }

    /// A `postgres://` URL of a database on this server (`postgres` is always there; see
    /// [`PostgresServer::create_database`]).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates an empty database named `name` and returns its URL.
    ///
    /// # Panics
    /// When `psql` is missing or the database cannot be made.
    pub fn create_database(&self, name: &str) -> String {
        let out = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-p"])
            .arg(self.port.to_string())
            .args(["-v", "ON_ERROR_STOP=1", "-c"])
            .arg(format!("CREATE DATABASE \"{name}\""))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("psql could not be started ({e}): install postgresql"));
        assert!(
            out.status.success(),
            "CREATE DATABASE {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.url(name)
    }

    /// Stops the server at once (PostgreSQL's immediate shutdown, `SIGQUIT`: every backend
    /// is killed, as in a crash; clients see their connections drop); its data stays, so
    /// [`PostgresServer::restart`] brings it back.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let quit = Command::new("kill")
                .args(["-QUIT", &child.id().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if !quit {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while answers(self.port) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same port and data.
    ///
    /// # Panics
    /// When it does not start.
    pub fn restart(&mut self) {
        self.stop();
        let data = self.dir.join("data");
        let log = std::fs::File::create(self.dir.join("server.log")).expect("a log file");
        let child = as_owner(&self.bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args([
                "-p",
                &self.port.to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
            ])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", self.dir.display()))
            // The tests are about proverka's durability, not the disk's.
            .args(["-c", "fsync=off", "-c", "max_connections=200"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("postgres could not be started ({e})"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = Command::new("pg_isready")
                .args(["-h", "127.0.0.1", "-q", "-p"])
                .arg(self.port.to_string())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                break;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "postgres exited ({status}): {}",
                    std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "postgres on port {} did not become ready: {}",
                self.port,
                std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
