//! `proverka-proxy [--config FILE] [--listen ADDR] [--sandbox]`.

use std::path::PathBuf;
use std::process::ExitCode;

use proverka_proxy::{Config, Proxy};

const USAGE: &str = "usage: proverka-proxy [--config FILE] [--listen ADDR] [--sandbox]\n\
    Every config key can also be set by environment (PROVERKA_…); see docs/proxy.md.";

#[tokio::main]
async fn main() -> ExitCode {
    let mut config_path: Option<PathBuf> = None;
    let mut listen: Option<String> = None;
    let mut sandbox = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => config_path = args.next().map(PathBuf::from),
            "--listen" => listen = args.next(),
            "--sandbox" => sandbox = true,
            "-h" | "--help" => {
                eprintln!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("proverka-proxy: unknown argument {other}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("PROVERKA_"))
        .collect();
    if let Some(l) = listen {
        env.push(("PROVERKA_LISTEN".into(), l));
    }
    let config = match Config::load(config_path.as_deref(), &env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("proverka-proxy: {e}");
            return ExitCode::from(2);
        }
    };
    proverka_proxy::init_logging(config.log_format);
    let proxy = if sandbox {
        Proxy::with_sandbox(config).await
    } else {
        Proxy::new(config)
    };
    let proxy = match proxy {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    let (listener, addr) = match proxy.bind().await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(%addr, sandbox, "proverka-proxy listening");
    if sandbox {
        eprintln!(
            "proverka-proxy: sandbox mode on http://{addr} — try:\n  curl -sG http://{addr}/api/fssp.php --data-urlencode type=physical --data-urlencode lastname=Иванов --data-urlencode firstname=Иван --data-urlencode birthdate=31.03.1980 --data-urlencode region=77 -i"
        );
    }
    let shutdown = async {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: no new requests");
    };
    match proxy.serve(listener, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}
