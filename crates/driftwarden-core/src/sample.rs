//! "Try it with sample data": a registry that shows a living product at once — models in every
//! state, an escalated exception, a recovered one, a lapsed approval, NHIs that need attention,
//! drift history. Everything is created through the real operations, so the audit log, the
//! signatures and the deadlines are all genuine.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::clock::{format_time, Clock, FixedClock};
use crate::error::Result;
use crate::ops::approvals::ApproveModel;
use crate::ops::exceptions::DecideException;
use crate::ops::members::AddMember;
use crate::ops::models::{AddModel, SetDecisionRights};
use crate::ops::nhis::AddNhi;
use crate::ops::thresholds::SetThreshold;
use crate::registry::{CreateRegistry, Registry};

pub const SAMPLE_ORG: &str = "Northwind Lending (sample)";
/// The members of the sample registry; each uses the passphrase given to `create_sample`.
pub const SAMPLE_MEMBERS: &[(&str, &str, &str)] = &[
    ("ana@northwind.example", "Ana Ortiz", "admin,owner"),
    ("bob@northwind.example", "Bob Brennan", "validator,approver"),
    ("chen@northwind.example", "Chen Li", "owner,engineer"),
    ("dana@northwind.example", "Dana Diaz", "compliance"),
];

fn at(reg: &mut Registry, t: DateTime<Utc>) {
    reg.clock = Arc::new(FixedClock(t));
}

fn rights(reg: &mut Registry, name: &str, owner: &str) -> Result<()> {
    reg.set_decision_rights(
        name,
        &SetDecisionRights {
            alert_recipients: Some(vec![owner.into(), "bob@northwind.example".into()]),
            validator: Some("bob@northwind.example".into()),
            rollback: Some(owner.into()),
            approver: Some("bob@northwind.example".into()),
        },
    )?;
    Ok(())
}

fn threshold(reg: &mut Registry, name: &str, metric: &str, breach: f64, warn: f64) -> Result<()> {
    reg.set_threshold(
        name,
        &SetThreshold {
            metric: metric.into(),
            breach,
            warn: Some(warn),
            direction: None,
        },
    )?;
    Ok(())
}

/// A daily series for `days` days ending at `end`, shaped by `f(day index) -> value`.
fn series(
    reg: &mut Registry,
    name: &str,
    metric: &str,
    end: DateTime<Utc>,
    days: i64,
    f: impl Fn(i64) -> f64,
) -> Result<()> {
    let rows: Vec<(String, f64, String)> = (0..days)
        .map(|i| {
            (
                metric.to_string(),
                (f(i) * 1000.0).round() / 1000.0,
                format_time(end - Duration::days(days - 1 - i)),
            )
        })
        .collect();
    reg.record_series(name, "sample monitoring feed", &rows)?;
    Ok(())
}

/// Creates the sample registry in `dir` and returns it open as Ana (admin, owner), on `clock`.
pub fn create_sample(dir: &Path, passphrase: &str, clock: Arc<dyn Clock>) -> Result<Registry> {
    let now = clock.now();
    let start = now - Duration::days(75);
    let (ana, _, _) = SAMPLE_MEMBERS[0];
    let mut reg = Registry::create(
        dir,
        &CreateRegistry {
            org: SAMPLE_ORG.into(),
            email: ana.into(),
            name: SAMPLE_MEMBERS[0].1.into(),
            roles: vec!["admin".into(), "owner".into()],
        },
        passphrase,
        Arc::new(FixedClock(start)),
    )?;
    for (email, name, roles) in &SAMPLE_MEMBERS[1..] {
        reg.add_member(
            &AddMember {
                email: (*email).into(),
                name: (*name).into(),
                roles: vec![(*roles).into()],
            },
            passphrase,
        )?;
    }
    let chen = "chen@northwind.example";
    // (name, version, owner, tier, mode, regulated, intended use, business function)
    let models = [
        (
            "credit-risk",
            "2.3",
            ana,
            "high",
            "production",
            true,
            "Decide consumer credit applications up to 25,000 EUR",
            "Retail lending",
        ),
        (
            "fraud-score",
            "1.4",
            chen,
            "medium",
            "production",
            false,
            "Score card transactions for fraud review",
            "Payments",
        ),
        (
            "churn-predictor",
            "0.9",
            chen,
            "low",
            "canary",
            false,
            "Rank customers for retention offers",
            "Marketing",
        ),
        (
            "pricing-optimizer",
            "2.0",
            ana,
            "high",
            "shadow",
            true,
            "Suggest loan pricing within policy bands",
            "Retail lending",
        ),
    ];
    for (name, version, owner, tier, mode, regulated, intended_use, function) in models {
        reg.add_model(&AddModel {
            name: name.into(),
            version: version.into(),
            owner: owner.into(),
            intended_use: intended_use.into(),
            business_function: function.into(),
            risk_tier: tier.into(),
            deployment_mode: Some(mode.into()),
            regulated,
        })?;
    }
    for (name, owner) in [
        ("credit-risk", ana),
        ("fraud-score", chen),
        ("churn-predictor", chen),
    ] {
        rights(&mut reg, name, owner)?;
    }
    threshold(&mut reg, "credit-risk", "psi", 0.25, 0.1)?;
    threshold(&mut reg, "credit-risk", "wasserstein:income", 0.2, 0.1)?;
    threshold(&mut reg, "fraud-score", "psi", 0.2, 0.1)?;
    threshold(
        &mut reg,
        "churn-predictor",
        "share_drifted_columns",
        0.5,
        0.3,
    )?;
    threshold(&mut reg, "pricing-optimizer", "psi", 0.25, 0.1)?;
    // The pricing model's gate is incomplete: no validator, no approver yet.
    reg.set_decision_rights(
        "pricing-optimizer",
        &SetDecisionRights {
            alert_recipients: Some(vec![ana.into()]),
            rollback: Some(ana.into()),
            ..Default::default()
        },
    )?;

    for (email, name, tier_days) in [
        ("svc-credit-scoring", "service-account", 90),
        ("bureau-api-key", "api-key", 60),
        ("fraud-feature-store", "oauth-client", 180),
        ("churn-export-token", "token", 30),
    ] {
        let owner = if email.starts_with("svc") || email.starts_with("bureau") {
            ana
        } else {
            chen
        };
        reg.add_nhi(&AddNhi {
            name: email.into(),
            kind: name.into(),
            system: match email {
                "svc-credit-scoring" => "GCP Vertex AI",
                "bureau-api-key" => "Credit bureau API",
                "fraud-feature-store" => "Feature store",
                _ => "Data warehouse",
            }
            .into(),
            owner: owner.into(),
            rotation_days: tier_days,
            // The service account was last rotated long ago: its rotation is overdue.
            last_rotated: Some(
                (start
                    - Duration::days(if email == "svc-credit-scoring" {
                        200
                    } else {
                        10
                    }))
                .date_naive()
                .to_string(),
            ),
            expires: match email {
                "bureau-api-key" => Some((now + Duration::days(20)).date_naive().to_string()),
                "fraud-feature-store" => Some((now + Duration::days(300)).date_naive().to_string()),
                _ => None,
            },
            environment: Some(
                if email == "churn-export-token" {
                    "staging"
                } else {
                    "production"
                }
                .into(),
            ),
            scopes: vec![match email {
                "svc-credit-scoring" => "roles/aiplatform.user",
                "bureau-api-key" => "reports:read",
                "fraud-feature-store" => "features:read",
                _ => "export:*",
            }
            .into()],
            identifier: Some(
                match email {
                    "svc-credit-scoring" => "scoring@northwind-prod.iam.gserviceaccount.com",
                    "bureau-api-key" => "AKIAIOSFODNN7EXAMPLE",
                    "fraud-feature-store" => "0oa1b2c3d4e5f6g7h8i9",
                    _ => "churn-export",
                }
                .into(),
            ),
            // The analysts use the export token from their laptops.
            human_use: email == "churn-export-token",
        })?;
    }
    reg.link_nhi(
        "svc-credit-scoring",
        "credit-risk",
        "Serves the scoring endpoint and reads features",
    )?;
    reg.link_nhi(
        "bureau-api-key",
        "credit-risk",
        "Fetches bureau reports at decision time",
    )?;
    reg.link_nhi(
        "fraud-feature-store",
        "fraud-score",
        "Reads transaction features",
    )?;
    reg.link_nhi(
        "churn-export-token",
        "churn-predictor",
        "Exports the weekly scoring table",
    )?;

    // Approvals, signed by Bob: credit-risk and fraud-score are approved; churn-predictor's
    // approval expires and lapses.
    let bob_pass = passphrase;
    let mut bob = Registry::open_unswept(
        dir,
        SAMPLE_MEMBERS[1].0,
        bob_pass,
        Arc::new(FixedClock(start + Duration::days(1))),
    )?;
    let until = |d: i64| (start + Duration::days(d)).date_naive().to_string();
    bob.approve_model(
        "credit-risk",
        &ApproveModel {
            until: until(170),
            note: Some("Annual revalidation passed".into()),
        },
    )?;
    bob.approve_model(
        "fraud-score",
        &ApproveModel {
            until: until(300),
            note: None,
        },
    )?;
    bob.approve_model(
        "churn-predictor",
        &ApproveModel {
            until: until(45),
            note: Some("Canary for one quarter".into()),
        },
    )?;
    drop(bob);

    // Drift history. credit-risk drifts upward and breaches in the last days (an escalated
    // exception); fraud-score breached a month ago and has recovered; churn-predictor is calm.
    at(&mut reg, now - Duration::days(8));
    series(
        &mut reg,
        "credit-risk",
        "psi",
        now - Duration::days(8),
        60,
        |i| 0.04 + 0.002 * i as f64 + 0.01 * ((i as f64) * 0.7).sin(),
    )?;
    series(
        &mut reg,
        "credit-risk",
        "wasserstein:income",
        now - Duration::days(8),
        60,
        |i| 0.05 + 0.015 * ((i as f64) * 0.3).sin().abs(),
    )?;
    at(&mut reg, now - Duration::days(32));
    series(
        &mut reg,
        "fraud-score",
        "psi",
        now - Duration::days(32),
        40,
        |i| {
            if (34..38).contains(&i) {
                0.23 + 0.01 * (i - 34) as f64
            } else {
                0.06 + 0.01 * ((i as f64) * 0.5).sin()
            }
        },
    )?;
    at(&mut reg, now - Duration::days(25));
    series(
        &mut reg,
        "fraud-score",
        "psi",
        now - Duration::days(2),
        23,
        |i| 0.07 + 0.008 * ((i as f64) * 0.4).cos(),
    )?;
    at(&mut reg, now - Duration::days(4));
    series(
        &mut reg,
        "credit-risk",
        "psi",
        now - Duration::days(1),
        7,
        |i| 0.27 + 0.015 * i as f64,
    )?;
    at(&mut reg, now - Duration::days(1));
    series(
        &mut reg,
        "churn-predictor",
        "share_drifted_columns",
        now - Duration::days(1),
        70,
        |i| 0.1 + 0.05 * ((i as f64) * 0.2).sin().abs(),
    )?;

    // The sweep as of now: the credit-risk exception missed its validation deadline and is
    // escalated; churn-predictor's approval lapsed.
    at(&mut reg, now);
    reg.sweep()?;
    // Bob confirmed both signals, late for credit-risk (it stays escalated and waits for Ana's
    // disposition); Chen decided fraud-score, which waits for Bob's co-sign.
    let mut bob = Registry::open_unswept(
        dir,
        SAMPLE_MEMBERS[1].0,
        bob_pass,
        Arc::new(FixedClock(now)),
    )?;
    for e in reg.list_exceptions(Some("escalated"), Some("credit-risk"))? {
        bob.validate_exception(
            e.id,
            true,
            "Applicant mix shifted after the broker campaign",
        )?;
    }
    let fraud = reg.list_exceptions(None, Some("fraud-score"))?;
    if let Some(e) = fraud.first() {
        bob.validate_exception(e.id, true, "Seasonal spike in card-not-present volume")?;
        drop(bob);
        let mut chen_reg =
            Registry::open_unswept(dir, chen, passphrase, Arc::new(FixedClock(now)))?;
        let _ = chen_reg.decide_exception(
            e.id,
            &DecideException {
                disposition: "tighten".into(),
                rationale: "Recovered without action; watch weekly through the holiday season"
                    .into(),
                follow_up: Some((now + Duration::days(30)).date_naive().to_string()),
            },
        )?;
    }
    reg.clock = clock;
    Ok(reg)
}
