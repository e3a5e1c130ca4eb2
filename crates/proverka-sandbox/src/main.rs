//! `proverka-sandbox --listen ADDR`: the five simulated providers on one address.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut listen = "127.0.0.1:8090".to_owned();
    let mut builder = proverka_sandbox::Sandbox::builder();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => match args.next() {
                Some(addr) => listen = addr,
                None => return usage("--listen needs an address"),
            },
            "--fssp-balance" => match args
                .next()
                .and_then(|v| proverka_core::Money::parse(&v).ok())
            {
                Some(balance) => builder = builder.fssp_balance(balance),
                None => return usage("--fssp-balance needs an amount in rubles"),
            },
            "-h" | "--help" => {
                return usage("");
            }
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    match builder.start(&listen).await {
        Ok(handle) => {
            eprintln!(
                "proverka-sandbox: FSSP, court, NPD and Alfa simulators on {}",
                handle.url()
            );
            let _ = tokio::signal::ctrl_c().await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("proverka-sandbox: cannot listen on {listen}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    if !problem.is_empty() {
        eprintln!("proverka-sandbox: {problem}");
    }
    eprintln!("usage: proverka-sandbox [--listen 127.0.0.1:8090] [--fssp-balance 1000.00]");
    if problem.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
