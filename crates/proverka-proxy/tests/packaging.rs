//! Packaging as people install it: the systemd unit the Debian package installs
//! (`packaging/proverka-proxy.service`), alone and with the credentials drop-in that
//! `docs/deployment.md` shows, is valid for `systemd-analyze verify`, and its grace covers
//! FSSP's 400 s calls. (scripts/test-artifacts.sh checks the unit as installed by the package.)

use proverka_testkit::systemd::repository_file;

/// The unit the package installs.
fn packaged_unit() -> String {
    repository_file("packaging/proverka-proxy.service")
}

/// The `ini` block of the "## systemd" section of docs/deployment.md: the drop-in that gives
/// the service its secrets.
fn documented_drop_in() -> String {
    let page = repository_file("docs/deployment.md");
    let section = &page[page.find("## systemd").expect("a systemd section")..];
    let start = section.find("```ini\n").expect("an ini block") + "```ini\n".len();
    let end = start + section[start..].find("```").unwrap();
    section[start..end].to_owned()
}

/// Writes `unit` (and `drop_in` into its `.d` directory) where systemd-analyze reads them,
/// verifies it, and asserts systemd had nothing to say about it.
fn verifies(unit: &str, drop_in: Option<&str>, name: &str) {
    // The unit as installed, pointing at the binary just built.
    let unit = unit.replace(
        "/usr/bin/proverka-proxy",
        env!("CARGO_BIN_EXE_proverka-proxy"),
    );
    let dir = std::env::temp_dir().join(format!("proverka-unit-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("proverka-proxy.service");
    std::fs::write(&path, &unit).unwrap();
    if let Some(drop_in) = drop_in {
        let d = dir.join("proverka-proxy.service.d");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("credentials.conf"), drop_in).unwrap();
    }
    proverka_testkit::systemd::assert_units_verify(&dir, &["proverka-proxy.service"]);
    let _ = std::fs::remove_dir_all(&dir);
}

fn setting<'a>(unit: &'a str, prefix: &str) -> &'a str {
    unit.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("{prefix} in the unit"))
}

#[test]
fn the_packaged_systemd_unit_verifies() {
    verifies(&packaged_unit(), None, "packaged");
}

#[test]
fn the_packaged_unit_with_the_documented_credentials_drop_in_verifies() {
    let drop_in = documented_drop_in();
    assert!(drop_in.contains("LoadCredential="), "{drop_in}");
    verifies(&packaged_unit(), Some(&drop_in), "drop-in");
}

#[test]
fn the_packaged_unit_runs_as_its_own_user_and_keeps_the_store_in_its_state_directory() {
    let unit = packaged_unit();
    assert_eq!(setting(&unit, "User="), "proverka");
    assert_eq!(setting(&unit, "StateDirectory="), "proverka");
    // The store's path is the packaged configuration's (scripts/package.sh uncomments this
    // line of the example), never the unit's environment, which would override an operator.
    assert!(!unit.contains("PROVERKA_STORE"), "{unit}");
    let example = repository_file("proverka.example.toml");
    assert!(
        example
            .lines()
            .any(|l| l == "# store_path = \"/var/lib/proverka/store.sqlite\""),
        "the example's store_path line that the package uncomments"
    );
    let package = repository_file("scripts/package.sh");
    assert!(package.contains(r#"s|^# store_path = "/var/lib/proverka/store.sqlite"$|"#));
    // The postinst creates the user the unit names.
    let postinst = repository_file("packaging/deb/proverka-proxy/postinst");
    assert!(postinst.contains("useradd --system"), "{postinst}");
}

#[test]
fn the_packaged_stop_timeout_covers_the_grace_and_the_grace_covers_fssp() {
    let unit = packaged_unit();
    let grace: u64 = setting(&unit, "Environment=PROVERKA_SHUTDOWN_GRACE_SECS=")
        .parse()
        .unwrap();
    let stop: u64 = setting(&unit, "TimeoutStopSec=").parse().unwrap();
    assert!(grace >= 400, "FSSP calls run up to 400 s: grace {grace}");
    assert!(
        stop > grace,
        "stop timeout {stop} must be above the grace {grace}"
    );
}
