//! NHI governance: findings with an injected clock, lifecycle operations, offboarding, posture,
//! blast radius, inventory import and export.

use driftwarden_core::*;

use crate::common::*;

fn nhi(reg: &mut Registry, name: &str, f: impl FnOnce(&mut AddNhi)) -> NhiView {
    let mut n = AddNhi {
        name: name.into(),
        kind: "service-account".into(),
        system: "GCP".into(),
        owner: ADMIN.into(),
        rotation_days: 90,
        last_rotated: Some("2026-10-01".into()),
        expires: Some("2027-06-01".into()),
        environment: Some("production".into()),
        scopes: vec!["read:features".into()],
        ..Default::default()
    };
    f(&mut n);
    reg.add_nhi(&n).unwrap()
}

fn codes(v: &NhiView) -> Vec<(&str, &str)> {
    v.findings
        .iter()
        .filter(|f| f.accepted.is_none())
        .map(|f| (f.code.as_str(), f.owasp.as_str()))
        .collect()
}

#[test]
fn each_finding_with_an_injected_clock() {
    let (t, mut ana) = Team::new(); // today: 2026-11-02
    assert!(codes(&nhi(&mut ana, "clean", |_| {})).is_empty());
    // Rotation due 2026-12-30 (2026-10-01 + 90 days): not overdue now, overdue once the clock passes it.
    let v = nhi(&mut ana, "rotating", |n| {
        n.last_rotated = Some("2026-10-01".into())
    });
    assert_eq!(v.rotation_due, "2026-12-30");
    assert_eq!(
        codes(&nhi(&mut ana, "old", |n| n.last_rotated =
            Some("2026-01-01".into()))),
        [("rotation-overdue", "NHI7")]
    );
    assert_eq!(
        codes(&nhi(&mut ana, "expired", |n| n.expires =
            Some("2026-11-01".into()))),
        [("expired", "NHI7")]
    );
    assert_eq!(
        codes(&nhi(&mut ana, "expiring", |n| n.expires =
            Some("2026-11-20".into()))),
        [("expiring", "NHI7")]
    );
    assert_eq!(
        codes(&nhi(&mut ana, "forever", |n| n.expires = None)),
        [("no-expiry", "NHI7")]
    );
    assert_eq!(
        codes(&nhi(&mut ana, "both-envs", |n| n.environment =
            Some("staging, production".into()))),
        [("multi-environment", "NHI8")]
    );
    assert_eq!(
        codes(&nhi(&mut ana, "laptop", |n| n.human_use = true)),
        [("human-use", "NHI10")]
    );
    assert_eq!(
        codes(&nhi(&mut ana, "godmode", |n| n.scopes =
            vec!["roles/owner".into()])),
        [("overprivileged", "NHI5")]
    );
    assert_eq!(
        codes(&nhi(&mut ana, "wild", |n| n.scopes = vec!["storage:*".into()])),
        [("overprivileged", "NHI5")]
    );
    // Shared by two models.
    governed_model(&mut ana, false);
    ana.add_model(&AddModel {
        name: "fraud".into(),
        version: "1".into(),
        owner: ADMIN.into(),
        intended_use: "u".into(),
        business_function: "f".into(),
        risk_tier: "low".into(),
        deployment_mode: None,
        regulated: false,
    })
    .unwrap();
    ana.link_nhi("clean", "credit-risk", "scoring").unwrap();
    ana.link_nhi("clean", "fraud", "scoring").unwrap();
    let clean = ana.show_nhi("clean").unwrap();
    assert_eq!(codes(&clean.nhi), [("shared", "NHI9")]);
    assert_eq!(
        clean
            .links
            .iter()
            .map(|l| (l.model.as_str(), l.model_approval_status))
            .collect::<Vec<_>>(),
        [
            ("credit-risk", Some(ApprovalStatus::Pending)),
            ("fraud", Some(ApprovalStatus::Pending))
        ]
    );
    // Orphaned: the owner is offboarded (after their NHI is accepted as orphaned risk).
    nhi(&mut ana, "bobs", |n| n.owner = BOB.into());
    ana.accept_nhi_finding("bobs", "no-expiry", "2027-01-01", "n/a")
        .unwrap_err(); // not a current finding
                       // Moving the clock: rotation comes due, and the expiring one expires.
    t.clock.set(2027, 1, 5);
    let reg = t.open(ADMIN);
    let rot = reg.show_nhi("rotating").unwrap().nhi;
    assert_eq!(codes(&rot), [("rotation-overdue", "NHI7")]);
    assert!(
        rot.findings[0].detail.contains("6 days overdue"),
        "{:?}",
        rot.findings
    );
    assert_eq!(
        codes(&reg.show_nhi("expiring").unwrap().nhi),
        [("rotation-overdue", "NHI7"), ("expired", "NHI7")]
    );
    // Dependent identity findings show on the model.
    let m = reg.show_model("credit-risk").unwrap();
    assert!(m
        .nhi_findings
        .iter()
        .any(|f| f.nhi == "clean" && f.code == "shared"));
}

#[test]
fn lifecycle_rotate_reown_revoke_accept_with_audit_events() {
    let (t, mut ana) = Team::new();
    nhi(&mut ana, "svc", |n| {
        n.last_rotated = Some("2026-01-01".into())
    });
    let n0 = event_count(&ana);
    // Only the owner or an admin.
    let mut bob = t.open(BOB);
    assert_eq!(
        bob.rotate_nhi("svc", "2026-11-01").unwrap_err().code(),
        "forbidden"
    );
    assert_eq!(
        ana.rotate_nhi("svc", "2026-12-01").unwrap_err().field(),
        Some("date"),
        "future"
    );
    assert_eq!(
        ana.rotate_nhi("svc", "2025-12-01").unwrap_err().field(),
        Some("date"),
        "before the last rotation"
    );
    let v = ana.rotate_nhi("svc", "2026-11-01").unwrap();
    assert!(codes(&v).is_empty(), "the overdue finding disappears");
    assert_eq!(v.rotation_due, "2027-01-30");
    let v = ana.set_nhi_owner("svc", BOB).unwrap();
    assert_eq!(v.owner, BOB);
    // Now Bob owns it and may act on it.
    let v = bob
        .accept_nhi_finding(
            "svc",
            "no-expiry",
            "2027-01-01",
            "vendor issues no expiring keys",
        )
        .unwrap_err();
    assert_eq!(
        v.field(),
        Some("finding"),
        "it has an expiry, so no such finding"
    );
    bob.update_nhi(
        "svc",
        &UpdateNhi {
            human_use: Some(true),
            identifier: Some("svc@acme.iam.gserviceaccount.com".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let v = bob
        .accept_nhi_finding(
            "svc",
            "human-use",
            "2027-01-20",
            "break-glass during migration",
        )
        .unwrap();
    assert!(codes(&v).is_empty());
    assert_eq!(v.findings[0].accepted.as_ref().unwrap().until, "2027-01-20");
    assert_eq!(
        v.identifier.as_deref(),
        Some("svc@acme.iam.gserviceaccount.com")
    );
    // The acceptance lapses at its date.
    t.clock.set(2027, 1, 20);
    let mut bob = t.open(BOB);
    assert_eq!(
        codes(&bob.show_nhi("svc").unwrap().nhi),
        [("human-use", "NHI10")]
    );
    let v = bob
        .revoke_nhi("svc", "replaced by workload identity")
        .unwrap();
    assert_eq!(v.status, NhiStatus::Revoked);
    assert!(v.findings.is_empty());
    assert_eq!(
        bob.rotate_nhi("svc", "2027-01-19").unwrap_err().code(),
        "conflict"
    );
    let ops: Vec<String> = bob
        .audit_log(None)
        .unwrap()
        .into_iter()
        .skip(n0)
        .map(|e| e.operation)
        .collect();
    assert_eq!(
        ops,
        [
            "nhi.rotate",
            "nhi.owner",
            "nhi.update",
            "nhi.accept",
            "nhi.revoke"
        ]
    );
    assert!(bob.verify_log().unwrap().ok);
    // Secrets are refused in every field, identifiers are not.
    let err = ana
        .add_nhi(&AddNhi {
            name: "x".into(),
            kind: "token".into(),
            system: "s".into(),
            owner: ADMIN.into(),
            rotation_days: 1,
            scopes: vec!["sk_live_4eC39HqLyjWDarjtT1zdp7dc".into()],
            ..Default::default()
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("Stripe") && !err.to_string().contains("4eC39"),
        "{err}"
    );
    ana.add_nhi(&AddNhi {
        name: "aws-ci".into(),
        kind: "api-key".into(),
        system: "AWS".into(),
        owner: ADMIN.into(),
        rotation_days: 90,
        identifier: Some("AKIAIOSFODNN7EXAMPLE".into()),
        ..Default::default()
    })
    .unwrap();
}

#[test]
fn offboarding_is_blocked_until_ownership_is_resolved() {
    let (t, mut ana) = Team::new();
    ana.set_member_roles(
        BOB,
        &["validator".into(), "approver".into(), "owner".into()],
    )
    .unwrap();
    ana.add_model(&AddModel {
        name: "bobs-model".into(),
        version: "1".into(),
        owner: BOB.into(),
        intended_use: "u".into(),
        business_function: "f".into(),
        risk_tier: "low".into(),
        deployment_mode: None,
        regulated: false,
    })
    .unwrap();
    nhi(&mut ana, "bobs-key", |n| n.owner = BOB.into());
    let events = event_count(&ana);
    let err = ana.offboard_member(BOB, "left").unwrap_err();
    assert_eq!(err.code(), "conflict");
    assert!(
        err.to_string().contains("bobs-model@1") && err.to_string().contains("bobs-key"),
        "{err}"
    );
    assert_eq!(event_count(&ana), events, "nothing changed");
    t.open(BOB); // Bob still opens the registry
    ana.update_model(
        "bobs-model",
        &UpdateModel {
            owner: Some(ADMIN.into()),
            ..Default::default()
        },
    )
    .unwrap();
    ana.set_nhi_owner("bobs-key", ADMIN).unwrap();
    ana.offboard_member(BOB, "left").unwrap();
}

#[test]
fn posture_counts_and_trend() {
    let (t, mut ana) = Team::new();
    governed_model(&mut ana, false);
    nhi(&mut ana, "fresh", |_| {});
    nhi(&mut ana, "stale", |n| {
        n.last_rotated = Some("2026-01-01".into())
    });
    ana.link_nhi("stale", "credit-risk", "reads").unwrap();
    let p = ana.nhi_posture().unwrap();
    assert_eq!((p.active_nhis, p.rotation_compliance_pct), (2, Some(50.0)));
    assert_eq!(
        p.open_findings
            .iter()
            .map(|f| (f.code.as_str(), f.count))
            .collect::<Vec<_>>(),
        [("rotation-overdue", 1)]
    );
    assert_eq!(p.per_model[0].rotation_compliance_pct, Some(0.0));
    assert_eq!(p.trend.len(), 12);
    ana.rotate_nhi("stale", "2026-11-02").unwrap();
    t.clock.set(2026, 11, 20);
    let p = t.open(ADMIN).nhi_posture().unwrap();
    assert_eq!(p.rotation_compliance_pct, Some(100.0));
    assert_eq!(p.trend.last().unwrap().rotation_compliance_pct, Some(100.0));
}

#[test]
fn inventory_import_is_all_or_nothing_and_exports_round_trip() {
    let (t, mut ana) = Team::new();
    let dir = t.fx.dir.parent().unwrap();
    let mut text = String::from("name,kind,system,owner,rotation_days,last_rotated,expires,environment,scopes,identifier,human_use\n");
    for i in 0..10_000 {
        text.push_str(&format!("svc-{i},service-account,GCP,{ADMIN},90,2026-10-01,2027-06-01,production,read:a;read:b,svc-{i}@acme.iam.gserviceaccount.com,false\n"));
    }
    let bad = text.replacen("svc-4999,service-account,GCP", "svc-4999,password,GCP", 1);
    std::fs::write(dir.join("bad.csv"), &bad).unwrap();
    let events = event_count(&ana);
    let err = ana.import_nhis(&dir.join("bad.csv")).unwrap_err();
    assert_eq!(err.field(), Some("kind"));
    assert!(err.to_string().contains("line 5001"), "{err}");
    assert!(ana.list_nhis().unwrap().is_empty());
    assert_eq!(event_count(&ana), events);

    std::fs::write(dir.join("good.csv"), &text).unwrap();
    assert_eq!(ana.import_nhis(&dir.join("good.csv")).unwrap(), 10_000);
    let mut out = Vec::new();
    ana.export_nhis(&mut out).unwrap();
    let exported = String::from_utf8(out).unwrap();
    let mut lines: Vec<&str> = exported.lines().collect();
    let mut want: Vec<&str> = text.lines().collect();
    lines.sort();
    want.sort();
    assert_eq!(lines, want, "the export is the import format");
    assert!(ana.verify_log().unwrap().ok);
}
