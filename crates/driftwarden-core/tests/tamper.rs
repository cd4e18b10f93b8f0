//! Tamper evidence: a changed byte in any page of the database, a truncated database, a changed key
//! slot, a reordered or inserted audit event, a replayed sign-off. Each case must be refused on
//! open, refused on read, or reported (by SQLCipher's per-page HMAC check, SQLite's integrity check,
//! `verify_log` or the remembered head); no case may be read back as different data without an
//! error. Each test prints how many cases it ran and how each was caught.

use std::collections::BTreeMap;
use std::path::Path;

use driftwarden_core::keys::{slot_path, SlotFile};
use driftwarden_core::*;
use serde_json::Value;

use crate::common::*;

const PAGE: usize = 4096;

/// A registry with members, a regulated model with an approval, 300 measurements, a decided and
/// co-signed exception, an open one and NHIs: enough rows that the database has data, index and
/// overflow pages of every table.
fn rich_registry() -> (Team, Registry) {
    let (t, mut ana) = Team::new();
    governed_model(&mut ana, true);
    t.open(BOB)
        .approve_model(
            "credit-risk",
            &ApproveModel {
                until: "2027-03-01".into(),
                note: Some("Q4 release".into()),
            },
        )
        .unwrap();
    let rows: Vec<(&str, f64, String)> = (0..300)
        .map(|i| {
            (
                "psi",
                if i == 150 { 0.4 } else { 0.05 },
                format!("2026-11-01T{:02}:{:02}:00Z", i / 60, i % 60),
            )
        })
        .collect();
    let rows: Vec<(&str, f64, &str)> = rows.iter().map(|(m, v, a)| (*m, *v, a.as_str())).collect();
    let id = t.ingest(&mut ana, &rows).opened[0];
    let mut bob = t.open(BOB);
    bob.validate_exception(id, true, "the applicant mix shifted")
        .unwrap();
    ana.decide_exception(
        id,
        &DecideException {
            disposition: "retrain".into(),
            rationale: "Retrain on the October cohort".into(),
            follow_up: Some("2026-12-15".into()),
        },
    )
    .unwrap();
    bob.cosign_exception(id).unwrap();
    for i in 0..20 {
        ana.add_nhi(&AddNhi {
            name: format!("svc-scoring-{i}"),
            kind: "service-account".into(),
            system: "GCP".into(),
            owner: ADMIN.into(),
            rotation_days: 90,
            last_rotated: None,
            expires: None,
            environment: Some("prod".into()),
            scopes: vec!["bigquery.read".into(), "storage.objects.get".into()],
            ..Default::default()
        })
        .unwrap();
    }
    drop(bob);
    (t, ana)
}

/// Everything the app can show, in one JSON value (the audit-pack data covers every table).
fn read_all(reg: &Registry) -> Result<Value> {
    let data = reg.pack_data(&PackScope::default())?;
    let verify = reg.verify_log()?;
    Ok(serde_json::json!({ "data": data, "verify": verify }))
}

/// Problems reported by a third-party check with the data key: SQLCipher's HMAC of every page and
/// SQLite's structural integrity check.
fn integrity_problems(dir: &Path, key_hex: &str) -> Vec<String> {
    let conn = match rusqlite::Connection::open(dir.join(DB_FILE)) {
        Ok(c) => c,
        Err(e) => return vec![format!("open: {e}")],
    };
    let _ = conn.execute_batch("PRAGMA cipher_log_level = NONE;");
    conn.execute_batch(&format!("PRAGMA key = \"x'{key_hex}'\";"))
        .unwrap();
    conn.execute_batch(cipher_pragmas(dir)).unwrap();
    let mut out = Vec::new();
    for pragma in ["PRAGMA cipher_integrity_check", "PRAGMA integrity_check"] {
        let rows: rusqlite::Result<Vec<String>> = conn
            .prepare(pragma)
            .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect());
        match rows {
            Ok(rows) => out.extend(rows.into_iter().filter(|r| r != "ok")),
            Err(e) => out.push(format!("{pragma}: {e}")),
        }
    }
    out
}

fn remove_wal(dir: &Path) {
    for ext in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("{DB_FILE}{ext}")));
    }
}

#[derive(Default)]
struct Tally(BTreeMap<String, usize>);

impl Tally {
    fn add(&mut self, how: &str) {
        *self.0.entry(how.to_string()).or_default() += 1;
    }
    fn total(&self) -> usize {
        self.0.values().sum()
    }
}

/// Puts `bytes` in place of the database and checks the registry as the app would, then as a
/// third party would. Panics if the change is read back silently.
fn check_case(t: &Team, key_hex: &str, baseline: &Value, bytes: &[u8], what: &str) -> String {
    let dir = &t.fx.dir;
    remove_wal(dir);
    std::fs::write(dir.join(DB_FILE), bytes).unwrap();
    let how = match Registry::open(dir, ADMIN, ADMIN_PASS, std::sync::Arc::new(t.clock.clone())) {
        Err(e) => {
            assert_eq!(
                e.code(),
                "tampered",
                "{what}: refused on open, clearly: {e}"
            );
            "refused on open".to_string()
        }
        Ok(reg) => match read_all(&reg) {
            Err(e) => {
                assert_eq!(
                    e.code(),
                    "tampered",
                    "{what}: refused on read, clearly: {e}"
                );
                "refused on read".to_string()
            }
            Ok(v) => {
                assert!(
                    v == *baseline,
                    "{what}: the registry read back different data without an error"
                );
                drop(reg);
                let problems = integrity_problems(dir, key_hex);
                assert!(
                    !problems.is_empty(),
                    "{what}: opened, read and checked as if nothing had changed"
                );
                "unread by the app; reported by the integrity check".to_string()
            }
        },
    };
    how
}

#[test]
fn a_changed_byte_in_any_page_or_a_truncated_database_never_reads_silently() {
    let (t, ana) = rich_registry();
    drop(ana);
    // Settle (the sweep on open may write) and take the baseline the app shows.
    let reg = t.open(ADMIN);
    let baseline = read_all(&reg).unwrap();
    assert!(baseline["verify"]["ok"].as_bool().unwrap());
    drop(reg);
    let dir = t.fx.dir.clone();
    assert!(
        !dir.join(format!("{DB_FILE}-wal")).exists(),
        "closing folds the WAL into the database"
    );
    let orig = std::fs::read(dir.join(DB_FILE)).unwrap();
    assert_eq!(orig.len() % PAGE, 0);
    let pages = orig.len() / PAGE;
    assert!(pages >= 30, "a database of {pages} pages");
    let (_, key) = SlotFile::read(&slot_path(&dir, ADMIN))
        .unwrap()
        .unlock(ADMIN_PASS)
        .unwrap();
    let key_hex: String = key.as_bytes().iter().map(|x| format!("{x:02x}")).collect();
    assert!(integrity_problems(&dir, &key_hex).is_empty());

    let mut tally = Tally::default();
    // One flipped byte in every page, at an offset that moves through the page: the salt (page 1),
    // the encrypted content, and the reserved tail holding each page's IV and HMAC.
    for p in 0..pages {
        let within = match p % 3 {
            0 => 16 + (p * 131) % 64,
            1 => 16 + (p * 977) % (PAGE - 96),
            _ => PAGE - 80 + (p * 13) % 80,
        };
        let off = if p == 0 {
            p * 16 / pages
        } else {
            p * PAGE + within
        };
        let mut bytes = orig.clone();
        bytes[off] ^= 0x01;
        let how = check_case(
            &t,
            &key_hex,
            &baseline,
            &bytes,
            &format!("page {}, byte {off}", p + 1),
        );
        tally.add(&format!("flip: {how}"));
        // And the same page overwritten with zeros (SQLCipher skips the HMAC of all-zero pages).
        if p % 4 == 2 {
            let mut bytes = orig.clone();
            bytes[p * PAGE..(p + 1) * PAGE].fill(0);
            let how = check_case(
                &t,
                &key_hex,
                &baseline,
                &bytes,
                &format!("page {} zeroed", p + 1),
            );
            tally.add(&format!("zeroed page: {how}"));
        }
    }
    // Truncations: empty, inside the first page, one page, half, one page short, one byte short.
    for len in [
        0,
        100,
        PAGE,
        (pages / 2) * PAGE,
        orig.len() - PAGE,
        orig.len() - 1,
    ] {
        let how = check_case(
            &t,
            &key_hex,
            &baseline,
            &orig[..len],
            &format!("truncated to {len} bytes"),
        );
        tally.add(&format!("truncation: {how}"));
    }
    // The untouched bytes still open and read the same (the cases above restored nothing by luck).
    remove_wal(&dir);
    std::fs::write(dir.join(DB_FILE), &orig).unwrap();
    assert_eq!(read_all(&t.open(ADMIN)).unwrap(), baseline);
    eprintln!(
        "database tamper: {} pages, {} cases, all caught: {:?}",
        pages,
        tally.total(),
        tally.0
    );
}

/// Changes the character at `i` of a base64 or hex string to another character of the same
/// alphabet.
fn flip_char(s: &str, i: usize) -> String {
    let mut c: Vec<char> = s.chars().collect();
    c[i] = if c[i] == 'A' || c[i] == '0' {
        if c[i] == 'A' {
            'B'
        } else {
            '1'
        }
    } else if c[i].is_ascii_hexdigit() && c[i].is_ascii_digit() {
        '0'
    } else {
        'A'
    };
    c.into_iter().collect()
}

#[test]
fn a_changed_key_slot_is_rejected_in_every_field_and_changes_nothing() {
    let (fx, mut reg) = registry();
    add_model(&mut reg, "credit-risk");
    drop(reg);
    let path = slot_path(&fx.dir, ADMIN);
    let orig = std::fs::read(&path).unwrap();
    let json: Value = serde_json::from_slice(&orig).unwrap();
    let db_before = std::fs::read(fx.dir.join(DB_FILE)).unwrap();

    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    let mut edit = |name: &str, f: &dyn Fn(&mut Value)| {
        let mut v = json.clone();
        f(&mut v);
        assert_ne!(v, json, "{name} changes the slot");
        cases.push((name.to_string(), serde_json::to_vec_pretty(&v).unwrap()));
    };
    edit("format", &|v| v["format"] = "driftwarden-slox".into());
    edit("version", &|v| v["version"] = 2.into());
    edit("registry_id", &|v| {
        v["registry_id"] = flip_char(v["registry_id"].as_str().unwrap(), 3).into()
    });
    edit("member_id", &|v| {
        v["member_id"] = flip_char(v["member_id"].as_str().unwrap(), 5).into()
    });
    edit("kdf.alg", &|v| v["kdf"]["alg"] = "argon2i".into());
    edit("kdf.version", &|v| v["kdf"]["version"] = 16.into());
    edit("kdf.m_cost_kib lowered", &|v| {
        v["kdf"]["m_cost_kib"] = 1024.into()
    });
    edit("kdf.m_cost_kib raised", &|v| {
        v["kdf"]["m_cost_kib"] = (64 * 1024 + 8).into()
    });
    edit("kdf.t_cost lowered", &|v| v["kdf"]["t_cost"] = 1.into());
    edit("kdf.t_cost zero", &|v| v["kdf"]["t_cost"] = 0.into());
    edit("kdf.p_cost", &|v| v["kdf"]["p_cost"] = 2.into());
    for field in [
        "/kdf/salt",
        "/box_public",
        "/signing_public",
        "/secrets/nonce",
        "/secrets/ct",
        "/data_key/ephemeral_public",
        "/data_key/nonce",
        "/data_key/ct",
    ] {
        let s = json.pointer(field).unwrap().as_str().unwrap().to_string();
        for (where_, i) in [("first", 0), ("middle", s.len() / 2), ("last", s.len() - 1)] {
            // The last base64 character may be padding; flip the last data character instead.
            let i = if where_ == "last" {
                s.trim_end_matches('=').len() - 1
            } else {
                i
            };
            let flipped = flip_char(&s, i);
            edit(&format!("{field} ({where_} character)"), &move |v| {
                *v.pointer_mut(field).unwrap() = flipped.clone().into()
            });
        }
    }
    // Whole-file damage.
    cases.push(("empty file".into(), Vec::new()));
    cases.push(("first half only".into(), orig[..orig.len() / 2].to_vec()));
    cases.push(("not JSON".into(), b"\x00\x01garbage".to_vec()));
    cases.push((
        "Bob's slot under Ana's name".into(),
        std::fs::read(slot_path(&fx.dir, BOB)).unwrap(),
    ));

    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for (name, bytes) in &cases {
        std::fs::write(&path, bytes).unwrap();
        let err = Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).expect_err(&format!(
            "{name}: a changed slot must not open the registry"
        ));
        assert!(
            matches!(
                err.code(),
                "tampered" | "wrong_passphrase" | "not_a_registry"
            ),
            "{name}: {err}"
        );
        assert!(!err.to_string().contains(ADMIN_PASS), "{name}: {err}");
        *codes.entry(err.code().to_string()).or_default() += 1;
    }
    // Bob's slot opens as Bob but is refused as Ana even with Bob's passphrase.
    let err = Registry::open(&fx.dir, ADMIN, BOB_PASS, clock()).unwrap_err();
    assert_eq!(err.code(), "tampered", "{err}");
    *codes.entry(err.code().to_string()).or_default() += 1;

    assert_eq!(
        std::fs::read(fx.dir.join(DB_FILE)).unwrap(),
        db_before,
        "no rejected slot touched the database"
    );
    std::fs::write(&path, &orig).unwrap();
    Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    eprintln!(
        "key slot tamper: {} cases, all rejected: {codes:?}",
        cases.len() + 1
    );
}

/// Two exceptions with sign-offs: #1 decided by Ana and co-signed by Bob (closed), #2 a re-breach
/// decided by Ana.
fn two_signed_exceptions() -> (Team, i64, i64) {
    let (t, mut ana) = Team::new();
    governed_model(&mut ana, true);
    t.open(BOB)
        .approve_model(
            "credit-risk",
            &ApproveModel {
                until: "2027-03-01".into(),
                note: None,
            },
        )
        .unwrap();
    let decide = |ana: &mut Registry, id: i64, why: &str| {
        ana.decide_exception(
            id,
            &DecideException {
                disposition: "keep".into(),
                rationale: why.into(),
                follow_up: None,
            },
        )
        .unwrap();
    };
    let first = t
        .ingest(&mut ana, &[("psi", 0.5, "2026-11-02T00:00:00Z")])
        .opened[0];
    let mut bob = t.open(BOB);
    bob.validate_exception(first, true, "").unwrap();
    decide(&mut ana, first, "Within appetite");
    bob.cosign_exception(first).unwrap();
    t.clock.advance_days(10);
    let second = t
        .ingest(&mut ana, &[("psi", 0.6, "2026-11-12T00:00:00Z")])
        .opened[0];
    bob.validate_exception(second, true, "").unwrap();
    decide(&mut ana, second, "Retraining is scheduled");
    (t, first, second)
}

#[test]
fn a_replayed_or_forged_signoff_is_rejected() {
    let (t, first, second) = two_signed_exceptions();
    let ana = t.open(ADMIN);
    let e1 = ana.show_exception(first).unwrap();
    let e2 = ana.show_exception(second).unwrap();
    assert!(e1.signoffs.iter().all(|s| s.valid) && e1.signoffs.len() == 2);
    assert!(e2.signoffs.iter().all(|s| s.valid) && e2.signoffs.len() == 1);
    drop(ana);

    let conn = || raw_db(&t.fx.dir, ADMIN, ADMIN_PASS);
    let signoff_of = |id: i64, kind: &str| -> (i64, String, String) {
        conn()
            .query_row(
                "SELECT id, statement, signature FROM signoffs
                 WHERE entity_type = 'exception' AND entity_id = ?1 AND kind = ?2",
                rusqlite::params![id, kind],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
    };
    let (d1_id, d1_stmt, d1_sig) = signoff_of(first, "disposition");
    let (d2_id, d2_stmt, d2_sig) = signoff_of(second, "disposition");
    let mut cases = 0;
    let second_signoffs = || t.open(ADMIN).show_exception(second).unwrap().signoffs;

    // 1. Bob's co-sign of #1 replayed onto #2 (the whole row, re-pointed).
    conn()
        .execute(
            "INSERT INTO signoffs (kind, entity_type, entity_id, signer_id, signed_at, statement, signature)
             SELECT kind, entity_type, ?1, signer_id, signed_at, statement, signature FROM signoffs
             WHERE entity_type = 'exception' AND entity_id = ?2 AND kind = 'cosign'",
            rusqlite::params![second, first],
        )
        .unwrap();
    let s = second_signoffs();
    let replayed = s.iter().find(|s| s.kind == "cosign").unwrap();
    assert!(!replayed.valid, "a co-sign replayed from another exception");
    assert!(replayed
        .problem
        .as_deref()
        .unwrap()
        .contains("no longer matches"));
    cases += 1;
    conn()
        .execute(
            "DELETE FROM signoffs WHERE entity_type = 'exception' AND entity_id = ?1 AND kind = 'cosign'",
            [second],
        )
        .unwrap();

    // 2. #1's signed statement and signature copied over #2's disposition.
    conn()
        .execute(
            "UPDATE signoffs SET statement = ?1, signature = ?2 WHERE id = ?3",
            rusqlite::params![d1_stmt, d1_sig, d2_id],
        )
        .unwrap();
    let s = second_signoffs();
    assert!(!s[0].valid, "another record's statement and signature");
    cases += 1;

    // 3. #2's own statement with #1's signature: the signature does not verify.
    conn()
        .execute(
            "UPDATE signoffs SET statement = ?1, signature = ?2 WHERE id = ?3",
            rusqlite::params![d2_stmt, d1_sig, d2_id],
        )
        .unwrap();
    let s = second_signoffs();
    assert!(!s[0].valid);
    assert_eq!(
        s[0].problem.as_deref(),
        Some("the signature does not verify")
    );
    cases += 1;

    // 4. The genuine signature attributed to another member (Bob signed it, says the row).
    conn()
        .execute(
            "UPDATE signoffs SET statement = ?1, signature = ?2,
             signer_id = (SELECT id FROM members WHERE email = ?3) WHERE id = ?4",
            rusqlite::params![d2_stmt, d2_sig, BOB, d2_id],
        )
        .unwrap();
    let s = second_signoffs();
    assert!(!s[0].valid, "a signature attributed to someone else");
    cases += 1;

    // 5. A signature made with a key that is not the member's (a forger's own Ed25519 key over
    //    the right statement).
    {
        use base64::Engine;
        let forger = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let stmt: Value = serde_json::from_str(&d2_stmt).unwrap();
        let sig = ed25519_dalek::Signer::sign(&forger, &canonical::canonical_bytes(&stmt));
        conn()
            .execute(
                "UPDATE signoffs SET statement = ?1, signature = ?2,
                 signer_id = (SELECT id FROM members WHERE email = ?3) WHERE id = ?4",
                rusqlite::params![
                    d2_stmt,
                    base64::engine::general_purpose::STANDARD.encode(sig.to_bytes()),
                    ADMIN,
                    d2_id
                ],
            )
            .unwrap();
    }
    let s = second_signoffs();
    assert!(!s[0].valid, "a signature by a key that is not the signer's");
    assert_eq!(
        s[0].problem.as_deref(),
        Some("the signature does not verify")
    );
    cases += 1;

    let ana_key: String = conn()
        .query_row(
            "SELECT signing_public_key FROM members WHERE email = ?1",
            [ADMIN],
            |r| r.get(0),
        )
        .unwrap();
    // 6. The signer's public key swapped for the forger's in the member record: the signature
    //    then verifies under the record, but opening as that member is refused (the key slot no
    //    longer matches the member record), so the swap cannot go unnoticed.
    {
        use base64::Engine;
        let forger = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        conn()
            .execute(
                "UPDATE members SET signing_public_key = ?1 WHERE email = ?2",
                rusqlite::params![
                    base64::engine::general_purpose::STANDARD
                        .encode(forger.verifying_key().to_bytes()),
                    ADMIN
                ],
            )
            .unwrap();
    }
    let err = Registry::open(
        &t.fx.dir,
        ADMIN,
        ADMIN_PASS,
        std::sync::Arc::new(t.clock.clone()),
    )
    .unwrap_err();
    assert_eq!(err.code(), "tampered", "{err}");
    cases += 1;

    // With Ana's key put back, the untouched sign-offs of #1 still verify.
    conn()
        .execute(
            "UPDATE members SET signing_public_key = ?1 WHERE email = ?2",
            rusqlite::params![ana_key, ADMIN],
        )
        .unwrap();
    let _ = d1_id;
    assert!(t
        .open(ADMIN)
        .show_exception(first)
        .unwrap()
        .signoffs
        .iter()
        .all(|s| s.valid));
    eprintln!("sign-off forgery and replay: {cases} cases, all rejected");
}

/// Rewrites the hash chain from `from` on so that every event links and hashes correctly, as an
/// attacker holding the data key could.
fn rechain(conn: &rusqlite::Connection, from: i64) {
    let rows: Vec<(i64, String, String, String, String, String, String)> = conn
        .prepare(
            "SELECT seq, at, actor, operation, entity_type, entity_id, payload FROM audit_events
             WHERE seq >= ?1 ORDER BY seq",
        )
        .unwrap()
        .query_map([from], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut prev: String = conn
        .query_row(
            "SELECT hash FROM audit_events WHERE seq = ?1",
            [from - 1],
            |r| r.get(0),
        )
        .unwrap_or_else(|_| audit::GENESIS_HASH.to_string());
    for (seq, at, actor, op, et, eid, payload) in rows {
        let p: Value = serde_json::from_str(&payload).unwrap();
        let h = audit::chain_hash(
            &prev,
            &audit::event_canonical_bytes(seq, &at, &actor, &op, &et, &eid, &p),
        );
        conn.execute(
            "UPDATE audit_events SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![prev, h, seq],
        )
        .unwrap();
        prev = h;
    }
}

#[test]
fn reordered_inserted_cut_or_rewritten_history_is_detected() {
    let (fx, mut reg) = registry();
    for name in ["credit-risk", "fraud", "churn", "pricing"] {
        add_model(&mut reg, name);
    }
    let state = fx.dir.parent().unwrap().join("state");
    assert_eq!(reg.check_head(&state).unwrap().status, "first");
    let events = reg.verify_log().unwrap().events;
    assert_eq!(events, 7);
    drop(reg);
    let pristine = std::fs::read(fx.dir.join(DB_FILE)).unwrap();
    let reset = || {
        remove_wal(&fx.dir);
        std::fs::write(fx.dir.join(DB_FILE), &pristine).unwrap();
    };
    let conn = || raw_db(&fx.dir, ADMIN, ADMIN_PASS);
    let open = || Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    let mut cases = 0;

    // Reorder: events 4 and 5 swap places (their sequence numbers).
    {
        let c = conn();
        c.execute_batch(
            "UPDATE audit_events SET seq = -1 WHERE seq = 4;
             UPDATE audit_events SET seq = 4 WHERE seq = 5;
             UPDATE audit_events SET seq = 5 WHERE seq = -1;",
        )
        .unwrap();
    }
    let r = open().verify_log().unwrap();
    assert_eq!((r.ok, r.first_bad_seq), (false, Some(4)), "reorder: {r:?}");
    cases += 1;
    reset();

    // Insert: a forged event at 4 (hashed correctly onto event 3), later events moved up one.
    {
        let c = conn();
        c.execute_batch(
            "UPDATE audit_events SET seq = -seq WHERE seq >= 4;
             UPDATE audit_events SET seq = -seq + 1 WHERE seq < 0;",
        )
        .unwrap();
        let prev: String = c
            .query_row("SELECT hash FROM audit_events WHERE seq = 3", [], |r| {
                r.get(0)
            })
            .unwrap();
        let payload = serde_json::json!({ "name": "backdoor" });
        let (at, actor) = ("2026-11-01T09:00:00Z", ADMIN);
        let h = audit::chain_hash(
            &prev,
            &audit::event_canonical_bytes(4, at, actor, "model.add", "model", "99", &payload),
        );
        c.execute(
            "INSERT INTO audit_events (seq, at, actor, operation, entity_type, entity_id, payload, prev_hash, hash)
             VALUES (4, ?1, ?2, 'model.add', 'model', '99', ?3, ?4, ?5)",
            rusqlite::params![at, actor, canonical::canonical_string(&payload), prev, h],
        )
        .unwrap();
    }
    let r = open().verify_log().unwrap();
    assert_eq!((r.ok, r.first_bad_seq), (false, Some(5)), "insert: {r:?}");
    cases += 1;
    // The same insertion with the whole chain after it rewritten verifies on its own; the head
    // this member remembered says the history was rewritten.
    rechain(&conn(), 5);
    let reg = open();
    assert!(reg.verify_log().unwrap().ok);
    let h = reg.check_head(&state).unwrap();
    assert_eq!(h.status, "diverged", "{h:?}");
    cases += 1;
    drop(reg);
    reset();

    // An edited payload with the chain recomputed from there: verifies alone, diverged by head.
    {
        let c = conn();
        c.execute(
            "UPDATE audit_events SET payload = '{\"name\":\"renamed\"}' WHERE seq = 6",
            [],
        )
        .unwrap();
        rechain(&c, 6);
    }
    let reg = open();
    assert!(reg.verify_log().unwrap().ok);
    assert_eq!(reg.check_head(&state).unwrap().status, "diverged");
    cases += 1;
    drop(reg);
    reset();

    // The newest events cut off: the chain verifies, the remembered head says it went backwards.
    conn()
        .execute("DELETE FROM audit_events WHERE seq >= 6", [])
        .unwrap();
    let reg = open();
    assert!(reg.verify_log().unwrap().ok);
    let h = reg.check_head(&state).unwrap();
    assert_eq!(h.status, "rolled-back", "{h:?}");
    cases += 1;
    drop(reg);
    reset();

    // A duplicated event (the same row again under the next sequence number).
    conn()
        .execute(
            "INSERT INTO audit_events (seq, at, actor, operation, entity_type, entity_id, payload, prev_hash, hash)
             SELECT 8, at, actor, operation, entity_type, entity_id, payload, prev_hash, hash
             FROM audit_events WHERE seq = 7",
            [],
        )
        .unwrap();
    let r = open().verify_log().unwrap();
    assert_eq!(
        (r.ok, r.first_bad_seq),
        (false, Some(8)),
        "duplicate: {r:?}"
    );
    cases += 1;
    reset();

    let reg = open();
    assert!(reg.verify_log().unwrap().ok);
    assert_eq!(reg.check_head(&state).unwrap().status, "ok");
    eprintln!("audit log reorder/insert/rewrite/cut/duplicate: {cases} cases, all detected");
}
