//! Harness for the end-to-end tests: a proxy in front of a sandbox, in process through its
//! service ([`InProcess`]) or on a real socket where the socket matters ([`start_proxy`]).

use std::time::Duration;

use proverka_proxy::{Config, Proxy};
use proverka_sandbox::{Sandbox, SandboxHandle};

/// A running proxy: its URL, and a switch to stop it gracefully.
#[derive(Debug)]
pub struct RunningProxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The proxy (metrics).
    pub proxy: Proxy,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl RunningProxy {
    /// Sends the shutdown signal and waits until `serve` returns (grace included).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }
}

/// The cache's encryption key in tests (Redis holds answers encrypted, as in production).
pub const TEST_ENCRYPTION_KEY: &str =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// Config text for a proxy in front of `sandbox`, with the sandbox's credentials in the config
/// (FSSP token, court token, NPD key), a store of record of its own, and `extra` TOML appended.
pub fn config_for(sandbox: &SandboxHandle, extra: &str) -> String {
    config_on_store(sandbox, &proverka_testkit::own_store(), extra)
}

/// As [`config_for`], on the store `store` (a top-level TOML line, `store_path = …` or
/// `store_url = …`): replicas of one deployment share it.
pub fn config_on_store(sandbox: &SandboxHandle, store: &str, extra: &str) -> String {
    let url = sandbox.url();
    format!(
        "{}listen = \"127.0.0.1:0\"\nshutdown_grace_secs = 10\n{extra}\n\
         [providers.fssp]\nbase_url = \"{url}\"\ntoken = \"{}\"\n\
         [providers.court]\nbase_url = \"{url}\"\ntoken = \"court-token\"\nprice_rub = 2.0\n\
         [providers.npd]\nbase_url = \"{url}\"\nkey = \"npd-key\"\nprice_rub = 1.5\n\
         [providers.alfa]\nbase_url = \"{url}\"\n",
        store,
        proverka_fssp::sandbox::TOKEN
    )
}

/// Starts a proxy from TOML text on a free loopback port.
///
/// # Panics
/// When the config is invalid or the port cannot be bound.
pub async fn start_proxy(toml: &str) -> RunningProxy {
    let config = Config::from_toml(toml, &[]).expect("valid test config");
    let proxy = Proxy::new(config).expect("proxy starts");
    let (listener, addr) = proxy.bind().await.expect("bind");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = proxy.clone();
    let done = tokio::spawn(async move {
        let _ = serving
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await;
    });
    RunningProxy {
        url: format!("http://{addr}"),
        proxy,
        stop: Some(stop),
        done: Some(done),
    }
}

/// A sandbox on a free loopback port.
///
/// # Panics
/// When it cannot bind.
pub async fn start_sandbox() -> SandboxHandle {
    Sandbox::builder()
        .simulator(proverka_alfa::sandbox::AlfaSimulator::new(
            Duration::from_millis(200),
        ))
        .start("127.0.0.1:0")
        .await
        .expect("sandbox starts")
}

/// The simulated FSSP account's balance now.
///
/// # Panics
/// When the sandbox runs no FSSP simulator.
pub fn fssp_balance(sandbox: &SandboxHandle) -> proverka_core::Money {
    sandbox
        .simulator::<proverka_fssp::sandbox::FsspSimulator>()
        .expect("the sandbox simulates FSSP")
        .balance()
}

/// An HTTP client with no connection reuse limits and no proxies.
///
/// # Panics
/// When the TLS stack cannot be set up.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// The FSSP query of the sandbox's known debtor, with an extra parameter list.
pub fn fssp_debtor(birthdate: &str) -> Vec<(&'static str, String)> {
    vec![
        ("type", "physical".into()),
        ("lastname", "Иванов".into()),
        ("firstname", "Иван".into()),
        ("birthdate", birthdate.into()),
        ("region", "77".into()),
    ]
}

/// A GET with query parameters.
///
/// # Panics
/// When the request cannot be sent.
pub async fn get(url: &str, query: &[(&str, String)]) -> reqwest::Response {
    http().get(url).query(query).send().await.unwrap()
}

/// A response header as text (empty when absent).
pub fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// A proxy's `/metrics` text (no client key).
///
/// # Panics
/// When the request fails.
pub async fn metrics_text(base: &str) -> String {
    http()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The `[cache]` section of a proxy on `redis_url`, with the tests' encryption key.
pub fn redis_cache(redis_url: &str) -> String {
    format!("[cache]\nredis_url = \"{redis_url}\"\nencryption_key = \"{TEST_ENCRYPTION_KEY}\"\n")
}

/// Log output captured in memory: install it as a `tracing` writer
/// (`.with_writer(move || logs.clone())`) and read what was written.
#[derive(Debug, Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Everything written so far, as text.
    ///
    /// # Panics
    /// When a writer panicked while holding the buffer.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A proxy answered in process, through its service: no socket, no HTTP client. What the
/// routing, auth, budget and money tests need; sockets stay for what is about sockets.
#[derive(Debug, Clone)]
pub struct InProcess(pub std::sync::Arc<Proxy>);

/// One answer of an [`InProcess`] proxy.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body, as sent.
    pub body: bytes::Bytes,
}

impl Reply {
    /// A header as text (empty when absent).
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// The body as JSON.
    ///
    /// # Panics
    /// When the body is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl InProcess {
    /// A proxy from TOML text (no environment).
    ///
    /// # Panics
    /// When the configuration is invalid or the proxy cannot start.
    pub fn new(toml: &str) -> Self {
        Self(std::sync::Arc::new(
            Proxy::new(Config::from_toml(toml, &[]).unwrap()).unwrap(),
        ))
    }

    /// `GET path?query`.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Reply {
        self.get_with(path, query, &[]).await
    }

    /// `GET path?query` with `headers`.
    ///
    /// # Panics
    /// When the path or a header cannot be sent.
    pub async fn get_with(
        &self,
        path: &str,
        query: &[(&str, String)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut url = reqwest::Url::parse("http://in-process/").unwrap();
        url.set_path(path);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let uri = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let mut request = http::Request::get(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .0
            .handle(request.body(Default::default()).unwrap())
            .await;
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    /// `/metrics` as text (no client key).
    pub async fn metrics(&self) -> String {
        self.get("/metrics", &[]).await.text()
    }
}

/// The repository's root (for the files the tests read: docs, examples, the Python client).
///
/// # Panics
/// When the path cannot be resolved.
pub fn repository() -> std::path::PathBuf {
    std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .canonicalize()
        .unwrap()
}

/// A finished process's output and errors, to show when it failed.
pub fn shown(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
