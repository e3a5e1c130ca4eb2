//! The watch lists' systemd units (`packaging/proverka-watch.service` and `.timer`, shipped
//! beside the proxy's unit) are valid for `systemd-analyze verify`, and the service runs the
//! command that exists.

use std::process::Command;

use proverka_testkit::systemd::repository_file;

#[test]
fn the_watch_service_and_timer_verify() {
    let service = repository_file("packaging/proverka-watch.service");
    let timer = repository_file("packaging/proverka-watch.timer");
    assert!(service.contains("ExecStart=/usr/bin/proverka watch run\n"));
    let dir = std::env::temp_dir().join(format!("proverka-watch-units-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // As installed, pointing at the binary just built.
    std::fs::write(
        dir.join("proverka-watch.service"),
        service.replace("/usr/bin/proverka", env!("CARGO_BIN_EXE_proverka")),
    )
    .unwrap();
    std::fs::write(dir.join("proverka-watch.timer"), timer).unwrap();
    proverka_testkit::systemd::assert_units_verify(
        &dir,
        &["proverka-watch.service", "proverka-watch.timer"],
    );
    // The command the service runs exists and takes those words.
    let help = Command::new(env!("CARGO_BIN_EXE_proverka"))
        .args(["watch", "run", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}
