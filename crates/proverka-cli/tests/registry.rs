//! The command line is built from the registry: no file of its source names a provider, by
//! name or by path, so a new provider's checks (declared in its own crate) never need an edit
//! here; and every check of the registry is a subcommand and a `batch --check` value.

use std::path::Path;

#[test]
fn no_command_line_source_file_names_a_provider() {
    proverka_testkit::neutral::assert_no_source_names_a_provider(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        15,
        &proverka::adapters(),
    );
}

#[test]
fn every_check_of_the_registry_is_a_command_and_a_batch_check() {
    let cli = proverka_cli::command();
    let batch = cli.find_subcommand("batch").expect("batch");
    let check = batch
        .get_arguments()
        .find(|a| a.get_id() == "check")
        .expect("--check");
    let values: Vec<String> = check
        .get_possible_values()
        .iter()
        .map(|v| v.get_name().to_owned())
        .collect();
    let mut checks = 0;
    for adapter in proverka::adapters() {
        for spec in adapter.checks() {
            checks += 1;
            assert!(values.iter().any(|v| v == spec.name), "{}", spec.name);
            let mut command = &cli;
            for word in spec.command {
                command = command
                    .find_subcommand(word)
                    .unwrap_or_else(|| panic!("no `proverka {}`", spec.command.join(" ")));
            }
            for param in spec.params {
                assert!(
                    command.get_arguments().any(|a| a.get_id() == param.name),
                    "`proverka {}` takes no {}",
                    spec.command.join(" "),
                    param.name
                );
            }
        }
    }
    assert!(checks >= 4, "the registry's providers declare their checks");
    assert_eq!(values.len(), checks);
}
