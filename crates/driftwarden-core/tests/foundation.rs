//! Foundation: encryption at rest, key slots, offboarding, permissions, validation, audit chain,
//! schema versions.

use std::path::Path;

use driftwarden_core::keys::slot_path;
use driftwarden_core::*;

use crate::common::*;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn registry_files_contain_none_of_the_strings_written_into_it() {
    let (fx, mut reg) = registry();
    let marker = "ZEBRA-MARKER-7f3a9c";
    reg.add_model(&AddModel {
        name: format!("model-{marker}"),
        version: "1.0".into(),
        owner: ADMIN.into(),
        intended_use: format!("use {marker}"),
        business_function: "Lending".into(),
        risk_tier: "low".into(),
        deployment_mode: Some("shadow".into()),
        regulated: false,
    })
    .unwrap();
    reg.add_nhi(&AddNhi {
        name: format!("svc-{marker}"),
        kind: "service-account".into(),
        system: "GCP".into(),
        owner: ADMIN.into(),
        rotation_days: 90,
        last_rotated: None,
        expires: None,
        environment: Some("prod".into()),
        scopes: vec![format!("scope-{marker}")],
        ..Default::default()
    })
    .unwrap();
    let needles: Vec<Vec<u8>> = [
        marker,
        "Acme Bank",
        ADMIN,
        BOB,
        "Bob Approver",
        ADMIN_PASS,
        BOB_PASS,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    // While open (WAL and shared-memory files present) and after closing.
    let check = |when: &str| {
        let files = snapshot(&fx.dir);
        assert!(
            files.keys().any(|p| p.ends_with("registry.db")),
            "{when}: database present"
        );
        for (path, bytes) in &files {
            for n in &needles {
                assert!(
                    !contains(bytes, n),
                    "{when}: {} contains {:?}",
                    path.display(),
                    String::from_utf8_lossy(n)
                );
            }
        }
        files
    };
    let open_files = check("open");
    assert!(
        open_files
            .keys()
            .any(|p| p.to_string_lossy().ends_with("-wal")),
        "the WAL file was checked while the registry was open"
    );
    drop(reg);
    check("closed");
}

#[test]
fn wrong_passphrase_is_a_clear_error_and_changes_no_byte() {
    let (fx, reg) = registry();
    drop(reg);
    let before = snapshot(&fx.dir);
    let err = Registry::open(&fx.dir, ADMIN, "not the passphrase", clock()).unwrap_err();
    assert_eq!(err.code(), "wrong_passphrase");
    assert!(err.to_string().contains("wrong passphrase"));
    assert!(!err.to_string().contains("not the passphrase"));
    assert_eq!(snapshot(&fx.dir), before, "every file byte-identical");
    let err = Registry::open(&fx.dir, "nobody@acme.test", ADMIN_PASS, clock()).unwrap_err();
    assert_eq!(err.code(), "wrong_passphrase");
    assert_eq!(snapshot(&fx.dir), before);
}

#[test]
fn offboarding_rotates_the_key_and_an_old_slot_copy_opens_nothing() {
    let (fx, mut reg) = registry();
    // Bob opens with his own passphrase.
    let bob = Registry::open(&fx.dir, BOB, BOB_PASS, clock()).unwrap();
    assert_eq!(bob.session().unwrap().member.email, BOB);
    drop(bob);
    let bob_slot = slot_path(&fx.dir, BOB);
    let old_slot = std::fs::read(&bob_slot).unwrap();

    let m = reg.offboard_member(BOB, "left the company").unwrap();
    assert_eq!(m.status, MemberStatus::Offboarded);
    assert!(!bob_slot.exists(), "the slot is dropped");
    let err = Registry::open(&fx.dir, BOB, BOB_PASS, clock()).unwrap_err();
    assert_eq!(err.code(), "wrong_passphrase");

    // A copy of his old slot unlocks the old data key, which no longer opens the database.
    std::fs::write(&bob_slot, &old_slot).unwrap();
    let err = Registry::open(&fx.dir, BOB, BOB_PASS, clock()).unwrap_err();
    assert_eq!(err.code(), "tampered", "{err}");
    std::fs::remove_file(&bob_slot).unwrap();

    // The admin, whose slot was re-wrapped, still opens it, and the log records the offboarding.
    drop(reg);
    let reg = Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    let last = reg.audit_log(Some(1)).unwrap().pop().unwrap();
    assert_eq!(last.operation, "member.offboard");
    assert_eq!(last.payload["reason"], "left the company");
    assert!(reg.verify_log().unwrap().ok);
    assert_eq!(reg.member(BOB).unwrap().status, MemberStatus::Offboarded);
}

#[test]
fn an_interrupted_key_rotation_is_finished_on_open() {
    let (fx, mut reg) = registry();
    reg.offboard_member(BOB, "left").unwrap();
    drop(reg);
    // Simulate a stop between re-encrypting the database and renaming the re-wrapped slot: put
    // the new slot back under its pending name and an older slot in its place.
    let slot = slot_path(&fx.dir, ADMIN);
    let pending = driftwarden_core::keys::pending_slot_path(&fx.dir, ADMIN);
    std::fs::copy(&slot, &pending).unwrap();
    let mut stale = driftwarden_core::keys::SlotFile::read(&slot).unwrap();
    stale
        .wrap_data_key(&driftwarden_core::keys::DataKey::generate())
        .unwrap();
    stale.write(&slot).unwrap();
    let reg = Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    assert!(reg.verify_log().unwrap().ok);
    assert!(!pending.exists());
}

#[test]
fn members_without_the_role_or_right_are_refused_and_nothing_changes() {
    let (fx, mut admin) = registry();
    add_model(&mut admin, "credit-risk");
    drop(admin);
    let mut bob = Registry::open(&fx.dir, BOB, BOB_PASS, clock()).unwrap();
    let events = event_count(&bob);
    let members = bob.list_members().unwrap().len();

    let err = bob
        .add_member(
            &AddMember {
                email: "eve@acme.test".into(),
                name: "Eve".into(),
                roles: vec!["admin".into()],
            },
            "eve's long passphrase",
        )
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    assert!(err.to_string().contains("admin"), "{err}");
    assert!(!slot_path(&fx.dir, "eve@acme.test").exists());

    let err = bob
        .add_model(&AddModel {
            name: "x".into(),
            version: "1".into(),
            owner: ADMIN.into(),
            intended_use: "u".into(),
            business_function: "f".into(),
            risk_tier: "low".into(),
            deployment_mode: None,
            regulated: false,
        })
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let err = bob
        .set_threshold(
            "credit-risk",
            &SetThreshold {
                metric: "psi".into(),
                breach: 0.2,
                warn: None,
                direction: None,
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    assert!(
        err.to_string().contains(ADMIN),
        "names the accountable owner: {err}"
    );
    let err = bob.offboard_member(ADMIN, "coup").unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let err = bob.set_member_roles(BOB, &["admin".into()]).unwrap_err();
    assert_eq!(err.code(), "forbidden");

    assert_eq!(event_count(&bob), events);
    assert_eq!(bob.list_members().unwrap().len(), members);
    assert!(bob.list_thresholds("credit-risk").unwrap().is_empty());
}

#[test]
fn invalid_input_names_the_field_and_changes_nothing() {
    let (_fx, mut reg) = registry();
    add_model(&mut reg, "credit-risk");
    reg.add_nhi(&AddNhi {
        name: "svc-a".into(),
        kind: "api-key".into(),
        system: "Stripe".into(),
        owner: ADMIN.into(),
        rotation_days: 30,
        last_rotated: None,
        expires: None,
        environment: None,
        scopes: vec![],
        ..Default::default()
    })
    .unwrap();
    let events = event_count(&reg);
    let model = |f: &dyn Fn(&mut AddModel)| {
        let mut m = AddModel {
            name: "fraud".into(),
            version: "2".into(),
            owner: ADMIN.into(),
            intended_use: "u".into(),
            business_function: "f".into(),
            risk_tier: "medium".into(),
            deployment_mode: None,
            regulated: false,
        };
        f(&mut m);
        m
    };
    let nhi = |f: &dyn Fn(&mut AddNhi)| {
        let mut n = AddNhi {
            name: "svc-b".into(),
            kind: "token".into(),
            system: "GitHub".into(),
            owner: ADMIN.into(),
            rotation_days: 30,
            last_rotated: None,
            expires: None,
            environment: None,
            scopes: vec![],
            ..Default::default()
        };
        f(&mut n);
        n
    };
    let cases: Vec<(&str, CoreError)> = vec![
        (
            "owner",
            reg.add_model(&model(&|m| m.owner = "ghost@acme.test".into()))
                .unwrap_err(),
        ),
        (
            "owner",
            reg.add_model(&model(&|m| m.owner = BOB.into()))
                .unwrap_err(),
        ), // lacks the owner role
        (
            "tier",
            reg.add_model(&model(&|m| m.risk_tier = "extreme".into()))
                .unwrap_err(),
        ),
        (
            "mode",
            reg.add_model(&model(&|m| m.deployment_mode = Some("beta".into())))
                .unwrap_err(),
        ),
        (
            "version",
            reg.add_model(&model(&|m| {
                m.name = "credit-risk".into();
                m.version = "1.0".into();
            }))
            .unwrap_err(),
        ),
        (
            "name",
            reg.add_model(&model(&|m| m.name = " ".into())).unwrap_err(),
        ),
        (
            "rotation_days",
            reg.add_nhi(&nhi(&|n| n.rotation_days = -5)).unwrap_err(),
        ),
        (
            "last_rotated",
            reg.add_nhi(&nhi(&|n| n.last_rotated = Some("2026-13-01".into())))
                .unwrap_err(),
        ),
        (
            "expires",
            reg.add_nhi(&nhi(&|n| n.expires = Some("next week".into())))
                .unwrap_err(),
        ),
        (
            "kind",
            reg.add_nhi(&nhi(&|n| n.kind = "password".into()))
                .unwrap_err(),
        ),
        (
            "owner",
            reg.add_nhi(&nhi(&|n| n.owner = "ghost@acme.test".into()))
                .unwrap_err(),
        ),
        (
            "name",
            reg.add_nhi(&nhi(&|n| n.name = "svc-a".into())).unwrap_err(),
        ),
        (
            "scope",
            reg.add_nhi(&nhi(&|n| {
                n.scopes = vec!["ghp_abcdefghijklmnopqrstuvwxyz0123456789".into()]
            }))
            .unwrap_err(),
        ),
        (
            "direction",
            reg.set_threshold(
                "credit-risk",
                &SetThreshold {
                    metric: "psi".into(),
                    breach: 0.2,
                    warn: None,
                    direction: Some("sideways".into()),
                },
            )
            .unwrap_err(),
        ),
        (
            "warn",
            reg.set_threshold(
                "credit-risk",
                &SetThreshold {
                    metric: "psi".into(),
                    breach: 0.2,
                    warn: Some(0.3),
                    direction: None,
                },
            )
            .unwrap_err(),
        ),
        (
            "breach",
            reg.set_threshold(
                "credit-risk",
                &SetThreshold {
                    metric: "psi".into(),
                    breach: f64::NAN,
                    warn: None,
                    direction: None,
                },
            )
            .unwrap_err(),
        ),
        (
            "metric",
            reg.set_threshold(
                "credit-risk",
                &SetThreshold {
                    metric: "p s i".into(),
                    breach: 0.2,
                    warn: None,
                    direction: None,
                },
            )
            .unwrap_err(),
        ),
        (
            "validator",
            reg.set_decision_rights(
                "credit-risk",
                &SetDecisionRights {
                    validator: Some(ADMIN.into()),
                    ..Default::default()
                },
            )
            .unwrap_err(),
        ),
        (
            "email",
            reg.add_member(
                &AddMember {
                    email: "not-an-email".into(),
                    name: "X".into(),
                    roles: vec!["owner".into()],
                },
                "a long passphrase",
            )
            .unwrap_err(),
        ),
        (
            "role",
            reg.add_member(
                &AddMember {
                    email: "x@acme.test".into(),
                    name: "X".into(),
                    roles: vec!["superuser".into()],
                },
                "a long passphrase",
            )
            .unwrap_err(),
        ),
        (
            "passphrase",
            reg.add_member(
                &AddMember {
                    email: "x@acme.test".into(),
                    name: "X".into(),
                    roles: vec!["owner".into()],
                },
                "short",
            )
            .unwrap_err(),
        ),
    ];
    for (field, err) in &cases {
        assert_eq!(err.code(), "invalid_input", "{field}: {err}");
        assert_eq!(err.field(), Some(*field), "{err}");
        assert!(
            err.to_string().starts_with(field),
            "message names the field: {err}"
        );
    }
    assert_eq!(event_count(&reg), events, "nothing was recorded");
    assert_eq!(reg.list_models().unwrap().len(), 1);
    assert_eq!(reg.list_nhis().unwrap().len(), 1);
    assert_eq!(reg.list_members().unwrap().len(), 2);
    assert!(reg.list_thresholds("credit-risk").unwrap().is_empty());
}

#[test]
fn editing_any_audit_row_makes_verify_name_that_sequence() {
    let (fx, mut reg) = registry();
    add_model(&mut reg, "credit-risk");
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
    let report = reg.verify_log().unwrap();
    assert!(report.ok && report.events == 5, "{report:?}");
    drop(reg);

    for (seq, column, value) in [
        (4, "payload", "{\"name\":\"credit-risk\",\"tampered\":true}"),
        (2, "actor", "mallory@acme.test"),
        (5, "at", "2020-01-01T00:00:00Z"),
        (3, "operation", "member.remove"),
    ] {
        let conn = raw_db(&fx.dir, ADMIN, ADMIN_PASS);
        let original: String = conn
            .query_row(
                &format!("SELECT {column} FROM audit_events WHERE seq = ?1"),
                [seq],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute(
            &format!("UPDATE audit_events SET {column} = ?1 WHERE seq = ?2"),
            rusqlite::params![value, seq],
        )
        .unwrap();
        drop(conn);
        let reg = Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap();
        let r = reg.verify_log().unwrap();
        assert!(!r.ok, "{column} edit detected");
        assert_eq!(r.first_bad_seq, Some(seq), "{column}: {r:?}");
        drop(reg);
        let conn = raw_db(&fx.dir, ADMIN, ADMIN_PASS);
        conn.execute(
            &format!("UPDATE audit_events SET {column} = ?1 WHERE seq = ?2"),
            rusqlite::params![original, seq],
        )
        .unwrap();
    }
    // Deleting an event breaks the chain at the gap.
    let conn = raw_db(&fx.dir, ADMIN, ADMIN_PASS);
    conn.execute("DELETE FROM audit_events WHERE seq = 3", [])
        .unwrap();
    drop(conn);
    let reg = Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    assert_eq!(reg.verify_log().unwrap().first_bad_seq, Some(3));
}

#[test]
fn every_operation_writes_exactly_its_audit_event() {
    let (_fx, mut reg) = registry();
    let n0 = event_count(&reg);
    add_model(&mut reg, "credit-risk");
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
    let v2 = reg
        .set_threshold(
            "credit-risk",
            &SetThreshold {
                metric: "psi".into(),
                breach: 0.3,
                warn: None,
                direction: None,
            },
        )
        .unwrap();
    reg.add_nhi(&AddNhi {
        name: "svc-scoring".into(),
        kind: "service-account".into(),
        system: "GCP".into(),
        owner: BOB.into(),
        rotation_days: 90,
        last_rotated: Some("2026-10-01".into()),
        expires: Some("2027-10-01".into()),
        environment: Some("prod".into()),
        scopes: vec!["read:features".into()],
        ..Default::default()
    })
    .unwrap();
    reg.link_nhi(
        "svc-scoring",
        "credit-risk",
        "reads features at scoring time",
    )
    .unwrap();
    reg.update_model(
        "credit-risk",
        &UpdateModel {
            risk_tier: Some("medium".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let ops: Vec<String> = reg
        .audit_log(None)
        .unwrap()
        .into_iter()
        .skip(n0)
        .map(|e| e.operation)
        .collect();
    assert_eq!(
        ops,
        [
            "model.register",
            "model.rights",
            "threshold.propose",
            "threshold.propose",
            "nhi.add",
            "nhi.link",
            "model.update"
        ]
    );

    let d = reg.show_model("credit-risk").unwrap();
    assert_eq!(d.decision_rights.validator.as_deref(), Some(BOB));
    assert_eq!(
        d.decision_rights.alert_recipients,
        vec![ADMIN.to_string(), BOB.to_string()]
    );
    assert_eq!(d.model.risk_tier, RiskTier::Medium);
    assert_eq!(d.thresholds.len(), 2);
    assert_eq!(d.thresholds[0].status, ThresholdStatus::Withdrawn);
    assert_eq!(
        (d.thresholds[1].version, d.thresholds[1].status),
        (2, ThresholdStatus::Proposed)
    );
    assert_eq!(v2.version, 2);
    assert_eq!(d.nhis[0].nhi, "svc-scoring");
    assert_eq!(
        reg.show_nhi("svc-scoring").unwrap().nhi.linked_models,
        vec!["credit-risk".to_string()]
    );
    assert!(reg.verify_log().unwrap().ok);
}

#[test]
fn model_names_resolve_with_and_without_version() {
    let (_fx, mut reg) = registry();
    add_model(&mut reg, "credit-risk");
    assert_eq!(
        reg.model("credit-risk").unwrap().display_name,
        "credit-risk"
    );
    reg.add_model(&AddModel {
        name: "credit-risk".into(),
        version: "2.0".into(),
        owner: ADMIN.into(),
        intended_use: "u".into(),
        business_function: "f".into(),
        risk_tier: "high".into(),
        deployment_mode: Some("canary".into()),
        regulated: false,
    })
    .unwrap();
    let err = reg.model("credit-risk").unwrap_err();
    assert!(err.to_string().contains("NAME@VERSION"), "{err}");
    assert_eq!(
        reg.model("credit-risk@2.0").unwrap().display_name,
        "credit-risk@2.0"
    );
    assert_eq!(reg.model("nope").unwrap_err().code(), "not_found");
}

#[test]
fn a_registry_from_a_newer_version_is_refused_clearly() {
    let (fx, reg) = registry();
    drop(reg);
    let conn = raw_db(&fx.dir, ADMIN, ADMIN_PASS);
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let err = Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap_err();
    assert_eq!(err.code(), "registry_newer");
    assert!(err.to_string().contains("newer Driftwarden"), "{err}");
}

#[test]
fn creating_over_an_existing_registry_or_a_non_empty_folder_is_refused() {
    let (fx, reg) = registry();
    drop(reg);
    let input = CreateRegistry {
        org: "X".into(),
        email: ADMIN.into(),
        name: "A".into(),
        roles: vec![],
    };
    assert_eq!(
        Registry::create(&fx.dir, &input, ADMIN_PASS, clock())
            .unwrap_err()
            .code(),
        "already_exists"
    );
    let other = fx.dir.parent().unwrap().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "x").unwrap();
    assert_eq!(
        Registry::create(&other, &input, ADMIN_PASS, clock())
            .unwrap_err()
            .field(),
        Some("folder")
    );
    assert_eq!(
        Registry::open(Path::new(&other), ADMIN, ADMIN_PASS, clock())
            .unwrap_err()
            .code(),
        "not_a_registry"
    );
}

/// The v1 schema, frozen: a registry written by the first release must keep opening.
/// Regenerate only when adding a new frozen version: `DRIFTWARDEN_WRITE_FIXTURE=1 cargo test -p
/// driftwarden-core frozen_v1 -- --ignored`.
const FIXTURE_V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/registry-v1");

#[test]
#[ignore = "writes the frozen fixture"]
fn write_frozen_v1_fixture() {
    if std::env::var("DRIFTWARDEN_WRITE_FIXTURE").is_err() {
        return;
    }
    let dir = Path::new(FIXTURE_V1);
    let _ = std::fs::remove_dir_all(dir);
    let mut reg = Registry::create(
        dir,
        &CreateRegistry {
            org: "Frozen Fixture Ltd".into(),
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
    add_model(&mut reg, "credit-risk");
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
    reg.add_nhi(&AddNhi {
        name: "svc-scoring".into(),
        kind: "service-account".into(),
        system: "GCP".into(),
        owner: ADMIN.into(),
        rotation_days: 90,
        last_rotated: Some("2026-10-01".into()),
        expires: None,
        environment: Some("prod".into()),
        scopes: vec![],
        ..Default::default()
    })
    .unwrap();
    reg.link_nhi("svc-scoring", "credit-risk", "reads features")
        .unwrap();
}

#[test]
fn frozen_v1_registry_opens_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("registry-v1");
    // Work on a copy: opening migrates the schema forward.
    for (src, _) in snapshot(Path::new(FIXTURE_V1)) {
        let rel = src.strip_prefix(FIXTURE_V1).unwrap();
        let dst = dir.join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&src, &dst).unwrap();
    }
    let reg = Registry::open(&dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    assert_eq!(reg.session().unwrap().org, "Frozen Fixture Ltd");
    let m = reg.show_model("credit-risk").unwrap();
    assert_eq!(m.thresholds[0].breach, 0.25);
    assert_eq!(m.nhis[0].nhi, "svc-scoring");
    let r = reg.verify_log().unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!(r.events, 7);
    drop(reg);
    Registry::open(&dir, BOB, BOB_PASS, clock()).unwrap();
}

#[test]
fn a_registry_that_went_backwards_is_noticed() {
    let (fx, mut reg) = registry();
    let state = fx.dir.parent().unwrap().join("state");
    assert_eq!(reg.check_head(&state).unwrap().status, "first");
    add_model(&mut reg, "credit-risk");
    drop(reg);
    let old = fx.dir.parent().unwrap().join("old-copy");
    for (src, _) in snapshot(&fx.dir) {
        let dst = old.join(src.strip_prefix(&fx.dir).unwrap());
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&src, &dst).unwrap();
    }
    let mut reg = Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    add_model(&mut reg, "fraud");
    let ok = reg.check_head(&state).unwrap();
    assert_eq!((ok.status.as_str(), ok.known_seq), ("ok", Some(3)));
    drop(reg);
    // Swap the older copy back in.
    std::fs::remove_dir_all(&fx.dir).unwrap();
    std::fs::rename(&old, &fx.dir).unwrap();
    let reg = Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock()).unwrap();
    let back = reg.check_head(&state).unwrap();
    assert_eq!(back.status, "rolled-back", "{back:?}");
    assert!(back.message.contains("went backwards"));
    // Another member's memory is their own.
    let bob = Registry::open(&fx.dir, BOB, BOB_PASS, clock()).unwrap();
    assert_eq!(bob.check_head(&state).unwrap().status, "first");
}
