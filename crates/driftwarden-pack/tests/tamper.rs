//! Any changed, added or removed byte or file makes verification fail and name the file.

use std::path::Path;

use driftwarden_core::AuditEntry;
use driftwarden_pack::verify_pack;
use serde_json::json;

use crate::common::*;

fn fails_naming(dir: &Path, file: &str, what: &str) {
    let outcome = verify_pack(dir);
    assert!(!outcome.ok, "{what}: verify passed");
    let failures: Vec<_> = outcome.failures().collect();
    assert!(
        failures
            .iter()
            .any(|c| c.file.as_deref() == Some(file) && c.detail.contains(file)),
        "{what}: no failure names {file}: {failures:#?}"
    );
}

#[test]
fn flipping_one_byte_in_any_file_fails_and_names_it() {
    let s = sample();
    let (dir, _) = s.pack("flip");
    let all = files(&dir);
    assert!(all.len() > 25, "{all:?}");
    for f in &all {
        let path = dir.join(f);
        let original = std::fs::read(&path).unwrap();
        // The first, a middle and the last byte, in turn.
        for at in [0, original.len() / 2, original.len() - 1] {
            let mut changed = original.clone();
            changed[at] ^= 0x01;
            std::fs::write(&path, &changed).unwrap();
            fails_naming(&dir, f, &format!("{f} byte {at}"));
        }
        std::fs::write(&path, &original).unwrap();
    }
    assert!(
        verify_pack(&dir).ok,
        "restoring every byte makes the pack verify again"
    );
}

#[test]
fn an_added_or_removed_file_fails_and_names_it() {
    let s = sample();
    let (dir, _) = s.pack("add-remove");
    std::fs::write(dir.join("notes.txt"), "added later").unwrap();
    fails_naming(&dir, "notes.txt", "added file");
    std::fs::create_dir_all(dir.join("csv/extra")).unwrap();
    std::fs::write(dir.join("csv/extra/x.csv"), "a\n1\n").unwrap();
    fails_naming(&dir, "csv/extra/x.csv", "added nested file");
    std::fs::remove_file(dir.join("notes.txt")).unwrap();
    std::fs::remove_dir_all(dir.join("csv/extra")).unwrap();
    assert!(verify_pack(&dir).ok);
    for f in files(&dir) {
        let path = dir.join(&f);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        fails_naming(&dir, &f, &format!("removed {f}"));
        std::fs::write(&path, bytes).unwrap();
    }
    assert!(verify_pack(&dir).ok);
}

#[test]
fn a_broken_chain_in_a_correctly_hashed_extract_fails() {
    // The exporter itself is lying: the extract is hashed and signed, but an event was edited.
    let s = sample();
    let mut data = s.data.clone();
    let ev = data
        .audit
        .iter_mut()
        .find_map(|e| match e {
            AuditEntry::Event(ev) if ev.operation == "exception.decide" => Some(ev),
            _ => None,
        })
        .expect("a decision in the log");
    ev.payload["rationale"] = json!("nothing to see here");
    let (dir, _) = s.write("chain", &data);
    let outcome = verify_pack(&dir);
    let failed: Vec<_> = outcome.failures().collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].name, "audit log");
    assert!(failed[0].detail.contains("audit-log.jsonl"));
    assert!(
        failed[0].detail.contains("was altered"),
        "{}",
        failed[0].detail
    );
}

#[test]
fn an_edited_signed_statement_fails_the_signoff_check() {
    let s = sample();
    let mut data = s.data.clone();
    let so = data
        .signoffs
        .iter_mut()
        .find(|x| x.kind == "disposition")
        .expect("a disposition sign-off");
    so.statement["disposition"] = json!("keep");
    let id = so.id;
    let edited = so.clone();
    // The same sign-off as shown with its exception, so only the signature check can notice.
    for e in &mut data.exceptions {
        for x in &mut e.signoffs {
            if x.id == id {
                *x = edited.clone();
            }
        }
    }
    let (dir, _) = s.write("statement", &data);
    let outcome = verify_pack(&dir);
    let failed: Vec<_> = outcome.failures().collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].name, "sign-offs");
    assert!(failed[0].detail.contains("data/decisions.json"));
    assert!(
        failed[0].detail.contains(&format!("sign-off {id}")),
        "{}",
        failed[0].detail
    );
}

#[test]
fn a_signoff_shown_with_its_exception_must_be_the_verified_one() {
    let s = sample();
    let mut data = s.data.clone();
    let e = data
        .exceptions
        .iter_mut()
        .find(|e| !e.signoffs.is_empty())
        .expect("a signed exception");
    e.signoffs[0].valid = true;
    e.signoffs[0].signer_name = "Somebody Else".into();
    let (dir, _) = s.write("nested", &data);
    let outcome = verify_pack(&dir);
    let failed: Vec<_> = outcome.failures().collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].name, "sign-offs");
    assert!(
        failed[0].detail.starts_with("data/exceptions.json"),
        "{}",
        failed[0].detail
    );
}
