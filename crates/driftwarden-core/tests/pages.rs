//! Reads for large registries (pages, downsampled series), the seeded registry, and batches.

use chrono::{TimeZone, Utc};
use driftwarden_core::*;

use crate::common::{raw_db, SCHEMA_8_TO_7};

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

    // Exceptions: every one, in pages (order: see exceptions_open_filter_and_overdue_first_order).
    let all: Vec<i64> = reg
        .list_exceptions(None, None)
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    let first = reg.list_exceptions_page(None, None, 0, 3).unwrap();
    assert_eq!(first.total as usize, all.len());
    assert_eq!(first.items.len(), 3);
    assert!(first.items.iter().all(|e| all.contains(&e.id)));

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

/// A schema-7 registry (every measurement spelling out its model and metric) is migrated on
/// open to numbered series: every measurement keeps its id, values, time and evaluation, the
/// lists and drift charts read the same, and the next import adds to the migrated series.
#[test]
fn a_schema_7_registry_migrates_its_measurements_to_numbered_series() {
    let (tmp, reg) = seeded();
    let dir = tmp.path().join("reg");
    let admin = "admin@seed.example";
    let answers = |reg: &Registry| -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        for m in reg.list_models().unwrap() {
            let name = format!("{}@{}", m.name, m.version);
            let all = reg.list_measurements(&name, None).unwrap();
            out.push(serde_json::to_value(&all).unwrap());
            for metric in ["psi", "drift_share"] {
                let chart = reg.drift_series(&name, metric, Some(40)).unwrap();
                out.push(serde_json::to_value(&chart).unwrap());
            }
        }
        out
    };
    let before = answers(&reg);
    let measured: usize = before
        .iter()
        .step_by(3)
        .map(|v| v.as_array().unwrap().len())
        .sum();
    assert_eq!(measured, 6_000);
    drop(reg);
    let count = |sql: &str| -> i64 {
        raw_db(&dir, admin, PASS)
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    };
    let series = count("SELECT count(*) FROM series");
    raw_db(&dir, admin, PASS)
        .execute_batch(&format!("BEGIN; {SCHEMA_8_TO_7} COMMIT;"))
        .unwrap();
    assert_eq!(
        count("SELECT count(*) FROM sqlite_master WHERE name = 'series'"),
        0
    );
    assert_eq!(
        count("SELECT count(DISTINCT model_id || metric) FROM measurements"),
        series
    );

    let mut reg = Registry::open(&dir, admin, PASS, clock(2026, 11, 20)).unwrap();
    assert_eq!(count("PRAGMA user_version"), i64::from(SCHEMA_VERSION));
    assert_eq!(count("SELECT count(*) FROM series"), series);
    assert_eq!(answers(&reg), before);
    // A chart reads its series from the index alone, already in time order.
    let db = raw_db(&dir, admin, PASS);
    let plan: Vec<String> = db
        .prepare(
            "EXPLAIN QUERY PLAN
             SELECT m.id, m.value FROM series s JOIN measurements m ON m.series_id = s.id
             WHERE s.model_id = 1 AND s.metric = 'psi' ORDER BY m.observed_at, m.id",
        )
        .unwrap()
        .query_map([], |r| r.get(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let plan = plan.join("; ");
    drop(db);
    assert!(
        plan.contains("COVERING INDEX measurements_series"),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");

    let hot = reg.list_measurements("model-00000", Some("psi")).unwrap();
    let csv = tmp.path().join("next.csv");
    std::fs::write(
        &csv,
        "model,version,metric,value,observed_at\nmodel-00000,1.0,psi,0.0123,2026-11-20T08:59:00Z\n",
    )
    .unwrap();
    let opts = IngestOptions {
        format: IngestFormat::Csv,
        model: None,
        observed_at: None,
    };
    assert_eq!(reg.ingest_file(&csv, &opts, &mut |_| {}).unwrap().rows, 1);
    assert_eq!(count("SELECT count(*) FROM series"), series);
    let after = reg.list_measurements("model-00000", Some("psi")).unwrap();
    assert_eq!(after.len(), hot.len() + 1);
    let last = after.last().unwrap();
    assert_eq!(
        (last.value, last.observed_at.as_str()),
        (0.0123, "2026-11-20T08:59:00Z")
    );
    assert!(reg.verify_log().unwrap().ok);
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

/// The seeded registry with models made to exercise search (a `%`, a `_`, mixed case), a second
/// version of one name, and a retired model; opened as the admin at 2026-11-20.
fn varied() -> (tempfile::TempDir, Registry) {
    let (tmp, mut reg) = seeded();
    for (name, version, owner, function, usage) in [
        (
            "Alpha_Scorer",
            "1.0",
            "owner3@seed.example",
            "Quirky Underwriting",
            "Ranks 100% of applications",
        ),
        (
            "alphascorer",
            "1.0",
            "owner2@seed.example",
            "Payments",
            "Detects ZEBRA patterns",
        ),
        (
            "model-00003",
            "2.0",
            "owner1@seed.example",
            "Payments",
            "Second version of model 3",
        ),
    ] {
        reg.add_model(&AddModel {
            name: name.into(),
            version: version.into(),
            owner: owner.into(),
            intended_use: usage.into(),
            business_function: function.into(),
            risk_tier: "medium".into(),
            deployment_mode: Some("shadow".into()),
            regulated: false,
        })
        .unwrap();
    }
    // Retire a model the way users do: its owner decides an exception with "retire".
    let dir = tmp.path().join("reg");
    let candidates: Vec<(i64, String)> = reg
        .list_exceptions(None, None)
        .unwrap()
        .into_iter()
        .filter(|e| {
            matches!(
                e.state,
                ExceptionState::Confirmed | ExceptionState::Escalated | ExceptionState::Recovered
            )
        })
        .map(|e| (e.id, e.model))
        .collect();
    let mut retired = false;
    for (id, model) in candidates {
        let owner = reg.model(&model).unwrap().owner;
        let mut as_owner = Registry::open_unswept(&dir, &owner, PASS, clock(2026, 11, 20)).unwrap();
        let decided = as_owner.decide_exception(
            id,
            &DecideException {
                disposition: "retire".into(),
                rationale: "Replaced by the new scorer".into(),
                follow_up: None,
            },
        );
        if decided.is_ok() {
            retired = true;
            break;
        }
    }
    assert!(retired, "no exception could be decided with retire");
    (tmp, reg)
}

fn clock(y: i32, m: u32, d: u32) -> std::sync::Arc<dyn Clock> {
    std::sync::Arc::new(FixedClock(Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap()))
}

/// Every page of a model query, walked 7 at a time, checking `total` on each page.
fn all_models(reg: &Registry, q: &ModelQuery) -> Vec<ModelView> {
    let mut out = Vec::new();
    let mut total = None;
    loop {
        let p = reg
            .list_models_page(&ModelQuery {
                offset: out.len() as i64,
                limit: 7,
                ..q.clone()
            })
            .unwrap();
        assert_eq!(*total.get_or_insert(p.total), p.total);
        if p.items.is_empty() {
            break;
        }
        out.extend(p.items);
    }
    assert_eq!(total.unwrap() as usize, out.len());
    out
}

fn ids(models: &[ModelView]) -> Vec<i64> {
    models.iter().map(|m| m.id).collect()
}

#[test]
fn every_model_sort_both_ways_matches_the_full_list_sorted_in_rust() {
    let (_tmp, reg) = varied();
    let full = reg.list_models().unwrap();
    type Key = Box<dyn Fn(&ModelView) -> String>;
    let keys: Vec<(ModelSort, Key)> = vec![
        (
            ModelSort::Name,
            Box::new(|m| format!("{}\u{0}{}", m.name, m.version)),
        ),
        (ModelSort::Owner, Box::new(|m| m.owner.clone())),
        (
            ModelSort::RiskTier,
            Box::new(|m| format!("{}", m.risk_tier as u8)),
        ),
        (
            ModelSort::Status,
            Box::new(|m| format!("{}", m.status as u8)),
        ),
        (
            ModelSort::DeploymentMode,
            Box::new(|m| m.deployment_mode.as_str().into()),
        ),
        (
            ModelSort::ApprovalStatus,
            Box::new(|m| m.approval_status.as_str().into()),
        ),
        // No approval (None) sorts first ascending, as NULL does in SQLite.
        (
            ModelSort::ApprovalExpiry,
            Box::new(|m| match &m.approval_expires_on {
                None => String::new(),
                Some(d) => format!("~{d}"),
            }),
        ),
        (ModelSort::Registered, Box::new(|m| m.created_at.clone())),
    ];
    for (sort, key) in keys {
        let mut expected = full.clone();
        expected.sort_by(|a, b| key(a).cmp(&key(b)).then(a.id.cmp(&b.id)));
        // The key must take more than one value, else the test would prove little.
        let distinct: std::collections::BTreeSet<String> = full.iter().map(&key).collect();
        assert!(distinct.len() > 1, "{sort:?} has one value only");
        let asc = all_models(
            &reg,
            &ModelQuery {
                sort: Some(sort),
                direction: Some(SortDirection::Asc),
                ..Default::default()
            },
        );
        assert_eq!(ids(&asc), ids(&expected), "{sort:?} ascending");
        let desc = all_models(
            &reg,
            &ModelQuery {
                sort: Some(sort),
                direction: Some(SortDirection::Desc),
                ..Default::default()
            },
        );
        expected.reverse();
        assert_eq!(ids(&desc), ids(&expected), "{sort:?} descending");
    }
    // No sort asked: by name then version, as the unpaged list.
    assert_eq!(ids(&all_models(&reg, &ModelQuery::default())), ids(&full));
    // Sorting combines with filters.
    let low_by_owner = all_models(
        &reg,
        &ModelQuery {
            risk_tier: Some("low".into()),
            sort: Some(ModelSort::Owner),
            direction: Some(SortDirection::Desc),
            ..Default::default()
        },
    );
    let mut expected: Vec<ModelView> = full
        .iter()
        .filter(|m| m.risk_tier == RiskTier::Low)
        .cloned()
        .collect();
    expected.sort_by(|a, b| b.owner.cmp(&a.owner).then(b.id.cmp(&a.id)));
    assert_eq!(ids(&low_by_owner), ids(&expected));
    // The direction arrives as a word from the desktop; others are refused by name.
    let q: ModelQuery =
        serde_json::from_str(r#"{"sort":"approval_expiry","direction":"desc","limit":5}"#).unwrap();
    assert_eq!(
        (q.sort, q.direction),
        (Some(ModelSort::ApprovalExpiry), Some(SortDirection::Desc))
    );
    let bad = serde_json::from_str::<ModelQuery>(r#"{"sort":"colour","limit":5}"#)
        .unwrap_err()
        .to_string();
    assert!(bad.contains("colour"), "{bad}");
}

#[test]
fn the_approval_filter_matches_each_status_as_of_today_including_the_expiry_day() {
    let (tmp, reg) = varied();
    let full = reg.list_models().unwrap();
    for status in ApprovalStatus::ALL {
        let expected: Vec<ModelView> = full
            .iter()
            .filter(|m| m.approval_status == *status)
            .cloned()
            .collect();
        assert!(!expected.is_empty(), "no {status:?} model in the fixture");
        let got = all_models(
            &reg,
            &ModelQuery {
                approval_status: Some(status.as_str().into()),
                ..Default::default()
            },
        );
        assert_eq!(ids(&got), ids(&expected), "{status:?}");
    }
    let err = reg
        .list_models_page(&ModelQuery {
            approval_status: Some("granted".into()),
            limit: 5,
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("approval_status"), "{err}");

    // The boundary: an approval is current the day before it expires and lapsed on that day.
    let approved = full
        .iter()
        .find(|m| m.approval_status == ApprovalStatus::Approved)
        .unwrap();
    let expires = chrono::NaiveDate::parse_from_str(
        approved.approval_expires_on.as_deref().unwrap(),
        "%Y-%m-%d",
    )
    .unwrap();
    drop(reg);
    let dir = tmp.path().join("reg");
    let on = |d: chrono::NaiveDate| {
        use chrono::Datelike;
        Registry::open_unswept(
            &dir,
            "admin@seed.example",
            PASS,
            clock(d.year(), d.month(), d.day()),
        )
        .unwrap()
    };
    let named = |reg: &Registry, status: &str| -> Vec<i64> {
        ids(&all_models(
            reg,
            &ModelQuery {
                approval_status: Some(status.into()),
                ..Default::default()
            },
        ))
    };
    let day_before = on(expires.pred_opt().unwrap());
    assert!(named(&day_before, "approved").contains(&approved.id));
    assert!(!named(&day_before, "lapsed").contains(&approved.id));
    drop(day_before);
    let expiry_day = on(expires);
    assert!(!named(&expiry_day, "approved").contains(&approved.id));
    assert!(named(&expiry_day, "lapsed").contains(&approved.id));
    // And the filter agrees with the unpaged list's derivation on that day, for every status.
    let full = expiry_day.list_models().unwrap();
    for status in ApprovalStatus::ALL {
        let expected: Vec<i64> = full
            .iter()
            .filter(|m| m.approval_status == *status)
            .map(|m| m.id)
            .collect();
        assert_eq!(named(&expiry_day, status.as_str()), expected, "{status:?}");
    }
}

#[test]
fn search_covers_name_function_owner_and_use_with_literal_wildcards() {
    let (_tmp, reg) = varied();
    let full = reg.list_models().unwrap();
    let search = |s: &str| -> Vec<i64> {
        ids(&all_models(
            &reg,
            &ModelQuery {
                search: Some(s.into()),
                ..Default::default()
            },
        ))
    };
    let contains = |s: &str| -> Vec<i64> {
        let s = s.trim().to_lowercase();
        full.iter()
            .filter(|m| {
                [&m.name, &m.business_function, &m.owner, &m.intended_use]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&s))
            })
            .map(|m| m.id)
            .collect()
    };
    let id_of = |name: &str| full.iter().find(|m| m.name == name).unwrap().id;
    // One field each, case-insensitive; each term occurs in that field only.
    assert_eq!(search("ALPHA_s"), vec![id_of("Alpha_Scorer")]); // name
    assert_eq!(search("quirky underwriting"), vec![id_of("Alpha_Scorer")]); // business function
    assert_eq!(search("zebra"), vec![id_of("alphascorer")]); // intended use
    let by_owner = search("OWNER3@seed");
    assert!(by_owner.len() > 1);
    assert_eq!(by_owner, contains("owner3@seed"));
    assert!(by_owner.iter().all(|id| full
        .iter()
        .any(|m| m.id == *id && m.owner == "owner3@seed.example")));
    // % and _ match themselves, not any text or any character.
    assert_eq!(search("_"), vec![id_of("Alpha_Scorer")]);
    assert_eq!(search("100%"), vec![id_of("Alpha_Scorer")]);
    assert_eq!(search("%"), vec![id_of("Alpha_Scorer")]);
    assert_eq!(search("alpha%scorer"), Vec::<i64>::new());
    assert_eq!(search("a_p"), Vec::<i64>::new());
    // Broad terms agree with the same search done in Rust over the full list.
    for term in [
        "payments",
        "model-0001",
        "scale",
        "seed.example",
        " Retail ",
    ] {
        let expected = contains(term);
        assert!(!expected.is_empty(), "{term}");
        assert_eq!(search(term), expected, "{term}");
    }
    // A blank search is no filter.
    assert_eq!(search("  "), ids(&full));
}

/// The deadline `overdue` checks for an exception in its state, if any.
fn next_due(e: &ExceptionView) -> Option<&str> {
    match e.state {
        ExceptionState::Opened | ExceptionState::Validating => Some(&e.validate_by),
        ExceptionState::Confirmed | ExceptionState::Escalated | ExceptionState::Recovered => {
            Some(&e.decide_by)
        }
        _ => None,
    }
}

fn all_exceptions(reg: &Registry, state: Option<&str>, model: Option<&str>) -> Vec<ExceptionView> {
    let mut out = Vec::new();
    loop {
        let p = reg
            .list_exceptions_page(state, model, out.len() as i64, 11)
            .unwrap();
        if p.items.is_empty() {
            assert_eq!(p.total as usize, out.len());
            break;
        }
        out.extend(p.items);
    }
    out
}

#[test]
fn exceptions_open_filter_and_overdue_first_order() {
    let (tmp, reg) = seeded();
    drop(reg);
    // A month on, without the sweep: some deadlines have passed, others not.
    let reg = Registry::open_unswept(
        &tmp.path().join("reg"),
        "admin@seed.example",
        PASS,
        clock(2026, 12, 20),
    )
    .unwrap();
    let mut full = reg.list_exceptions(None, None).unwrap();
    // Overdue first, then the soonest deadline, then those without one; newest first in a tie.
    full.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then(next_due(a).is_none().cmp(&next_due(b).is_none()))
            .then(next_due(a).cmp(&next_due(b)))
            .then(b.id.cmp(&a.id))
    });
    let overdue = full.iter().filter(|e| e.overdue).count();
    assert!(
        overdue > 0 && overdue < full.len(),
        "{overdue} of {}",
        full.len()
    );
    let ids = |v: &[ExceptionView]| v.iter().map(|e| e.id).collect::<Vec<_>>();

    let any = all_exceptions(&reg, None, None);
    assert_eq!(ids(&any), ids(&full));
    assert!(any[..overdue].iter().all(|e| e.overdue));

    let open: Vec<ExceptionView> = full
        .iter()
        .filter(|e| !e.state.is_final())
        .cloned()
        .collect();
    assert!(open.len() < full.len() && !open.is_empty());
    assert_eq!(ids(&all_exceptions(&reg, Some("open"), None)), ids(&open));
    assert_eq!(ids(&all_exceptions(&reg, Some(" OPEN "), None)), ids(&open));

    // One state, and one model, keep the same order.
    let closed: Vec<ExceptionView> = full
        .iter()
        .filter(|e| e.state == ExceptionState::Closed)
        .cloned()
        .collect();
    assert!(!closed.is_empty());
    assert_eq!(
        ids(&all_exceptions(&reg, Some("closed"), None)),
        ids(&closed)
    );
    let model = open[0].model.clone();
    let of_model: Vec<ExceptionView> = open.iter().filter(|e| e.model == model).cloned().collect();
    assert_eq!(
        ids(&all_exceptions(&reg, Some("open"), Some(&model))),
        ids(&of_model)
    );

    let err = reg
        .list_exceptions_page(Some("pending"), None, 0, 5)
        .unwrap_err()
        .to_string();
    assert!(err.contains("state") && err.contains("open"), "{err}");
}

/// The per-day cap applies to every kind: against the uncapped page, each day and kind keeps its
/// first `limit` items and `more` counts exactly the rest.
#[test]
fn calendar_per_day_cap_keeps_the_first_items_of_every_kind_and_counts_the_rest() {
    let (_tmp, reg) = seeded();
    let from = chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    let to = chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap();
    let all = reg.calendar_page(from, to, None, Some(0), None).unwrap();
    assert!(all.more.is_empty());
    let mut groups: std::collections::BTreeMap<(String, String), Vec<String>> = Default::default();
    for i in &all.items {
        groups
            .entry((i.date.clone(), i.kind.clone()))
            .or_default()
            .push(i.uid.clone());
    }
    assert!(
        groups
            .iter()
            .any(|((_, k), v)| v.len() > 1 && !k.starts_with("rotation") && k != "nhi-expiry"),
        "the seeded registry has a day with several deadlines of one non-NHI kind"
    );
    let limit = 1usize;
    let capped = reg
        .calendar_page(from, to, None, Some(0), Some(limit))
        .unwrap();
    let mut kept: std::collections::BTreeMap<(String, String), Vec<String>> = Default::default();
    for i in &capped.items {
        kept.entry((i.date.clone(), i.kind.clone()))
            .or_default()
            .push(i.uid.clone());
    }
    let more: std::collections::BTreeMap<(String, String), i64> = capped
        .more
        .iter()
        .map(|d| ((d.date.clone(), d.kind.clone()), d.count))
        .collect();
    for (key, uids) in &groups {
        let k = kept.get(key).cloned().unwrap_or_default();
        assert_eq!(k.len(), uids.len().min(limit), "{key:?}");
        assert!(k.iter().all(|u| uids.contains(u)), "{key:?}");
        let left = (uids.len() - k.len()) as i64;
        assert_eq!(more.get(key).copied().unwrap_or(0), left, "{key:?}");
    }
    assert_eq!(kept.len(), groups.len());
}
