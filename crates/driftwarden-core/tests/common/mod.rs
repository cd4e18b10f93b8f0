#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use driftwarden_core::keys::{slot_path, SlotFile};
use driftwarden_core::*;

pub const ADMIN: &str = "ana@acme.test";
pub const ADMIN_PASS: &str = "ana's long passphrase";
pub const BOB: &str = "bob@acme.test";
pub const BOB_PASS: &str = "bob's long passphrase";

pub fn clock() -> Arc<dyn Clock> {
    Arc::new(FixedClock(
        Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
    ))
}

pub struct Fixture {
    pub _tmp: tempfile::TempDir,
    pub dir: PathBuf,
}

/// A new registry with Ana (admin, owner) and Bob (validator, approver).
pub fn registry() -> (Fixture, Registry) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("registry");
    let mut reg = Registry::create(
        &dir,
        &CreateRegistry {
            org: "Acme Bank".into(),
            email: ADMIN.into(),
            name: "Ana Admin".into(),
            roles: vec![],
        },
        ADMIN_PASS,
        clock(),
    )
    .unwrap();
    reg.add_member(
        &AddMember {
            email: BOB.into(),
            name: "Bob Approver".into(),
            roles: vec!["validator".into(), "approver".into()],
        },
        BOB_PASS,
    )
    .unwrap();
    (Fixture { _tmp: tmp, dir }, reg)
}

pub fn add_model(reg: &mut Registry, name: &str) -> ModelView {
    reg.add_model(&AddModel {
        name: name.into(),
        version: "1.0".into(),
        owner: ADMIN.into(),
        intended_use: "Consumer credit decisions".into(),
        business_function: "Lending".into(),
        risk_tier: "high".into(),
        deployment_mode: None,
        regulated: true,
    })
    .unwrap()
}

/// Every file under `dir` with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The SQLCipher settings a third party applies after `PRAGMA key`, from the cipher profile the
/// registry header names (none: SQLCipher 4's defaults).
pub fn cipher_pragmas(dir: &Path) -> &'static str {
    let header: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(driftwarden_core::HEADER_FILE)).unwrap())
            .unwrap();
    match header.get("cipher").and_then(|c| c.as_str()) {
        None => "",
        Some("sqlcipher4-hmac-sha256") => "PRAGMA cipher_hmac_algorithm = HMAC_SHA256;",
        Some(other) => panic!("unknown cipher profile {other}"),
    }
}

/// Opens the database directly with the data key from `email`'s slot, as a third party would.
pub fn raw_db(dir: &Path, email: &str, pass: &str) -> rusqlite::Connection {
    let slot = SlotFile::read(&slot_path(dir, email)).unwrap();
    let (_, key) = slot.unlock(pass).unwrap();
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
    let hex: String = key.as_bytes().iter().map(|x| format!("{x:02x}")).collect();
    conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";"))
        .unwrap();
    conn.execute_batch(cipher_pragmas(dir)).unwrap();
    conn
}

/// Takes a registry's measurements back to schema 7 (series and time spelt out in every row), for the
/// tests that migrate an older registry: run on a raw connection, inside a transaction.
pub const SCHEMA_8_TO_7: &str = "
    CREATE TABLE measurements_v7 (
        id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL REFERENCES models(id),
        metric TEXT NOT NULL, value REAL NOT NULL, observed_at TEXT NOT NULL, segment TEXT,
        source TEXT, import_id INTEGER NOT NULL REFERENCES imports(id),
        evaluation TEXT NOT NULL CHECK (evaluation IN ('none', 'ok', 'warn', 'breach')),
        threshold_id INTEGER REFERENCES thresholds(id),
        exception_id INTEGER REFERENCES exceptions(id));
    INSERT INTO measurements_v7
        SELECT m.id, s.model_id, s.metric, m.value,
            strftime('%Y-%m-%dT%H:%M:%SZ', m.observed_at, 'unixepoch'), m.segment, m.source,
            m.import_id, m.evaluation, m.threshold_id, m.exception_id
        FROM measurements m JOIN series s ON s.id = m.series_id;
    DROP TABLE measurements;
    DROP TABLE series;
    ALTER TABLE measurements_v7 RENAME TO measurements;
    CREATE INDEX measurements_series ON measurements(model_id, metric, observed_at, id, value);
    PRAGMA user_version = 7;";

pub fn event_count(reg: &Registry) -> usize {
    reg.audit_log(None).unwrap().len()
}

/// A clock the test moves.
#[derive(Clone)]
pub struct TestClock(pub Arc<std::sync::Mutex<chrono::DateTime<Utc>>>);

impl Clock for TestClock {
    fn now(&self) -> chrono::DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

impl TestClock {
    pub fn at(y: i32, m: u32, d: u32) -> TestClock {
        TestClock(Arc::new(std::sync::Mutex::new(
            Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap(),
        )))
    }
    pub fn set(&self, y: i32, m: u32, d: u32) {
        *self.0.lock().unwrap() = Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap();
    }
    pub fn advance_days(&self, days: i64) {
        let mut t = self.0.lock().unwrap();
        *t += chrono::Duration::days(days);
    }
}

/// Ana (admin, owner), Bob (validator, approver), Carol (engineer); a moving clock; registry open
/// as Ana. `open(email)` reopens as someone else.
pub struct Team {
    pub fx: Fixture,
    pub clock: TestClock,
}

pub const CAROL: &str = "carol@acme.test";
pub const CAROL_PASS: &str = "carol's long passphrase";

impl Team {
    pub fn new() -> (Team, Registry) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("registry");
        let clock = TestClock::at(2026, 11, 2);
        let mut reg = Registry::create(
            &dir,
            &CreateRegistry {
                org: "Acme Bank".into(),
                email: ADMIN.into(),
                name: "Ana Admin".into(),
                roles: vec![],
            },
            ADMIN_PASS,
            Arc::new(clock.clone()),
        )
        .unwrap();
        reg.add_member(
            &AddMember {
                email: BOB.into(),
                name: "Bob Approver".into(),
                roles: vec!["validator,approver".into()],
            },
            BOB_PASS,
        )
        .unwrap();
        reg.add_member(
            &AddMember {
                email: CAROL.into(),
                name: "Carol Engineer".into(),
                roles: vec!["engineer".into()],
            },
            CAROL_PASS,
        )
        .unwrap();
        (
            Team {
                fx: Fixture { _tmp: tmp, dir },
                clock,
            },
            reg,
        )
    }

    pub fn open(&self, email: &str) -> Registry {
        let pass = match email {
            ADMIN => ADMIN_PASS,
            BOB => BOB_PASS,
            CAROL => CAROL_PASS,
            _ => panic!("unknown member"),
        };
        Registry::open(&self.fx.dir, email, pass, Arc::new(self.clock.clone())).unwrap()
    }

    /// Writes a measurement CSV and ingests it as `reg`'s member.
    pub fn ingest(&self, reg: &mut Registry, rows: &[(&str, f64, &str)]) -> IngestReport {
        let path = self
            .fx
            .dir
            .parent()
            .unwrap()
            .join(format!("m-{}.csv", rand_suffix()));
        let mut text = String::from("model,version,metric,value,observed_at\n");
        for (metric, value, at) in rows {
            text.push_str(&format!("credit-risk,1.0,{metric},{value},{at}\n"));
        }
        std::fs::write(&path, text).unwrap();
        reg.ingest_file(
            &path,
            &IngestOptions {
                format: IngestFormat::Csv,
                model: None,
                observed_at: None,
            },
            &mut |_| {},
        )
        .unwrap()
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Registers credit-risk 1.0 (high tier, regulated unless told) with full decision rights and a
/// psi threshold (breach 0.25, warn 0.1).
pub fn governed_model(reg: &mut Registry, regulated: bool) {
    reg.add_model(&AddModel {
        name: "credit-risk".into(),
        version: "1.0".into(),
        owner: ADMIN.into(),
        intended_use: "Consumer credit decisions".into(),
        business_function: "Lending".into(),
        risk_tier: "high".into(),
        deployment_mode: None,
        regulated,
    })
    .unwrap();
    reg.set_decision_rights(
        "credit-risk",
        &SetDecisionRights {
            alert_recipients: Some(vec![ADMIN.into(), BOB.into()]),
            validator: Some(BOB.into()),
            rollback: Some(ADMIN.into()),
            approver: Some(BOB.into()),
        },
    )
    .unwrap();
    reg.set_threshold(
        "credit-risk",
        &SetThreshold {
            metric: "psi".into(),
            breach: 0.25,
            warn: Some(0.1),
            direction: None,
        },
    )
    .unwrap();
}
