//! Storage: the database's cipher profile (recorded in the header, kept by backups, restores and
//! key rotation; older registries keep theirs) and the audit chain verified in pieces on several
//! threads, each with its own connection.

use std::path::Path;

use driftwarden_core::keys::{slot_path, SlotFile};
use driftwarden_core::*;

use crate::common::*;

const FIXTURE_V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/registry-v1");

fn header(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join(HEADER_FILE)).unwrap()).unwrap()
}

/// Opens the database file with `member`'s data key and only the given SQLCipher settings, and
/// says whether its pages authenticate (the first read succeeds).
fn reads_with(dir: &Path, member: &str, pass: &str, settings: &str) -> bool {
    let (_, key) = SlotFile::read(&slot_path(dir, member))
        .unwrap()
        .unlock(pass)
        .unwrap();
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")
        .unwrap();
    let hex: String = key.as_bytes().iter().map(|x| format!("{x:02x}")).collect();
    conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\"; {settings}"))
        .unwrap();
    conn.query_row("SELECT count(*) FROM audit_events", [], |r| {
        r.get::<_, i64>(0)
    })
    .is_ok()
}

const SHA256: &str = "PRAGMA cipher_hmac_algorithm = HMAC_SHA256;";
const SHA512: &str = "PRAGMA cipher_hmac_algorithm = HMAC_SHA512;";

fn copy_dir(from: &Path, to: &Path) {
    for (src, _) in snapshot(from) {
        let dst = to.join(src.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&src, &dst).unwrap();
    }
}

#[test]
fn new_registries_use_hmac_sha256_pages_and_the_header_says_so() {
    let (fx, reg) = registry();
    assert_eq!(reg.cipher_profile(), CipherProfile::Sqlcipher4HmacSha256);
    drop(reg);
    assert_eq!(header(&fx.dir)["cipher"], "sqlcipher4-hmac-sha256");
    // The file itself: its pages authenticate under HMAC-SHA256 and not under SQLCipher 4's
    // default HMAC-SHA512.
    assert!(reads_with(&fx.dir, ADMIN, ADMIN_PASS, SHA256));
    assert!(!reads_with(&fx.dir, ADMIN, ADMIN_PASS, SHA512));
    assert!(!reads_with(&fx.dir, ADMIN, ADMIN_PASS, ""));
    let reg = Registry::open(&fx.dir, BOB, BOB_PASS, clock()).unwrap();
    assert!(reg.verify_log().unwrap().ok);
}

#[test]
fn a_registry_from_before_profiles_keeps_sqlcipher_defaults_and_opens() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v1");
    copy_dir(Path::new(FIXTURE_V1), &dir);
    assert!(header(&dir).get("cipher").is_none());
    let mut reg = Registry::open(&dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    assert_eq!(reg.cipher_profile(), CipherProfile::Sqlcipher4);
    add_model(&mut reg, "written-after-upgrade");
    assert!(reg.verify_log().unwrap().ok);
    // Its backup restores with the same (default) profile.
    let backup = tmp.path().join("v1.backup");
    reg.backup(&backup).unwrap();
    drop(reg);
    assert!(reads_with(&dir, ADMIN, ADMIN_PASS, ""));
    assert!(!reads_with(&dir, ADMIN, ADMIN_PASS, SHA256));
    assert!(
        header(&dir).get("cipher").is_none(),
        "opening does not rewrite the header"
    );
    let restored = tmp.path().join("restored");
    restore_backup(&backup, &restored).unwrap();
    assert!(header(&restored).get("cipher").is_none());
    assert!(reads_with(&restored, ADMIN, ADMIN_PASS, ""));
    let reg = Registry::open(&restored, ADMIN, ADMIN_PASS, clock()).unwrap();
    assert_eq!(reg.cipher_profile(), CipherProfile::Sqlcipher4);
    assert!(reg.show_model("written-after-upgrade").is_ok());
    assert!(reg.verify_log().unwrap().ok);
}

#[test]
fn backup_restore_and_key_rotation_keep_the_profile() {
    let (fx, mut reg) = registry();
    add_model(&mut reg, "credit-risk");
    let backup = fx.dir.parent().unwrap().join("r.backup");
    reg.backup(&backup).unwrap();
    let restored = fx.dir.parent().unwrap().join("restored");
    restore_backup(&backup, &restored).unwrap();
    assert_eq!(header(&restored)["cipher"], "sqlcipher4-hmac-sha256");
    assert!(reads_with(&restored, BOB, BOB_PASS, SHA256));
    assert!(!reads_with(&restored, BOB, BOB_PASS, ""));
    let r = Registry::open(&restored, BOB, BOB_PASS, clock()).unwrap();
    assert_eq!(r.cipher_profile(), CipherProfile::Sqlcipher4HmacSha256);
    assert!(r.show_model("credit-risk").is_ok());
    assert!(r.verify_log().unwrap().ok);
    drop(r);

    // Offboarding re-encrypts every page under a new data key (`PRAGMA rekey`): same profile.
    reg.offboard_member(BOB, "left").unwrap();
    drop(reg);
    assert!(reads_with(&fx.dir, ADMIN, ADMIN_PASS, SHA256));
    assert!(!reads_with(&fx.dir, ADMIN, ADMIN_PASS, ""));
    let reg = Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    assert!(reg.verify_log().unwrap().ok);
    assert!(reg.show_model("credit-risk").is_ok());
}

#[test]
fn a_header_naming_another_profile_is_refused() {
    let (fx, reg) = registry();
    drop(reg);
    let path = fx.dir.join(HEADER_FILE);
    let orig = std::fs::read(&path).unwrap();
    let mut h = header(&fx.dir);
    // Dropped: the database does not authenticate under the defaults, as with a wrong key.
    h.as_object_mut().unwrap().remove("cipher");
    std::fs::write(&path, serde_json::to_vec(&h).unwrap()).unwrap();
    let before = snapshot(&fx.dir);
    let err = Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap_err();
    assert_eq!(err.code(), "tampered", "{err}");
    assert_eq!(snapshot(&fx.dir), before, "a refused open changes nothing");
    // Unknown: named in the error, nothing opened.
    h["cipher"] = "sqlcipher9-future".into();
    std::fs::write(&path, serde_json::to_vec(&h).unwrap()).unwrap();
    let err = Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap_err();
    assert_eq!(err.code(), "not_a_registry", "{err}");
    assert!(err.to_string().contains("sqlcipher9-future"), "{err}");
    std::fs::write(&path, &orig).unwrap();
    assert!(Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).is_ok());
}

/// A registry with `n` models (a few events each), closed.
fn registry_with_models(n: usize) -> Fixture {
    let (fx, mut reg) = registry();
    for i in 0..n {
        add_model(&mut reg, &format!("model-{i:03}"));
    }
    drop(reg);
    fx
}

fn key_of(r: &VerifyReport) -> (bool, i64, String, Option<i64>, Option<String>) {
    (
        r.ok,
        r.events,
        r.head.clone(),
        r.first_bad_seq,
        r.problem.clone(),
    )
}

#[test]
fn verification_in_pieces_names_the_same_first_bad_event() {
    let fx = registry_with_models(30);
    let open = || Registry::open_unswept(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    let reg = open();
    let whole = reg.verify_log_in(1).unwrap();
    assert!(whole.ok);
    let n = whole.events;
    assert!(n >= 30, "{n} events");
    for threads in [2, 3, 4, 7] {
        assert_eq!(key_of(&reg.verify_log_in(threads).unwrap()), key_of(&whole));
    }
    drop(reg);
    // Two pieces: the second starts at n/2 + 1. Breaks inside the second piece, at its first
    // event (the boundary), at the last event of the first piece, and a gap at the boundary.
    let boundary = n / 2 + 1;
    let pristine = std::fs::read(fx.dir.join(DB_FILE)).unwrap();
    let cases = [
        (
            format!(
                "UPDATE audit_events SET actor = 'eve@acme.test' WHERE seq = {}",
                boundary + 3
            ),
            boundary + 3,
        ),
        (
            format!("UPDATE audit_events SET payload = '{{}}' WHERE seq = {boundary}"),
            boundary,
        ),
        (
            format!(
                "UPDATE audit_events SET prev_hash = '{}' WHERE seq = {boundary}",
                "a".repeat(64)
            ),
            boundary,
        ),
        (
            format!(
                "UPDATE audit_events SET hash = '{}' WHERE seq = {}",
                "b".repeat(64),
                boundary - 1
            ),
            boundary - 1,
        ),
        (
            format!("DELETE FROM audit_events WHERE seq = {boundary}"),
            boundary,
        ),
        (
            format!("DELETE FROM audit_events WHERE seq = {}", boundary - 1),
            boundary - 1,
        ),
        (
            format!("UPDATE audit_events SET actor = 'eve@acme.test' WHERE seq = {n}"),
            n,
        ),
    ];
    for (edit, bad) in cases {
        for ext in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(fx.dir.join(format!("{DB_FILE}{ext}")));
        }
        std::fs::write(fx.dir.join(DB_FILE), &pristine).unwrap();
        raw_db(&fx.dir, ADMIN, ADMIN_PASS)
            .execute_batch(&edit)
            .unwrap();
        let reg = open();
        let one = reg.verify_log_in(1).unwrap();
        assert_eq!(
            (one.ok, one.first_bad_seq),
            (false, Some(bad)),
            "{edit}: {one:?}"
        );
        for threads in [2, 3, 4] {
            let split = reg.verify_log_in(threads).unwrap();
            assert_eq!(key_of(&split), key_of(&one), "{edit}, {threads} threads");
        }
        assert_eq!(key_of(&reg.verify_log().unwrap()), key_of(&one), "{edit}");
    }
}
