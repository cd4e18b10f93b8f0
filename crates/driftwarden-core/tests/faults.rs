//! Short writes (`DRIFTWARDEN_FAULT=short-write:<file ending>`: half the bytes, then "no space
//! left on device") of the files the core writes beside the database: a changed passphrase's key
//! slot and the remembered audit head. The faulty operation runs in a child process (this test
//! binary again, one ignored test, the fault in its environment) so that no other test running in
//! parallel sees the fault; the parent checks that the previous file and state are intact.

use std::path::Path;
use std::process::Command;

use driftwarden_core::keys::slot_path;
use driftwarden_core::*;

use crate::common::*;

const CHILD_DIR: &str = "DRIFTWARDEN_TEST_CHILD_DIR";
const NEW_PASS: &str = "a brand new long passphrase";

/// Runs the ignored test `name` in a child process with `fault`; returns its output line
/// `RESULT <code> <message>`.
fn child(name: &str, dir: &Path, fault: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .env("DRIFTWARDEN_FAULT", fault)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child {name} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("child {name} printed no result: {stdout}"))
        .to_string()
}

fn child_dir() -> Option<std::path::PathBuf> {
    std::env::var_os(CHILD_DIR).map(Into::into)
}

fn report(r: Result<impl std::fmt::Debug>) {
    match r {
        Ok(v) => println!("RESULT ok {v:?}"),
        Err(e) => println!("RESULT {} {e}", e.code()),
    }
}

#[test]
#[ignore = "run by short_write_of_a_new_key_slot_keeps_the_old_passphrase, with a fault injected"]
fn child_change_passphrase() {
    let Some(dir) = child_dir() else { return };
    let mut reg = Registry::open(&dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    report(reg.change_passphrase(ADMIN_PASS, NEW_PASS));
}

#[test]
#[ignore = "run by short_write_of_the_remembered_head_keeps_the_previous_one, with a fault injected"]
fn child_check_head() {
    let Some(dir) = child_dir() else { return };
    let reg = Registry::open(&dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    report(reg.check_head(&dir.parent().unwrap().join("state")));
}

fn leftovers(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for (p, _) in snapshot(dir) {
        if p.to_string_lossy().ends_with(".tmp") {
            out.push(p.display().to_string());
        }
    }
    out
}

#[test]
fn short_write_of_a_new_key_slot_keeps_the_old_passphrase() {
    let (fx, mut reg) = registry();
    add_model(&mut reg, "credit-risk");
    let events = event_count(&reg);
    drop(reg);
    let slot = slot_path(&fx.dir, ADMIN);
    let slot_before = std::fs::read(&slot).unwrap();

    let result = child(
        "faults::child_change_passphrase",
        &fx.dir,
        "short-write:.slot",
    );
    assert!(result.starts_with("io "), "{result}");
    assert!(
        result.contains(".slot") && result.contains("no space left on device"),
        "the error names the slot file and the cause: {result}"
    );
    assert!(!result.contains(NEW_PASS) && !result.contains(ADMIN_PASS));

    assert_eq!(
        std::fs::read(&slot).unwrap(),
        slot_before,
        "old slot intact"
    );
    assert!(leftovers(&fx.dir).is_empty(), "{:?}", leftovers(&fx.dir));
    let reg = Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    assert_eq!(event_count(&reg), events, "nothing recorded");
    assert!(reg.verify_log().unwrap().ok);
    drop(reg);
    let err = Registry::open(&fx.dir, ADMIN, NEW_PASS, clock()).unwrap_err();
    assert_eq!(err.code(), "wrong_passphrase");

    // Without the fault the change goes through (the test can tell a working write from a failed one).
    let mut reg = Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    reg.change_passphrase(ADMIN_PASS, NEW_PASS).unwrap();
    drop(reg);
    Registry::open(&fx.dir, ADMIN, NEW_PASS, clock()).unwrap();
}

#[test]
fn short_write_of_the_remembered_head_keeps_the_previous_one() {
    let (fx, mut reg) = registry();
    let state = fx.dir.parent().unwrap().join("state");
    assert_eq!(reg.check_head(&state).unwrap().status, "first");
    let heads = state.join("heads");
    let files = snapshot(&heads);
    assert_eq!(files.len(), 1);
    add_model(&mut reg, "credit-risk");
    drop(reg);

    let result = child("faults::child_check_head", &fx.dir, "short-write:.json");
    assert!(result.starts_with("io "), "{result}");
    assert!(result.contains("no space left on device"), "{result}");
    assert_eq!(snapshot(&heads), files, "the previous head file is intact");

    // The head remembered before the fault is still the reference.
    let reg = Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    let h = reg.check_head(&state).unwrap();
    assert_eq!((h.status.as_str(), h.known_seq), ("ok", Some(3)), "{h:?}");
}
