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

/// Opens the database directly with the data key from `email`'s slot, as a third party would.
pub fn raw_db(dir: &Path, email: &str, pass: &str) -> rusqlite::Connection {
    let slot = SlotFile::read(&slot_path(dir, email)).unwrap();
    let (_, key) = slot.unlock(pass).unwrap();
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
    let hex: String = key.as_bytes().iter().map(|x| format!("{x:02x}")).collect();
    conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";"))
        .unwrap();
    conn
}

pub fn event_count(reg: &Registry) -> usize {
    reg.audit_log(None).unwrap().len()
}
