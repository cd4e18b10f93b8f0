//! What needs me, the sample registry, and changing a passphrase.

use std::sync::Arc;

use driftwarden_core::*;

use crate::common::*;

#[test]
fn inbox_lists_each_members_decisions_overdue_first() {
    let (t, mut ana) = Team::new();
    governed_model(&mut ana, true);
    let bob = t.open(BOB);
    let items = bob.inbox().unwrap().items;
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0].kind.as_str(), items[0].title.as_str()),
        ("approve", "Approve the release of credit-risk")
    );
    drop(bob);
    let mut bob = t.open(BOB);
    bob.approve_model(
        "credit-risk",
        &ApproveModel {
            until: "2027-03-01".into(),
            note: None,
        },
    )
    .unwrap();
    let id = t
        .ingest(&mut ana, &[("psi", 0.5, "2026-11-02T00:00:00Z")])
        .opened[0];
    let items = bob.inbox().unwrap().items;
    assert_eq!(
        items
            .iter()
            .map(|i| (i.kind.as_str(), i.exception_id))
            .collect::<Vec<_>>(),
        [("validate", Some(id))]
    );
    assert_eq!(
        (
            items[0].due.as_deref(),
            items[0].days_left,
            items[0].overdue
        ),
        (Some("2026-11-04"), Some(2), false)
    );
    // Due within a day: nothing yet; within two: the validation (what a notification announces).
    let inbox = bob.inbox().unwrap();
    assert!(inbox.due_within(1).is_empty());
    assert_eq!(inbox.due_within(2).len(), 1);
    let key = inbox.due_within(2)[0].key();
    assert_eq!(
        key,
        format!("validate:{}:{id}:2026-11-04", items[0].model_id)
    );
    assert!(
        ana.inbox().unwrap().items.is_empty(),
        "nothing for the owner until it is confirmed"
    );

    t.clock.set(2026, 11, 6);
    let bob = t.open(BOB);
    let items = bob.inbox().unwrap().items;
    assert!(
        items[0].overdue && items[0].days_left == Some(-2),
        "{items:?}"
    );
    let inbox = bob.inbox().unwrap();
    assert_eq!(inbox.due_within(0).len(), 1, "overdue is always due");
    assert_eq!(
        inbox.due_within(0)[0].key(),
        key,
        "the same decision keeps its key"
    );
    let mut bob = bob;
    bob.validate_exception(id, true, "real").unwrap();
    let ana = t.open(ADMIN);
    let mine = ana.inbox().unwrap();
    assert_eq!(mine.items[0].kind, "decide");
    assert_eq!(mine.items[0].exception_id, Some(id));
    assert!(mine
        .exceptions_by_state
        .iter()
        .any(|c| c.state == "escalated" && c.count == 1));
}

#[test]
fn the_sample_registry_shows_every_state() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sample");
    let reg = sample::create_sample(&dir, "sample passphrase", clock()).unwrap();
    let models = reg.list_models().unwrap();
    let status = |n: &str| models.iter().find(|m| m.name == n).unwrap().approval_status;
    assert_eq!(status("credit-risk"), ApprovalStatus::Approved);
    assert_eq!(status("churn-predictor"), ApprovalStatus::Lapsed);
    assert_eq!(status("pricing-optimizer"), ApprovalStatus::Pending);
    let ex = reg.list_exceptions(None, None).unwrap();
    assert!(
        ex.iter()
            .any(|e| e.state == ExceptionState::Escalated && e.model == "credit-risk"),
        "{ex:#?}"
    );
    assert!(ex.iter().any(|e| e.kind == ExceptionKind::LapsedApproval));
    assert!(ex
        .iter()
        .any(|e| e.model == "fraud-score" && e.state == ExceptionState::Decided));
    assert!(reg.list_nhis().unwrap().len() >= 4);
    assert!(reg.verify_log().unwrap().ok);
    assert!(
        !reg.inbox().unwrap().items.is_empty(),
        "Ana has decisions waiting"
    );
    for (email, _, _) in sample::SAMPLE_MEMBERS {
        Registry::open(&dir, email, "sample passphrase", clock()).unwrap();
    }
    let bob = Registry::open(
        &dir,
        sample::SAMPLE_MEMBERS[1].0,
        "sample passphrase",
        clock(),
    )
    .unwrap();
    let kinds: Vec<String> = bob
        .inbox()
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.kind)
        .collect();
    assert!(
        kinds.contains(&"cosign".to_string()) && kinds.contains(&"renew".to_string()),
        "{kinds:?}"
    );
}

#[test]
fn changing_a_passphrase_keeps_keys_and_signatures() {
    let (fx, mut reg) = registry();
    let before = reg.member(ADMIN).unwrap().signing_public_key;
    let err = reg
        .change_passphrase("not it at all", "a brand new passphrase")
        .unwrap_err();
    assert_eq!(err.field(), Some("old_passphrase"));
    assert_eq!(
        reg.change_passphrase(ADMIN_PASS, "short")
            .unwrap_err()
            .field(),
        Some("new_passphrase")
    );
    reg.change_passphrase(ADMIN_PASS, "a brand new passphrase")
        .unwrap();
    drop(reg);
    assert_eq!(
        Registry::open(&fx.dir, ADMIN, ADMIN_PASS, clock())
            .unwrap_err()
            .code(),
        "wrong_passphrase"
    );
    let reg = Registry::open(
        &fx.dir,
        ADMIN,
        "a brand new passphrase",
        Arc::new(SystemClock),
    )
    .unwrap();
    assert_eq!(reg.member(ADMIN).unwrap().signing_public_key, before);
    assert_eq!(
        reg.audit_log(Some(1)).unwrap()[0].operation,
        "member.passphrase"
    );
}

#[test]
fn pack_data_scopes_by_model_and_links_the_log_extract_with_gaps() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sample");
    let reg = sample::create_sample(&dir, "sample passphrase", clock()).unwrap();
    let all = reg.pack_data(&PackScope::default()).unwrap();
    assert!(
        all.audit.iter().all(|e| matches!(e, AuditEntry::Event(_))),
        "the whole registry has no gaps"
    );
    assert!(all.audit_chain.verified);
    assert_eq!(all.models.len(), 4);
    assert!(all.signoffs.iter().all(|s| s.valid) && !all.signoffs.is_empty());

    let one = reg
        .pack_data(&PackScope {
            model: Some("fraud-score".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(one.models.len(), 1);
    assert!(one.exceptions.iter().all(|e| e.model == "fraud-score"));
    assert!(one
        .nhis
        .iter()
        .all(|n| n.linked_models.contains(&"fraud-score".to_string())));
    // The extract links: each entry's prev_hash is the previous entry's hash.
    let mut prev = audit::GENESIS_HASH.to_string();
    let mut gaps = 0;
    for e in &one.audit {
        let (p, h) = match e {
            AuditEntry::Event(ev) => (ev.prev_hash.clone(), ev.hash.clone()),
            AuditEntry::Gap {
                prev_hash, hash, ..
            } => {
                gaps += 1;
                (prev_hash.clone(), hash.clone())
            }
        };
        assert_eq!(p, prev);
        prev = h;
    }
    assert!(gaps > 0);
    assert_eq!(prev, one.audit_chain.head);

    // Only compliance or admin export.
    let bob = Registry::open(
        &dir,
        sample::SAMPLE_MEMBERS[1].0,
        "sample passphrase",
        clock(),
    )
    .unwrap();
    assert_eq!(
        bob.pack_data(&PackScope::default()).unwrap_err().code(),
        "forbidden"
    );
    let dana = Registry::open(
        &dir,
        sample::SAMPLE_MEMBERS[3].0,
        "sample passphrase",
        clock(),
    )
    .unwrap();
    let p = dana
        .pack_data(&PackScope {
            from: Some("2026-10-01".into()),
            to: Some("2026-10-31".into()),
            model: None,
        })
        .unwrap();
    assert!(p
        .measurements
        .iter()
        .all(|m| m.observed_at.starts_with("2026-10")));
}

#[test]
fn approvers_home_lists_changed_thresholds_and_renewals_inside_the_window_only() {
    let (t, mut ana) = Team::new();
    governed_model(&mut ana, true);
    let mut bob = t.open(BOB);
    bob.approve_model(
        "credit-risk",
        &ApproveModel {
            until: "2027-03-01".into(),
            note: None,
        },
    )
    .unwrap();
    let kinds = |r: &Registry| -> Vec<(String, String)> {
        r.inbox()
            .unwrap()
            .items
            .into_iter()
            .map(|i| (i.kind, i.title))
            .collect()
    };
    assert!(kinds(&bob).is_empty(), "approved for 119 more days");

    // 31 days before expiry: still nothing; 30 days before: renew (the window is inclusive).
    t.clock.set(2027, 1, 29);
    assert!(kinds(&t.open(BOB)).is_empty());
    t.clock.set(2027, 1, 30);
    assert_eq!(
        kinds(&t.open(BOB)),
        [(
            "renew".to_string(),
            "Renew the approval of credit-risk before it expires".to_string()
        )]
    );

    // Back well inside the approval: a proposed threshold change needs the approver.
    t.clock.set(2026, 11, 3);
    let mut ana = t.open(ADMIN);
    ana.set_threshold(
        "credit-risk",
        &SetThreshold {
            metric: "psi".into(),
            breach: 0.3,
            warn: Some(0.1),
            direction: None,
        },
    )
    .unwrap();
    assert_eq!(
        kinds(&t.open(BOB)),
        [(
            "approve".to_string(),
            "Approve 1 changed threshold(s) of credit-risk".to_string()
        )]
    );
    assert!(kinds(&ana).is_empty(), "the owner is not the approver");
}

#[test]
fn a_limited_inbox_lists_the_first_decisions_and_counts_them_all() {
    let tmp = tempfile::tempdir().unwrap();
    let reg =
        sample::create_sample(&tmp.path().join("sample"), "sample passphrase", clock()).unwrap();
    let all = reg.inbox().unwrap();
    assert!(!all.items.is_empty());
    assert!(!all.lapsed_approvals.is_empty());
    assert_eq!(all.items_total, all.items.len() as i64);
    assert_eq!(all.lapsed_total, all.lapsed_approvals.len() as i64);
    fn json<T: serde::Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap()
    }
    for limit in [0, 1] {
        let some = reg.inbox_with(&InboxQuery { limit: Some(limit) }).unwrap();
        assert_eq!(some.items_total, all.items_total);
        assert_eq!(some.lapsed_total, all.lapsed_total);
        let n = limit as usize;
        assert_eq!(json(&some.items), json(&all.items[..n].to_vec()));
        assert_eq!(
            json(&some.lapsed_approvals),
            json(&all.lapsed_approvals[..n].to_vec())
        );
        assert_eq!(
            json(&some.exceptions_by_state),
            json(&all.exceptions_by_state)
        );
    }
    for bad in [-1, 501] {
        let err = reg
            .inbox_with(&InboxQuery { limit: Some(bad) })
            .unwrap_err();
        assert_eq!(err.field(), Some("limit"), "{err}");
    }
}

#[test]
fn a_models_timeline_is_its_own_its_thresholds_and_its_exceptions_events_in_one_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sample");
    let reg = sample::create_sample(&dir, "sample passphrase", clock()).unwrap();
    for name in [
        "credit-risk",
        "fraud-score",
        "churn-predictor",
        "pricing-optimizer",
    ] {
        let d = reg.show_model(name).unwrap();
        // The reference: one read per record, merged by sequence (what the model page did).
        let mut reference = reg.audit_log_for("model", &d.model.id.to_string()).unwrap();
        for t in &d.thresholds {
            reference.extend(reg.audit_log_for("threshold", &t.id.to_string()).unwrap());
        }
        for e in reg.list_exceptions(None, Some(name)).unwrap() {
            reference.extend(reg.audit_log_for("exception", &e.id.to_string()).unwrap());
        }
        reference.sort_by_key(|e| e.seq);
        let seqs = |v: &[AuditEventView]| v.iter().map(|e| e.seq).collect::<Vec<_>>();
        let ModelTimeline {
            events: timeline,
            signoffs,
        } = reg.model_timeline(name).unwrap();
        assert!(!timeline.is_empty(), "{name} has a history");
        // Every sign-off an event refers to comes with it, verified; and only those.
        let referred: std::collections::BTreeSet<i64> = timeline
            .iter()
            .filter_map(|e| e.payload.get("signoff_id").and_then(|v| v.as_i64()))
            .collect();
        assert_eq!(
            signoffs
                .iter()
                .map(|s| s.id)
                .collect::<std::collections::BTreeSet<_>>(),
            referred,
            "{name}"
        );
        assert!(signoffs.iter().all(|s| s.valid), "{name}: {signoffs:?}");
        assert_eq!(seqs(&timeline), seqs(&reference), "{name}");
        assert_eq!(
            timeline.iter().map(|e| &e.payload).collect::<Vec<_>>(),
            reference.iter().map(|e| &e.payload).collect::<Vec<_>>()
        );
    }
    // credit-risk's record has all three kinds of entry.
    let credit = reg.model_timeline("credit-risk@2.3").unwrap();
    let signed: std::collections::BTreeSet<&str> =
        credit.signoffs.iter().map(|s| s.kind.as_str()).collect();
    assert!(signed.contains("approval"), "{signed:?}");
    let kinds: std::collections::BTreeSet<String> =
        credit.events.into_iter().map(|e| e.entity_type).collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["exception", "model", "threshold"]
    );
    let err = reg.model_timeline("no-such-model").unwrap_err();
    assert!(err.to_string().contains("no-such-model"), "{err}");
}
