//! `proverka`: one-off checks and batches of checks against the paid Russian check APIs,
//! straight to the providers (tokens from the environment) or through a proverka proxy.
//! See `docs/cli.md`.

fn main() -> std::process::ExitCode {
    proverka_cli::main()
}
