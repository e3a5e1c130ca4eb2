//! systemd units as the packages install them, checked by `systemd-analyze verify` (Debian
//! package `systemd`; `scripts/ensure-deps.sh` installs it): a missing tool fails the test.

use std::path::Path;
use std::process::Command;

/// A file of the repository (`packaging/proverka-proxy.service`), as the packages install it.
///
/// # Panics
/// No such file.
pub fn repository_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Verifies each of `units` (file names in `dir`, which also holds what they refer to and
/// their `.d` drop-ins), and asserts systemd had nothing to say about them: `verify` exits 0
/// on settings it ignores, so any line naming one is a defect.
///
/// # Panics
/// A unit systemd refuses or comments on, or no `systemd-analyze`.
pub fn assert_units_verify(dir: &Path, units: &[&str]) {
    for unit in units {
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(dir.join(unit))
            // Units and drop-ins are read from the unit search path: this directory first.
            .env("SYSTEMD_UNIT_PATH", format!("{}:", dir.display()))
            .output()
            .expect("systemd-analyze (Debian package systemd; scripts/ensure-deps.sh installs it)");
        let complaints = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{unit}: {complaints}");
        let stem = unit.rsplit_once('.').map_or(*unit, |(stem, _)| stem);
        assert!(!complaints.contains(stem), "{unit}: {complaints}");
    }
}
