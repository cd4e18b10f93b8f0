//! Builds the audit-pack benchmark registry through the core's real operations (every change a
//! transaction with its audit event, every approval and disposition signed): 1,000 models with
//! decision rights, two approved thresholds and an approval each, 500 NHIs, 95 days of daily
//! drift measurements per model (one import each, so ~100,000 audit events in all), and a
//! governed exception with validation, signed disposition and co-sign on every tenth model.
//!
//! `cargo run --release -p driftwarden-pack --example bench_registry -- DIR [MODELS] [DAYS]`
//! builds it; `… -- --pack DIR OUT` writes a pack of it as Dana with the time of each phase
//! (the same calls as `driftwarden pack`, for when the CLI is not at hand).
//! Members: ana@bench.example (admin, owner), bob@bench.example (validator, approver),
//! dana@bench.example (compliance); passphrase `DRIFTWARDEN_PASSPHRASE` (default below).
//! `scripts/bench_pack.py` runs it, then times `driftwarden pack`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use driftwarden_core::*;

/// A clock the builder moves forward day by day.
#[derive(Clone)]
struct MovingClock(Arc<std::sync::Mutex<DateTime<Utc>>>);

impl Clock for MovingClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

impl MovingClock {
    fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }
}

const ANA: &str = "ana@bench.example";
const BOB: &str = "bob@bench.example";
const DANA: &str = "dana@bench.example";

fn pack(dir: &std::path::Path, out: &std::path::Path, pass: &str) -> Result<(), CoreError> {
    let t0 = Instant::now();
    let now: Arc<dyn Clock> = Arc::new(FixedClock(
        Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(),
    ));
    let dana = Registry::open(dir, DANA, pass, now)?;
    let t_open = t0.elapsed().as_secs_f64();
    // As the CLI and the desktop do: the outline, measurements and log streamed.
    let data = dana.pack_outline(&PackScope::default())?;
    let t_data = t0.elapsed().as_secs_f64();
    let mut last = Instant::now();
    let mut stages = Vec::new();
    let summary = driftwarden_pack::write_pack_with(
        &data,
        &dana,
        &|b| dana.sign_with_my_key(b),
        out,
        &mut |stage, _| {
            stages.push((stage.to_string(), last.elapsed().as_secs_f64()));
            last = Instant::now();
        },
    )?;
    let total = t0.elapsed().as_secs_f64();
    eprintln!("open {t_open:.2} s, pack_outline {:.2} s", t_data - t_open);
    for (stage, secs) in stages {
        eprintln!("  before {stage}: {secs:.2} s");
    }
    eprintln!(
        "{} models, {} audit events, {} report pages, {} files",
        summary.models, summary.audit_events, summary.report_pages, summary.files
    );
    println!("{total:.2}");
    Ok(())
}

fn main() -> Result<(), CoreError> {
    let mut args = std::env::args().skip(1).peekable();
    let pass = std::env::var("DRIFTWARDEN_PASSPHRASE")
        .unwrap_or_else(|_| "bench registry passphrase".into());
    if args.peek().map(String::as_str) == Some("--pack") {
        args.next();
        let dir = PathBuf::from(args.next().expect("--pack DIR OUT"));
        let out = PathBuf::from(args.next().expect("--pack DIR OUT"));
        return pack(&dir, &out, &pass);
    }
    let dir = PathBuf::from(
        args.next()
            .expect("usage: bench_registry DIR [MODELS] [DAYS]"),
    );
    let models: usize = args.next().map(|s| s.parse().unwrap()).unwrap_or(1000);
    let days: i64 = args.next().map(|s| s.parse().unwrap()).unwrap_or(95);
    let end = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
    let start = end - Duration::days(days + 2);
    let moving = MovingClock(Arc::new(std::sync::Mutex::new(start)));
    let clock: Arc<dyn Clock> = Arc::new(moving.clone());
    let t0 = Instant::now();

    let mut ana = Registry::create(
        &dir,
        &CreateRegistry {
            org: "Bench Bank".into(),
            email: ANA.into(),
            name: "Ana Admin".into(),
            roles: vec!["admin".into(), "owner".into()],
        },
        &pass,
        clock.clone(),
    )?;
    for (email, name, roles) in [
        (BOB, "Bob Approver", "validator,approver"),
        (DANA, "Dana Compliance", "compliance"),
    ] {
        ana.add_member(
            &AddMember {
                email: email.into(),
                name: name.into(),
                roles: vec![roles.into()],
            },
            &pass,
        )?;
    }
    let name = |i: usize| format!("model-{i:04}");
    for i in 0..models {
        let n = name(i);
        ana.add_model(&AddModel {
            name: n.clone(),
            version: "1.0".into(),
            owner: ANA.into(),
            intended_use: format!("Benchmark model {i}, scoring applications"),
            business_function: ["Lending", "Payments", "Marketing"][i % 3].into(),
            risk_tier: ["high", "medium", "low"][i % 3].into(),
            deployment_mode: Some(["production", "shadow", "canary"][i % 3].into()),
            regulated: i % 3 == 0,
        })?;
        ana.set_decision_rights(
            &n,
            &SetDecisionRights {
                alert_recipients: Some(vec![ANA.into(), BOB.into()]),
                validator: Some(BOB.into()),
                rollback: Some(ANA.into()),
                approver: Some(BOB.into()),
            },
        )?;
        for (metric, breach, warn) in [("psi", 0.25, 0.1), ("ks:income", 0.3, 0.15)] {
            ana.set_threshold(
                &n,
                &SetThreshold {
                    metric: metric.into(),
                    breach,
                    warn: Some(warn),
                    direction: None,
                },
            )?;
        }
        if i % 2 == 0 {
            ana.add_nhi(&AddNhi {
                name: format!("svc-{n}"),
                kind: "service-account".into(),
                system: "Model serving".into(),
                owner: ANA.into(),
                rotation_days: 90,
                last_rotated: Some(
                    (start - Duration::days((i % 120) as i64))
                        .date_naive()
                        .to_string(),
                ),
                expires: None,
                environment: Some("production".into()),
                scopes: vec!["predict:invoke".into()],
                identifier: Some(format!("svc-{n}@bench-prod.example")),
                human_use: false,
            })?;
            ana.link_nhi(&format!("svc-{n}"), &n, "Serves the scoring endpoint")?;
        }
    }
    eprintln!(
        "{models} models registered in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let mut bob = Registry::open_unswept(&dir, BOB, &pass, clock.clone())?;
    for i in 0..models {
        bob.approve_model(
            &name(i),
            &ApproveModel {
                until: (start + Duration::days(150)).date_naive().to_string(),
                note: Some("Benchmark release".into()),
            },
        )?;
    }
    drop(bob);
    eprintln!("approved in {:.1} s", t0.elapsed().as_secs_f64());

    // Daily drift, one import per model and day. Every tenth model drifts over its breach level
    // in the last five days.
    for day in 0..days {
        let at = end - Duration::days(days - day);
        moving.set(at);
        let ts = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        for i in 0..models {
            let phase = (day as f64) * 0.3 + i as f64;
            let mut psi = 0.06 + 0.03 * phase.sin().abs();
            if i % 10 == 0 && day >= days - 5 {
                psi = 0.27 + 0.01 * (day - (days - 5)) as f64;
            }
            ana.record_measurements(
                &name(i),
                Some(&ts),
                "bench monitoring feed",
                &[
                    NewMeasurement {
                        metric: "psi".into(),
                        value: (psi * 1000.0).round() / 1000.0,
                        segment: None,
                    },
                    NewMeasurement {
                        metric: "ks:income".into(),
                        value: ((0.08 + 0.04 * (phase * 0.5).cos().abs()) * 1000.0).round()
                            / 1000.0,
                        segment: None,
                    },
                ],
            )?;
        }
        if day % 10 == 0 {
            eprintln!("day {day}/{days} at {:.1} s", t0.elapsed().as_secs_f64());
        }
    }

    // Governed decisions on the drifting models.
    moving.set(end);
    let mut bob = Registry::open_unswept(&dir, BOB, &pass, clock.clone())?;
    let open = ana.list_exceptions(None, None)?;
    for e in &open {
        bob.validate_exception(e.id, true, "Drift confirmed against the reference window")?;
        ana.decide_exception(
            e.id,
            &DecideException {
                disposition: if e.id % 2 == 0 { "retrain" } else { "tighten" }.into(),
                rationale: "Benchmark disposition with a documented rationale".into(),
                follow_up: Some((end + Duration::days(30)).date_naive().to_string()),
            },
        )?;
        if bob.show_exception(e.id)?.cosign_required {
            bob.cosign_exception(e.id)?;
        }
    }
    drop(bob);
    let report = ana.verify_log()?;
    eprintln!(
        "done in {:.1} s: {models} models, {} exceptions, {} audit events, chain {}",
        t0.elapsed().as_secs_f64(),
        open.len(),
        report.events,
        if report.ok { "verified" } else { "BROKEN" }
    );
    println!("{}", report.events);
    Ok(())
}
