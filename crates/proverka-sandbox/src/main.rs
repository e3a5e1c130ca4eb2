//! `proverka-sandbox --listen ADDR [--set PROVIDER.NAME=VALUE]…`: every simulated provider on
//! one address.

use std::process::ExitCode;

const USAGE: &str = "usage: proverka-sandbox [--listen 127.0.0.1:8090] [--set PROVIDER.NAME=VALUE]…
  --set changes one simulator's setting before it starts, e.g. the balance of the provider
  whose simulator has one: --set <provider>.balance=10000 (an unknown name lists the settings)";

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
            "--set" => {
                let Some(setting) = args.next() else {
                    return usage("--set needs PROVIDER.NAME=VALUE");
                };
                let Some((provider, name, value)) = setting
                    .split_once('=')
                    .and_then(|(path, value)| path.split_once('.').map(|(p, n)| (p, n, value)))
                else {
                    return usage(&format!("--set {setting}: expected PROVIDER.NAME=VALUE"));
                };
                builder = match builder.set(provider, name, value) {
                    Ok(builder) => builder,
                    Err(problem) => return usage(&format!("--set {setting}: {problem}")),
                };
            }
            "-h" | "--help" => {
                return usage("");
            }
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    match builder.start(&listen).await {
        Ok(handle) => {
            eprintln!("proverka-sandbox: the simulators on {}", handle.url());
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
    eprintln!("{USAGE}");
    if problem.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
