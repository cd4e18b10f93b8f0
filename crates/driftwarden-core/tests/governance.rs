//! The governance workflow: release gate, signed approvals, measurements and evaluation, the
//! exception lifecycle, recovery and re-breach, deadlines and escalation, sign-offs.

use driftwarden_core::*;

use crate::common::*;

fn approve(t: &Team, until: &str) -> ApprovalView {
    let mut bob = t.open(BOB);
    bob.approve_model(
        "credit-risk",
        &ApproveModel {
            until: until.into(),
            note: Some("Q4 release".into()),
        },
    )
    .unwrap()
}

#[test]
fn approval_is_refused_listing_every_missing_gate_item() {
    let (t, mut ana) = Team::new();
    ana.add_model(&AddModel {
        name: "credit-risk".into(),
        version: "1.0".into(),
        owner: ADMIN.into(),
        intended_use: "u".into(),
        business_function: "f".into(),
        risk_tier: "high".into(),
        deployment_mode: None,
        regulated: false,
    })
    .unwrap();
    let events = event_count(&ana);
    let err = ana
        .approve_model(
            "credit-risk",
            &ApproveModel {
                until: "2027-01-01".into(),
                note: None,
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "gate_refused");
    let msg = err.to_string();
    for item in [
        "a drift threshold",
        "an alert recipient",
        "a validator",
        "pause/rollback authority",
        "a business approver",
    ] {
        assert!(msg.contains(item), "{item} in {msg}");
    }
    // One item at a time: each is named when it alone is missing.
    ana.set_threshold(
        "credit-risk",
        &SetThreshold {
            metric: "psi".into(),
            breach: 0.25,
            warn: None,
            direction: None,
        },
    )
    .unwrap();
    ana.set_decision_rights(
        "credit-risk",
        &SetDecisionRights {
            alert_recipients: Some(vec![ADMIN.into()]),
            validator: Some(BOB.into()),
            rollback: Some(ADMIN.into()),
            approver: None,
        },
    )
    .unwrap();
    let err = ana
        .approve_model(
            "credit-risk",
            &ApproveModel {
                until: "2027-01-01".into(),
                note: None,
            },
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot approve credit-risk: missing a business approver"
    );
    ana.set_decision_rights(
        "credit-risk",
        &SetDecisionRights {
            approver: Some(BOB.into()),
            ..Default::default()
        },
    )
    .unwrap();

    let mut bob = t.open(BOB);
    for (until, expect) in [
        ("2026-11-01", "in the future"),
        ("2026-11-02", "in the future"),
        ("2027-06-01", "at most 6 months ahead"),
        ("soon", "YYYY-MM-DD"),
    ] {
        let err = bob
            .approve_model(
                "credit-risk",
                &ApproveModel {
                    until: until.into(),
                    note: None,
                },
            )
            .unwrap_err();
        assert_eq!(err.code(), "gate_refused", "{until}");
        assert!(err.to_string().contains(expect), "{until}: {err}");
    }
    // The gate is complete, but only the named business approver may approve.
    let err = ana
        .approve_model(
            "credit-risk",
            &ApproveModel {
                until: "2027-01-01".into(),
                note: None,
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    assert!(err.to_string().contains(BOB));
    assert_eq!(
        event_count(&ana),
        events + 3,
        "only the three setup changes were recorded"
    );
    // The policy maximum is per registry.
    ana.set_policy("approval_max_months.high", 9).unwrap();
    bob.approve_model(
        "credit-risk",
        &ApproveModel {
            until: "2027-06-01".into(),
            note: None,
        },
    )
    .unwrap();
}

#[test]
fn approval_is_signed_and_approves_the_threshold_set_as_a_version() {
    let (t, mut ana) = Team::new();
    governed_model(&mut ana, false);
    let a = approve(&t, "2027-03-01");
    assert_eq!(a.status, "active");
    assert_eq!(a.signoffs.len(), 1);
    assert!(a.signoffs[0].valid, "{:?}", a.signoffs[0]);
    assert_eq!(a.signoffs[0].signer, BOB);
    assert_eq!(a.signoffs[0].statement["thresholds"][0]["breach"], 0.25);
    let d = ana.show_model("credit-risk").unwrap();
    assert_eq!(d.model.approval_status, ApprovalStatus::Approved);
    assert_eq!(d.model.approval_expires_on.as_deref(), Some("2027-03-01"));
    assert_eq!(d.thresholds[0].status, ThresholdStatus::Approved);

    // Changing the approved threshold proposes version 2; version 1 stays in force.
    ana.set_threshold(
        "credit-risk",
        &SetThreshold {
            metric: "psi".into(),
            breach: 0.5,
            warn: None,
            direction: None,
        },
    )
    .unwrap();
    let ths = ana.list_thresholds("credit-risk").unwrap();
    assert_eq!(
        ths.iter()
            .map(|t| (t.version, t.status))
            .collect::<Vec<_>>(),
        vec![
            (1, ThresholdStatus::Approved),
            (2, ThresholdStatus::Proposed)
        ]
    );
    let r = t.ingest(&mut ana, &[("psi", 0.3, "2026-11-02T08:00:00Z")]);
    assert_eq!(
        r.opened.len(),
        1,
        "0.3 breaches the approved 0.25, not the proposed 0.5"
    );
    // The new approval approves version 2 and supersedes version 1 and the old approval.
    let a2 = approve(&t, "2027-04-01");
    let ths = ana.list_thresholds("credit-risk").unwrap();
    assert_eq!(
        ths.iter().map(|t| t.status).collect::<Vec<_>>(),
        vec![ThresholdStatus::Superseded, ThresholdStatus::Approved]
    );
    let all = ana.list_approvals("credit-risk").unwrap();
    assert_eq!(
        (all[0].id, all[0].status.as_str(), all[1].status.as_str()),
        (a2.id, "active", "superseded")
    );
    assert!(ana.verify_log().unwrap().ok);
}

#[test]
fn scenario_breach_recovery_disposition_cosign_and_rebreach() {
    let (t, mut ana) = Team::new();
    governed_model(&mut ana, true);
    approve(&t, "2027-03-01");

    let r = t.ingest(
        &mut ana,
        &[
            ("psi", 0.05, "2026-11-01T00:00:00Z"),
            ("psi", 0.15, "2026-11-01T06:00:00Z"),
            ("psi", 0.31, "2026-11-01T12:00:00Z"),
            ("psi", 0.42, "2026-11-01T18:00:00Z"),
        ],
    );
    assert_eq!(
        (r.rows, r.notices, r.breaches, r.opened.len()),
        (4, 1, 2, 1)
    );
    let id = r.opened[0];
    let e = ana.show_exception(id).unwrap();
    assert_eq!(
        (e.state, e.breach_count, e.first_value, e.last_breach_value),
        (ExceptionState::Opened, 2, Some(0.31), Some(0.42))
    );
    assert_eq!(
        (e.validate_by.as_str(), e.decide_by.as_str()),
        ("2026-11-04", "2026-11-07"),
        "high tier: 2 and 5 days"
    );
    assert_eq!(e.deployment_mode, DeploymentMode::Production);
    let ms = ana.list_measurements("credit-risk", Some("psi")).unwrap();
    assert_eq!(
        ms.iter().map(|m| m.evaluation.as_str()).collect::<Vec<_>>(),
        ["ok", "warn", "breach", "breach"]
    );
    assert_eq!(ms[3].exception_id, Some(id));

    // Back under the threshold: recovered, still open.
    let r = t.ingest(&mut ana, &[("psi", 0.08, "2026-11-02T00:00:00Z")]);
    assert_eq!(r.recovered, vec![id]);
    let e = ana.show_exception(id).unwrap();
    assert_eq!(e.state, ExceptionState::Recovered);
    assert!(e.closed_at.is_none());

    let mut bob = t.open(BOB);
    bob.validate_exception(id, true, "the applicant mix shifted")
        .unwrap();
    // Regulated: the decision needs the business approver's co-sign before it closes.
    let e = ana
        .decide_exception(
            id,
            &DecideException {
                disposition: "retrain".into(),
                rationale: "Retrain on the October cohort".into(),
                follow_up: Some("2026-12-15".into()),
            },
        )
        .unwrap();
    assert_eq!(
        (e.state, e.cosign_required),
        (ExceptionState::Decided, true)
    );
    assert!(e.signoffs[0].valid);
    let e = bob.cosign_exception(id).unwrap();
    assert_eq!(e.state, ExceptionState::Closed);
    assert_eq!(
        e.signoffs
            .iter()
            .map(|s| (s.kind.as_str(), s.valid))
            .collect::<Vec<_>>(),
        [("disposition", true), ("cosign", true)]
    );

    // Breach again within 90 days: a new exception flagged re-breach and linked.
    t.clock.advance_days(30);
    let r = t.ingest(&mut ana, &[("psi", 0.35, "2026-12-02T00:00:00Z")]);
    assert_eq!(r.rebreaches, r.opened);
    let e2 = ana.show_exception(r.opened[0]).unwrap();
    assert!(e2.rebreach);
    assert_eq!(e2.linked_exceptions, vec![id]);
    assert!(ana.verify_log().unwrap().ok);

    // After the window, a breach is a fresh exception.
    bob.validate_exception(e2.id, false, "bad batch upstream, not drift")
        .unwrap();
    let mut ana2 = t.open(ADMIN);
    drop(ana);
    t.clock.advance_days(120);
    let r = t.ingest(&mut ana2, &[("psi", 0.35, "2027-04-01T00:00:00Z")]);
    let e3 = ana2.show_exception(r.opened[0]).unwrap();
    assert!(!e3.rebreach && e3.linked_exceptions.is_empty());
}

#[test]
fn lifecycle_refusals_change_nothing() {
    let (t, mut ana) = Team::new();
    governed_model(&mut ana, false);
    approve(&t, "2027-03-01");
    let id = t
        .ingest(&mut ana, &[("psi", 0.5, "2026-11-02T00:00:00Z")])
        .opened[0];
    let mut bob = t.open(BOB);
    let before = event_count(&ana);

    // Decide before the signal is confirmed: not allowed from `opened`.
    let decide = DecideException {
        disposition: "keep".into(),
        rationale: "r".into(),
        follow_up: None,
    };
    let err = ana.decide_exception(id, &decide).unwrap_err();
    assert_eq!(err.code(), "conflict");
    assert!(
        err.to_string()
            .contains("cannot decide a disposition an exception that is opened"),
        "{err}"
    );
    // Only the validator validates; dismissing needs a reason.
    assert_eq!(
        ana.validate_exception(id, true, "").unwrap_err().code(),
        "forbidden"
    );
    let err = bob.validate_exception(id, false, "  ").unwrap_err();
    assert_eq!(err.field(), Some("reason"));
    // Co-signing an undecided exception is not a transition that exists.
    assert_eq!(bob.cosign_exception(id).unwrap_err().code(), "conflict");
    assert_eq!(event_count(&ana), before);

    bob.start_validation(id).unwrap();
    bob.validate_exception(id, true, "").unwrap();
    // Decided only by the accountable owner.
    let err = bob.decide_exception(id, &decide).unwrap_err();
    assert_eq!(err.code(), "forbidden");
    assert!(err.to_string().contains("accountable owner"));
    // An impact flag escalates and makes the co-sign required.
    let e = ana
        .flag_exception(id, "customer", "declines rose for thin-file applicants")
        .unwrap();
    assert_eq!(e.state, ExceptionState::Escalated);
    assert_eq!(e.escalations[0].rule, "impact:customer");
    assert_eq!(e.escalations[0].routed_to.as_deref(), Some(BOB));
    let e = ana
        .decide_exception(
            id,
            &DecideException {
                disposition: "tighten".into(),
                rationale: "Weekly PSI review".into(),
                follow_up: None,
            },
        )
        .unwrap();
    assert_eq!(
        e.state,
        ExceptionState::Decided,
        "cannot close without the co-sign"
    );
    assert_eq!(
        e.follow_up.as_deref(),
        Some("2026-12-02"),
        "default follow-up: 30 days for high tier"
    );
    // Only the business approver co-signs.
    let mut carol = t.open(CAROL);
    assert_eq!(carol.cosign_exception(id).unwrap_err().code(), "forbidden");
    assert_eq!(ana.cosign_exception(id).unwrap_err().code(), "forbidden");
    assert_eq!(
        bob.cosign_exception(id).unwrap().state,
        ExceptionState::Closed
    );
    // Nothing is allowed after closing.
    assert_eq!(
        bob.validate_exception(id, true, "").unwrap_err().code(),
        "conflict"
    );
}

#[test]
fn unregulated_unescalated_disposition_closes_without_cosign_and_retire_ends_the_approval() {
    let (t, mut ana) = Team::new();
    governed_model(&mut ana, false);
    approve(&t, "2027-03-01");
    let id = t
        .ingest(&mut ana, &[("psi", 0.5, "2026-11-02T00:00:00Z")])
        .opened[0];
    t.open(BOB)
        .validate_exception(id, true, "confirmed")
        .unwrap();
    let e = ana
        .decide_exception(
            id,
            &DecideException {
                disposition: "retire".into(),
                rationale: "Replaced by v2".into(),
                follow_up: None,
            },
        )
        .unwrap();
    assert_eq!(
        (e.state, e.cosign_required),
        (ExceptionState::Closed, false)
    );
    let m = ana.show_model("credit-risk").unwrap();
    assert_eq!(
        (m.model.status, m.model.approval_status),
        (ModelStatus::Retired, ApprovalStatus::Retired)
    );
    assert_eq!(m.approval.unwrap().status, "ended");
    // A retired model is still monitored, and cannot be approved again.
    assert_eq!(
        t.ingest(&mut ana, &[("psi", 0.6, "2026-11-02T01:00:00Z")])
            .opened
            .len(),
        1
    );
    let mut bob = t.open(BOB);
    assert_eq!(
        bob.approve_model(
            "credit-risk",
            &ApproveModel {
                until: "2027-01-01".into(),
                note: None
            }
        )
        .unwrap_err()
        .code(),
        "conflict"
    );
}

#[test]
fn shadow_and_unapproved_models_are_monitored_not_suppressed() {
    let (_t, mut ana) = Team::new();
    governed_model(&mut ana, false);
    ana.update_model(
        "credit-risk",
        &UpdateModel {
            deployment_mode: Some("shadow".into()),
            ..Default::default()
        },
    )
    .unwrap();
    // Never approved: evaluated against its proposed threshold.
    let r = _t.ingest(&mut ana, &[("psi", 0.9, "2026-11-02T00:00:00Z")]);
    let e = ana.show_exception(r.opened[0]).unwrap();
    assert_eq!(e.deployment_mode, DeploymentMode::Shadow);
    assert_eq!(
        ana.show_model("credit-risk").unwrap().model.approval_status,
        ApprovalStatus::Pending
    );
}

#[test]
fn sweep_escalates_missed_deadlines_and_opens_exceptions_for_lapsed_approvals() {
    let (t, mut ana) = Team::new();
    governed_model(&mut ana, false);
    approve(&t, "2026-12-01");
    let id = t
        .ingest(&mut ana, &[("psi", 0.5, "2026-11-02T00:00:00Z")])
        .opened[0];
    assert!(ana.sweep().unwrap().is_empty(), "nothing due yet");
    let n = event_count(&ana);
    assert!(ana.sweep().unwrap().is_empty());
    assert_eq!(event_count(&ana), n, "an empty sweep writes nothing");

    t.clock.set(2026, 11, 5); // validation deadline was 2026-11-04
    let r = ana.sweep().unwrap();
    assert_eq!(r.escalated.len(), 1);
    assert!(
        r.escalated[0]
            .reason
            .contains("validation deadline 2026-11-04 missed"),
        "{:?}",
        r.escalated
    );
    let e = ana.show_exception(id).unwrap();
    assert_eq!(e.state, ExceptionState::Escalated);
    assert_eq!(e.escalations[0].routed_to.as_deref(), Some(BOB));
    assert!(
        ana.sweep().unwrap().is_empty(),
        "the same rule does not fire twice"
    );
    let last = ana.audit_log(Some(2)).unwrap();
    assert_eq!(last[0].operation, "exception.escalate");
    assert_eq!(last[0].payload["rule"], "validate-deadline");

    t.clock.set(2026, 12, 1);
    // Opening the registry runs the sweep too.
    let ana2 = t.open(ADMIN);
    let lapsed = ana2
        .list_exceptions(None, None)
        .unwrap()
        .into_iter()
        .find(|e| e.kind == ExceptionKind::LapsedApproval)
        .unwrap();
    assert_eq!(lapsed.state, ExceptionState::Confirmed);
    let m = ana2.show_model("credit-risk").unwrap();
    assert_eq!(m.model.approval_status, ApprovalStatus::Lapsed);
    assert_eq!(m.approval.unwrap().status, "lapsed");
    // The decision deadline of the first exception also passed: escalated for that too.
    let e = ana2.show_exception(id).unwrap();
    assert_eq!(
        e.escalations
            .iter()
            .map(|x| x.rule.as_str())
            .collect::<Vec<_>>(),
        ["validate-deadline", "decide-deadline"]
    );
    assert!(ana2.verify_log().unwrap().ok);
}

#[test]
fn changing_a_signed_record_in_the_database_fails_its_signature() {
    let (t, mut ana) = Team::new();
    governed_model(&mut ana, true);
    let a = approve(&t, "2027-03-01");
    let id = t
        .ingest(&mut ana, &[("psi", 0.5, "2026-11-02T00:00:00Z")])
        .opened[0];
    t.open(BOB).validate_exception(id, true, "").unwrap();
    ana.decide_exception(
        id,
        &DecideException {
            disposition: "keep".into(),
            rationale: "Within appetite".into(),
            follow_up: None,
        },
    )
    .unwrap();
    drop(ana);
    let conn = raw_db(&t.fx.dir, ADMIN, ADMIN_PASS);
    conn.execute(
        "UPDATE exceptions SET rationale = 'Approved by the board' WHERE id = ?1",
        [id],
    )
    .unwrap();
    conn.execute(
        "UPDATE approvals SET expires_on = '2030-01-01' WHERE id = ?1",
        [a.id],
    )
    .unwrap();
    drop(conn);
    let ana = t.open(ADMIN);
    let e = ana.show_exception(id).unwrap();
    assert!(!e.signoffs[0].valid);
    assert!(e.signoffs[0]
        .problem
        .as_deref()
        .unwrap()
        .contains("no longer matches"));
    let m = ana.show_model("credit-risk").unwrap();
    assert!(!m.approval.unwrap().signoffs[0].valid);

    // A forged signature over the right statement fails too.
    drop(ana);
    let conn = raw_db(&t.fx.dir, ADMIN, ADMIN_PASS);
    conn.execute(
        "UPDATE exceptions SET rationale = 'Within appetite' WHERE id = ?1",
        [id],
    )
    .unwrap();
    let sig: String = conn
        .query_row(
            "SELECT signature FROM signoffs WHERE kind = 'disposition'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut forged = sig.into_bytes();
    forged[5] = if forged[5] == b'A' { b'B' } else { b'A' };
    conn.execute(
        "UPDATE signoffs SET signature = ?1 WHERE kind = 'disposition'",
        [String::from_utf8(forged).unwrap()],
    )
    .unwrap();
    drop(conn);
    let e = t.open(ADMIN).show_exception(id).unwrap();
    assert!(!e.signoffs[0].valid);
    assert_eq!(
        e.signoffs[0].problem.as_deref(),
        Some("the signature does not verify")
    );
}

#[test]
fn evidently_report_ingests_with_the_values_in_the_file() {
    let (_t, mut ana) = Team::new();
    governed_model(&mut ana, false);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/drift/evidently-report.json"
    );
    let r = ana
        .ingest_file(
            std::path::Path::new(path),
            &IngestOptions {
                format: IngestFormat::Evidently,
                model: Some("credit-risk".into()),
                observed_at: Some("2026-11-02T08:00:00Z".into()),
            },
            &mut |_| {},
        )
        .unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let ms = ana.list_measurements("credit-risk", None).unwrap();
    let mut checked = 0;
    for m in doc["metrics"].as_array().unwrap() {
        if let Some(col) = m["config"]["column"].as_str() {
            let got = ms
                .iter()
                .find(|x| x.metric == format!("drift:{col}"))
                .unwrap();
            assert_eq!(got.value, m["value"].as_f64().unwrap(), "{col}");
            checked += 1;
        }
    }
    assert_eq!(checked, 20);
    let share = ms
        .iter()
        .find(|x| x.metric == "share_drifted_columns")
        .unwrap();
    assert_eq!(share.value, 0.35);
    assert_eq!(r.rows as usize, ms.len());
    assert!(ms.iter().all(
        |m| m.observed_at == "2026-11-02T08:00:00Z" && m.source.as_deref() == Some("evidently")
    ));
}

#[test]
fn a_bad_row_aborts_the_whole_import_naming_file_line_and_field() {
    let (t, mut ana) = Team::new();
    governed_model(&mut ana, false);
    let dir = t.fx.dir.parent().unwrap();
    let cases = [
        (
            "credit-risk,1.0,psi,abc,2026-11-02T00:00:00Z",
            "value",
            "line 3",
        ),
        (
            "credit-risk,1.0,psi,NaN,2026-11-02T00:00:00Z",
            "value",
            "line 3",
        ),
        (
            "credit-risk,9.9,psi,0.1,2026-11-02T00:00:00Z",
            "model",
            "line 3",
        ),
        ("credit-risk,1.0,psi,0.1,yesterday", "observed_at", "line 3"),
        ("credit-risk,1.0,psi,0.1", "row", "line 3"),
    ];
    let before = event_count(&ana);
    for (i, (bad, field, line)) in cases.iter().enumerate() {
        let path = dir.join(format!("bad-{i}.csv"));
        std::fs::write(&path, format!(
            "model,version,metric,value,observed_at\ncredit-risk,1.0,psi,0.9,2026-11-01T00:00:00Z\n{bad}\ncredit-risk,1.0,psi,0.2,2026-11-03T00:00:00Z\n"
        )).unwrap();
        let err = ana
            .ingest_file(
                &path,
                &IngestOptions {
                    format: IngestFormat::Csv,
                    model: None,
                    observed_at: None,
                },
                &mut |_| {},
            )
            .unwrap_err();
        assert_eq!(err.field(), Some(*field), "{bad}: {err}");
        let msg = err.to_string();
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains(line),
            "{msg}"
        );
    }
    assert!(ana
        .list_measurements("credit-risk", None)
        .unwrap()
        .is_empty());
    assert!(
        ana.list_exceptions(None, None).unwrap().is_empty(),
        "the breach on line 2 opened nothing"
    );
    assert_eq!(event_count(&ana), before);
}

#[test]
fn each_gate_item_missing_alone_is_named_alone() {
    let (t, mut ana) = Team::new();
    let full = SetDecisionRights {
        alert_recipients: Some(vec![ADMIN.into()]),
        validator: Some(BOB.into()),
        rollback: Some(ADMIN.into()),
        approver: Some(BOB.into()),
    };
    let cases: Vec<(&str, SetDecisionRights, bool)> = vec![
        ("a drift threshold", full.clone(), false),
        (
            "an alert recipient",
            SetDecisionRights {
                alert_recipients: None,
                ..full.clone()
            },
            true,
        ),
        (
            "a validator",
            SetDecisionRights {
                validator: None,
                ..full.clone()
            },
            true,
        ),
        (
            "someone with pause/rollback authority",
            SetDecisionRights {
                rollback: None,
                ..full.clone()
            },
            true,
        ),
        (
            "a business approver",
            SetDecisionRights {
                approver: None,
                ..full.clone()
            },
            true,
        ),
    ];
    for (i, (missing, rights, threshold)) in cases.into_iter().enumerate() {
        let name = format!("model-{i}");
        ana.add_model(&AddModel {
            name: name.clone(),
            version: "1".into(),
            owner: ADMIN.into(),
            intended_use: "u".into(),
            business_function: "f".into(),
            risk_tier: "low".into(),
            deployment_mode: None,
            regulated: false,
        })
        .unwrap();
        ana.set_decision_rights(&name, &rights).unwrap();
        if threshold {
            ana.set_threshold(
                &name,
                &SetThreshold {
                    metric: "psi".into(),
                    breach: 0.2,
                    warn: None,
                    direction: None,
                },
            )
            .unwrap();
        }
        let err = t
            .open(BOB)
            .approve_model(
                &name,
                &ApproveModel {
                    until: "2027-01-01".into(),
                    note: None,
                },
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("cannot approve {name}: missing {missing}")
        );
        let gate = ana.approval_gate(&name, Some("2027-01-01")).unwrap();
        assert_eq!(gate.iter().filter(|g| !g.ok).count(), 1);
    }
}
