//! Packaging as people install it: the systemd unit in `docs/deployment.md` is valid for
//! `systemd-analyze verify` and its grace covers FSSP's 400 s calls.

use std::path::Path;
use std::process::Command;

/// The `ini` block of the "## systemd" section of docs/deployment.md.
fn documented_unit() -> String {
    let page = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/deployment.md"),
    )
    .unwrap();
    let section = &page[page.find("## systemd").expect("a systemd section")..];
    let start = section.find("```ini\n").expect("an ini block") + "```ini\n".len();
    let end = start + section[start..].find("```").unwrap();
    section[start..end].to_owned()
}

fn setting<'a>(unit: &'a str, prefix: &str) -> &'a str {
    unit.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("{prefix} in the unit"))
}

#[test]
fn the_documented_systemd_unit_verifies() {
    let unit = documented_unit();
    // The unit as installed, pointing at the binary just built.
    let unit = unit.replace(
        "/usr/local/bin/proverka-proxy",
        env!("CARGO_BIN_EXE_proverka-proxy"),
    );
    let dir = std::env::temp_dir().join(format!("proverka-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("proverka-proxy.service");
    std::fs::write(&path, &unit).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze (Debian package systemd; scripts/ensure-deps.sh installs it)");
    let complaints = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{complaints}");
    // verify exits 0 on settings it ignores: any line about the unit is a defect.
    assert!(
        !complaints.contains("proverka-proxy.service"),
        "{complaints}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_documented_stop_timeout_covers_the_grace_and_the_grace_covers_fssp() {
    let unit = documented_unit();
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
