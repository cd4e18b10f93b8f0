//! Reads for large registries (pages, downsampled series), the seeded registry, and batches.

use chrono::{TimeZone, Utc};
use driftwarden_core::*;

const PASS: &str = "seeded registry passphrase";

fn seeded() -> (tempfile::TempDir, Registry) {
    let tmp = tempfile::tempdir().unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
    let spec = SeedSpec {
        models: 30,
        nhis: 60,
        measurements: 6_000,
        events: 800,
        seed: 7,
    };
    let (reg, report) =
        seed_registry(&tmp.path().join("reg"), PASS, &spec, now, &mut |_| {}).unwrap();
    assert_eq!(report.models, 30);
    assert_eq!(report.measurements, 6_000);
    assert!(report.events >= 800);
    (tmp, reg)
}

#[test]
fn pages_agree_with_the_full_lists() {
    let (_tmp, reg) = seeded();
    assert!(reg.verify_log().unwrap().ok);

    // Models: the pages, concatenated, are the filtered full list.
    let all: Vec<String> = reg
        .list_models()
        .unwrap()
        .into_iter()
        .filter(|m| m.risk_tier == RiskTier::Low)
        .map(|m| m.name)
        .collect();
    let mut paged = Vec::new();
    let mut offset = 0;
    loop {
        let p = reg
            .list_models_page(&ModelQuery {
                risk_tier: Some("low".into()),
                offset,
                limit: 4,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(p.total as usize, all.len());
        if p.items.is_empty() {
            break;
        }
        offset += p.items.len() as i64;
        paged.extend(p.items.into_iter().map(|m| m.name));
    }
    assert_eq!(paged, all);
    let found = reg
        .list_models_page(&ModelQuery {
            search: Some("00029".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.items[0].name, "model-00029");
    assert!(reg
        .list_models_page(&ModelQuery {
            limit: 0,
            ..Default::default()
        })
        .is_err());
    assert!(reg
        .list_models_page(&ModelQuery {
            risk_tier: Some("extreme".into()),
            limit: 5,
            ..Default::default()
        })
        .is_err());

    // Exceptions: newest first, like the full list.
    let all: Vec<i64> = reg
        .list_exceptions(None, None)
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    let first = reg.list_exceptions_page(None, None, 0, 3).unwrap();
    assert_eq!(first.total as usize, all.len());
    let ids: Vec<i64> = first.items.iter().map(|e| e.id).collect();
    assert_eq!(ids, all.iter().take(3).copied().collect::<Vec<_>>());

    // Audit log: keyset pages walk the whole log once, newest first.
    let head = reg.verify_log().unwrap().events;
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = reg.audit_log_page(before, 97).unwrap();
        if page.is_empty() {
            break;
        }
        before = Some(page.last().unwrap().seq);
        seen.extend(page.iter().map(|e| e.seq));
    }
    assert_eq!(seen, (1..=head).rev().collect::<Vec<_>>());

    // Incremental verification from a known head equals the full verification.
    let h = reg.audit_log_page(Some(101), 1).unwrap()[0].hash.clone();
    let part = reg.verify_log_from(100, &h).unwrap();
    let full = reg.verify_log().unwrap();
    assert_eq!(
        (part.ok, part.events, part.head),
        (true, full.events, full.head)
    );
}

#[test]
fn drift_series_is_downsampled_for_display() {
    let (_tmp, reg) = seeded();
    // The hot model holds a twentieth of the measurements: 300, 150 of them psi.
    let all = reg.list_measurements("model-00000", Some("psi")).unwrap();
    let full = reg.drift_series("model-00000", "psi", None).unwrap();
    assert_eq!(full.total as usize, all.len());
    assert!(!full.downsampled);
    assert_eq!(full.points.len(), all.len());
    let small = reg.drift_series("model-00000", "psi", Some(40)).unwrap();
    assert!(
        small.downsampled && small.points.len() <= 40,
        "{}",
        small.points.len()
    );
    assert_eq!(small.points[0].observed_at, all[0].observed_at);
    assert_eq!(
        small.points.last().unwrap().observed_at,
        all.last().unwrap().observed_at
    );
    let max = all.iter().map(|m| m.value).fold(f64::MIN, f64::max);
    assert!(small.points.iter().any(|p| p.value == max));
    assert!(small
        .points
        .windows(2)
        .all(|w| w[0].observed_at <= w[1].observed_at));
}

#[test]
fn a_failed_batch_leaves_nothing_and_member_changes_are_refused_inside() {
    let (_tmp, mut reg) = seeded();
    let before = reg.verify_log().unwrap();
    let models = reg.list_models().unwrap().len();
    let r: Result<()> = reg.batch(|r| {
        r.add_model(&AddModel {
            name: "batch-model".into(),
            version: "1".into(),
            owner: "admin@seed.example".into(),
            intended_use: "x".into(),
            business_function: "y".into(),
            risk_tier: "low".into(),
            deployment_mode: None,
            regulated: false,
        })?;
        // A refused operation inside a batch changes nothing and the batch goes on.
        assert!(r.revoke_nhi("no-such-nhi", "gone").is_err());
        assert!(r
            .add_member(
                &AddMember {
                    email: "new@seed.example".into(),
                    name: "New".into(),
                    roles: vec!["owner".into()],
                },
                PASS,
            )
            .is_err());
        Err(CoreError::invalid("batch", "stop"))
    });
    assert!(r.is_err());
    assert_eq!(reg.list_models().unwrap().len(), models);
    let after = reg.verify_log().unwrap();
    assert_eq!((after.events, after.head), (before.events, before.head));
    // A successful batch commits every operation with its event.
    reg.batch(|r| {
        for i in 0..3 {
            r.rotate_nhi(&format!("nhi-{i:06}"), "2026-11-19")?;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(reg.verify_log().unwrap().events, before.events + 3);
}
