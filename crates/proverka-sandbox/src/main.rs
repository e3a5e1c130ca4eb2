//! `proverka-sandbox --listen ADDR`: the four simulated providers on one address.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut listen = "127.0.0.1:8090".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => match args.next() {
                Some(addr) => listen = addr,
                None => return usage("--listen needs an address"),
            },
            "-h" | "--help" => {
                return usage("");
            }
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    match proverka_sandbox::Sandbox::builder().start(&listen).await {
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
    eprintln!("usage: proverka-sandbox [--listen 127.0.0.1:8090]");
    if problem.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
