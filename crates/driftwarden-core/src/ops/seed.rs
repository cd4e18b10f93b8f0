//! Synthetic registries for development and benchmarks (`driftwarden dev seed`, the scale
//! benchmark). Everything is created through the real operations — rights checks, the state
//! machine, evaluation of every measurement, signed approvals and dispositions, one audit event
//! per change in the same transaction — but many operations share one transaction
//! (`Registry::batch`), so a registry of 10,000 models and 1,000,000 events builds in minutes.
//!
//! The history spans the 390 days before `now`: members, models, rights, thresholds and NHIs
//! first; then NHI rotations every 30 days, two approval rounds (one lapses for a tenth of the
//! models), measurements ingested in four chunks with the sweep after each, revocations and
//! accepted findings; last, the validators, owners and approvers act on the open exceptions, so
//! every exception state occurs. The same `seed` gives the same registry content (keys, ids and
//! signatures aside).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::clock::{format_time, FixedClock};
use crate::error::Result;
use crate::ops::approvals::ApproveModel;
use crate::ops::exceptions::DecideException;
use crate::ops::members::AddMember;
use crate::ops::models::{AddModel, SetDecisionRights};
use crate::ops::nhis::AddNhi;
use crate::ops::thresholds::SetThreshold;
use crate::registry::{CreateRegistry, Registry};

pub const SEED_ORG: &str = "Seeded Corp (synthetic)";
/// The members of a seeded registry; all use the passphrase given to `seed_registry`. The first
/// is the admin the registry is returned open as.
pub const SEED_MEMBERS: &[(&str, &str, &str)] = &[
    ("admin@seed.example", "Ada Admin", "admin,owner"),
    ("owner1@seed.example", "Olu Owner", "owner"),
    ("owner2@seed.example", "Orla Owner", "owner"),
    ("owner3@seed.example", "Oscar Owner", "owner,engineer"),
    ("val1@seed.example", "Vera Validator", "validator,approver"),
    (
        "val2@seed.example",
        "Victor Validator",
        "validator,approver",
    ),
    ("val3@seed.example", "Vida Validator", "validator,approver"),
    ("compliance@seed.example", "Cai Compliance", "compliance"),
];
const OWNERS: usize = 4;
const VALIDATORS: usize = 3;
const VAL0: usize = 4;
/// Measurements arrive in this many imports per model.
const CHUNKS: usize = 4;
const ROTATION_ROUNDS: i64 = 12;

/// What to build.
#[derive(Debug, Clone, Copy)]
pub struct SeedSpec {
    pub models: usize,
    pub nhis: usize,
    pub measurements: usize,
    /// Audit events to reach (at least); the operations the other counts call for come first,
    /// NHI rotations make up the rest.
    pub events: usize,
    pub seed: u64,
}

/// What was built.
#[derive(Debug, Clone, Serialize)]
pub struct SeedReport {
    pub dir: String,
    pub members: i64,
    pub models: i64,
    pub nhis: i64,
    pub nhi_links: i64,
    pub measurements: i64,
    pub imports: i64,
    pub approvals: i64,
    pub exceptions: i64,
    /// Exceptions per state.
    pub exception_states: BTreeMap<String, i64>,
    pub events: i64,
    /// The model with the densest series (a twentieth of all measurements).
    pub hot_model: Option<String>,
    pub admin: String,
    pub seconds: f64,
}

/// Deterministic pseudo-random numbers (SplitMix64).
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The name of seeded model `i`.
pub fn seed_model_name(i: usize) -> String {
    format!("model-{i:05}")
}

/// The name of seeded NHI `j`.
pub fn seed_nhi_name(j: usize) -> String {
    format!("nhi-{j:06}")
}

fn model_index(name: &str) -> Option<usize> {
    name.strip_prefix("model-")?.parse().ok()
}

/// When drift shows in a model's `psi` series.
#[derive(Clone, Copy, PartialEq)]
enum Drift {
    Calm,
    /// Breaches at the end of the last chunk: open exceptions.
    Late,
    /// Breaches in the middle of chunk 2, then back under: recovered.
    Recovers,
    /// Breaches in chunk 1 and stays over until its end; then calm.
    Early,
}

fn drift_of(seed: u64, i: usize) -> Drift {
    match Rng::new(seed, 1_000_003 + i as u64).below(100) {
        0..=59 => Drift::Calm,
        60..=74 => Drift::Late,
        75..=86 => Drift::Recovers,
        _ => Drift::Early,
    }
}

fn tier_of(i: usize) -> &'static str {
    match i % 10 {
        0 | 1 => "high",
        2..=5 => "medium",
        _ => "low",
    }
}

/// A tenth of the models keep an incomplete gate (no validator, no approver): never approved.
fn gate_complete(i: usize) -> bool {
    i % 40 != 39
}

fn validator_of(i: usize) -> usize {
    VAL0 + (i + 1) % VALIDATORS
}

fn approver_of(i: usize) -> usize {
    VAL0 + i % VALIDATORS
}

fn owner_of(i: usize) -> usize {
    i % OWNERS
}

fn set_clock(regs: &mut [Registry], t: DateTime<Utc>) {
    for r in regs {
        r.clock = Arc::new(FixedClock(t));
    }
}

/// Measurements per model: the first (the "hot" model, monitored every few minutes) takes a
/// twentieth of the total when there are several models; the rest share the remainder.
fn per_model(spec: &SeedSpec) -> Vec<usize> {
    let n = spec.models;
    if n == 0 {
        return Vec::new();
    }
    let hot = if n > 1 {
        spec.measurements / 20
    } else {
        spec.measurements
    };
    let rest = spec.measurements - hot;
    let mut v = vec![0; n];
    v[0] = hot;
    if n > 1 {
        let each = rest / (n - 1);
        let extra = rest % (n - 1);
        for (k, slot) in v.iter_mut().enumerate().skip(1) {
            *slot = each + usize::from(k - 1 < extra);
        }
    }
    v
}

enum Step {
    Setup,
    Rotations(i64),
    Approve(u8),
    Chunk(usize),
    Revoke,
    Accept,
    TopUp,
    Workflow,
}

/// Builds a synthetic registry in `dir` (new or empty) as of `now` and returns it open as the
/// admin, with what it holds. `progress` gets a line per phase.
pub fn seed_registry(
    dir: &Path,
    passphrase: &str,
    spec: &SeedSpec,
    now: DateTime<Utc>,
    progress: &mut dyn FnMut(&str),
) -> Result<(Registry, SeedReport)> {
    let started = Instant::now();
    let t0 = now - Duration::days(390);
    let (admin_email, admin_name, admin_roles) = SEED_MEMBERS[0];
    let mut admin = Registry::create(
        dir,
        &CreateRegistry {
            org: SEED_ORG.into(),
            email: admin_email.into(),
            name: admin_name.into(),
            roles: vec![admin_roles.into()],
        },
        passphrase,
        Arc::new(FixedClock(t0)),
    )?;
    for (email, name, roles) in &SEED_MEMBERS[1..] {
        admin.add_member(
            &AddMember {
                email: (*email).into(),
                name: (*name).into(),
                roles: vec![(*roles).into()],
            },
            passphrase,
        )?;
    }
    let mut regs = vec![admin];
    for (email, _, _) in &SEED_MEMBERS[1..] {
        regs.push(Registry::open_unswept(
            dir,
            email,
            passphrase,
            Arc::new(FixedClock(t0)),
        )?);
    }
    progress(&format!(
        "registry and {} members: {:.1} s",
        SEED_MEMBERS.len(),
        started.elapsed().as_secs_f64()
    ));

    let mut steps: Vec<(DateTime<Utc>, Step)> = vec![(t0, Step::Setup)];
    for r in 0..ROTATION_ROUNDS {
        steps.push((now - Duration::days(360 - 30 * r), Step::Rotations(r)));
    }
    steps.push((now - Duration::days(300), Step::Approve(1)));
    steps.push((now - Duration::days(151), Step::Approve(2)));
    let chunk_days = [270, 180, 90, 2];
    for (k, d) in chunk_days.iter().enumerate() {
        steps.push((now - Duration::days(*d), Step::Chunk(k)));
    }
    steps.push((now - Duration::days(60), Step::Revoke));
    steps.push((now - Duration::days(30), Step::Accept));
    steps.push((now - Duration::days(1), Step::TopUp));
    steps.push((now, Step::Workflow));
    steps.sort_by_key(|(t, _)| *t);

    let per = per_model(spec);
    let seed = spec.seed;
    // Rotations make up the events the other operations do not: estimate those.
    let other_events = spec.models * (4 + 2 + CHUNKS + 1) + spec.nhis * 21 / 20 + 1000;
    let rotation_budget = spec.events.saturating_sub(other_events);
    let per_round = rotation_budget * 97 / 100 / ROTATION_ROUNDS as usize;
    // NHIs that are rotated: four in five (the rest are neglected) and not revoked.
    let rotatable: Vec<usize> = (0..spec.nhis)
        .filter(|j| j % 5 != 4 && j % 50 != 17)
        .collect();
    let mut cursor = 0usize;
    let mut rotate = |reg: &mut Registry, n: usize, date: &str| -> Result<()> {
        if rotatable.is_empty() {
            return Ok(());
        }
        for _ in 0..n {
            let j = rotatable[cursor % rotatable.len()];
            cursor += 1;
            let _ = reg.rotate_nhi(&seed_nhi_name(j), date)?;
        }
        Ok(())
    };

    for (t, step) in steps {
        let phase = Instant::now();
        set_clock(&mut regs, t);
        let label = match step {
            Step::Setup => {
                regs[0].batch(|reg| setup(reg, spec, t0))?;
                "models, rights, thresholds, NHIs, links".to_string()
            }
            Step::Rotations(r) => {
                let date = t.date_naive().to_string();
                regs[0].batch(|reg| rotate(reg, per_round, &date))?;
                format!("rotation round {}", r + 1)
            }
            Step::Approve(round) => {
                for v in 0..VALIDATORS {
                    let who = VAL0 + v;
                    regs[who].batch(|reg| approvals(reg, spec, who, round, t))?;
                }
                format!("approval round {round}")
            }
            Step::Chunk(k) => {
                let from = if k == 0 {
                    now - Duration::days(365)
                } else {
                    now - Duration::days(chunk_days[k - 1])
                };
                regs[0].batch(|reg| {
                    for (i, n) in per.iter().enumerate() {
                        let rows = series(seed, i, *n, k, from, t);
                        if !rows.is_empty() {
                            reg.record_series(
                                &seed_model_name(i),
                                "seeded monitoring feed",
                                &rows,
                            )?;
                        }
                    }
                    reg.sweep()?;
                    Ok(())
                })?;
                format!("measurements, import {} of {CHUNKS}, and the sweep", k + 1)
            }
            Step::Revoke => {
                regs[0].batch(|reg| {
                    for j in (17..spec.nhis).step_by(50) {
                        reg.revoke_nhi(&seed_nhi_name(j), "Decommissioned with its service")?;
                    }
                    Ok(())
                })?;
                "revocations".to_string()
            }
            Step::Accept => {
                let until = (t + Duration::days(120)).date_naive().to_string();
                regs[0].batch(|reg| {
                    for j in (3..spec.nhis).step_by(100) {
                        let name = seed_nhi_name(j);
                        let view = reg.show_nhi(&name)?;
                        if let Some(f) = view.nhi.findings.first() {
                            reg.accept_nhi_finding(
                                &name,
                                &f.code,
                                &until,
                                "Compensating control: access limited to the batch network",
                            )?;
                        }
                    }
                    Ok(())
                })?;
                "accepted findings".to_string()
            }
            Step::TopUp => {
                let have = crate::audit::head(&regs[0].conn)?.0 as usize;
                // The workflow still to come writes about two events per open exception.
                let open: i64 = regs[0].conn.query_row(
                    "SELECT count(*) FROM exceptions WHERE state NOT IN ('dismissed', 'closed')",
                    [],
                    |r| r.get(0),
                )?;
                let need = spec.events.saturating_sub(have + 2 * open as usize + 1);
                let date = t.date_naive().to_string();
                regs[0].batch(|reg| rotate(reg, need, &date))?;
                format!("{need} more rotations to reach the event count")
            }
            Step::Workflow => {
                workflow(&mut regs, seed)?;
                // The estimate of the workflow's events was short: make up the rest today.
                let have = crate::audit::head(&regs[0].conn)?.0 as usize;
                let date = t.date_naive().to_string();
                let need = spec.events.saturating_sub(have);
                regs[0].batch(|reg| rotate(reg, need, &date))?;
                "sweep and the exception workflow".to_string()
            }
        };
        progress(&format!("{label}: {:.1} s", phase.elapsed().as_secs_f64()));
    }

    let mut regs = regs.into_iter();
    let mut admin = regs.next().expect("admin");
    drop(regs);
    admin.clock = Arc::new(FixedClock(now));
    let report = report(&admin, started)?;
    Ok((admin, report))
}

fn setup(reg: &mut Registry, spec: &SeedSpec, t0: DateTime<Utc>) -> Result<()> {
    const FUNCTIONS: &[&str] = &[
        "Retail lending",
        "Payments",
        "Marketing",
        "Claims",
        "Customer service",
        "Treasury",
    ];
    for i in 0..spec.models {
        let name = seed_model_name(i);
        let owner = SEED_MEMBERS[owner_of(i)].0;
        reg.add_model(&AddModel {
            name: name.clone(),
            version: "1.0".into(),
            owner: owner.into(),
            intended_use: format!("Synthetic model {i} for scale testing"),
            business_function: FUNCTIONS[i % FUNCTIONS.len()].into(),
            risk_tier: tier_of(i).into(),
            deployment_mode: Some(
                match i % 20 {
                    7 => "shadow",
                    13 => "canary",
                    _ => "production",
                }
                .into(),
            ),
            regulated: tier_of(i) == "high" || i % 7 == 0,
        })?;
        let complete = gate_complete(i);
        reg.set_decision_rights(
            &name,
            &SetDecisionRights {
                alert_recipients: Some(vec![owner.into(), SEED_MEMBERS[validator_of(i)].0.into()]),
                validator: complete.then(|| SEED_MEMBERS[validator_of(i)].0.into()),
                rollback: Some(owner.into()),
                approver: complete.then(|| SEED_MEMBERS[approver_of(i)].0.into()),
            },
        )?;
        reg.set_threshold(
            &name,
            &SetThreshold {
                metric: "psi".into(),
                breach: 0.25,
                warn: Some(0.1),
                direction: None,
            },
        )?;
        reg.set_threshold(
            &name,
            &SetThreshold {
                metric: format!("wasserstein:feature_{}", i % 8),
                breach: 0.2,
                warn: Some(0.1),
                direction: None,
            },
        )?;
    }
    const KINDS: &[(&str, &str)] = &[
        ("service-account", "GCP Vertex AI"),
        ("api-key", "Credit bureau API"),
        ("oauth-client", "Feature store"),
        ("token", "Data warehouse"),
        ("certificate", "Scoring gateway"),
        ("ssh-key", "Batch cluster"),
        ("secret", "Vault"),
    ];
    const ROTATION: &[i64] = &[30, 60, 90, 180, 365];
    for j in 0..spec.nhis {
        let mut rng = Rng::new(spec.seed, 2_000_003 + j as u64);
        let (kind, system) = KINDS[j % KINDS.len()];
        let last = t0 - Duration::days(rng.below(200) as i64);
        let expires = (j % 4 != 0).then(|| {
            (t0 + Duration::days(30 + rng.below(500) as i64))
                .date_naive()
                .to_string()
        });
        reg.add_nhi(&AddNhi {
            name: seed_nhi_name(j),
            kind: kind.into(),
            system: system.into(),
            owner: SEED_MEMBERS[j % OWNERS].0.into(),
            rotation_days: ROTATION[j % ROTATION.len()],
            last_rotated: Some(last.date_naive().to_string()),
            expires,
            environment: Some(
                if j % 20 == 0 {
                    "production,staging"
                } else if j % 3 == 0 {
                    "staging"
                } else {
                    "production"
                }
                .into(),
            ),
            scopes: vec![if j % 25 == 0 {
                "admin:*".into()
            } else {
                format!("features:read:{}", j % 13)
            }],
            identifier: Some(format!("svc-{j}@seed-project.iam.gserviceaccount.com")),
            human_use: j % 30 == 0,
        })?;
    }
    // Two identities per model; every fiftieth model shares one more with its neighbour.
    for i in 0..spec.models {
        let name = seed_model_name(i);
        for j in [2 * i, 2 * i + 1] {
            if j < spec.nhis {
                reg.link_nhi(&seed_nhi_name(j), &name, "Reads features and writes scores")?;
            }
        }
        if i % 50 == 0 && 2 * i + 2 < spec.nhis {
            reg.link_nhi(&seed_nhi_name(2 * i + 2), &name, "Shared batch credential")?;
        }
    }
    Ok(())
}

/// Approval round 1 (a year ago; every complete gate, for 150 days) or 2 (five months ago; nine
/// in ten models, for a span that depends on the risk tier: the rest lapse).
fn approvals(
    reg: &mut Registry,
    spec: &SeedSpec,
    who: usize,
    round: u8,
    t: DateTime<Utc>,
) -> Result<()> {
    for i in 0..spec.models {
        if !gate_complete(i) || approver_of(i) != who {
            continue;
        }
        let mut rng = Rng::new(spec.seed, 3_000_003 + i as u64 * 2 + round as u64);
        let days = if round == 1 {
            150
        } else {
            if i % 10 == 3 {
                continue;
            }
            match tier_of(i) {
                "high" => 155 + rng.below(24) as i64,
                "medium" => 200 + rng.below(160) as i64,
                _ => 300 + rng.below(400) as i64,
            }
        };
        reg.approve_model(
            &seed_model_name(i),
            &ApproveModel {
                until: (t + Duration::days(days)).date_naive().to_string(),
                note: (round == 2).then(|| "Periodic revalidation passed".to_string()),
            },
        )?;
    }
    Ok(())
}

/// Model `i`'s measurements of import `k` (of `CHUNKS`), observed in `[from, to)`: `psi` and
/// one Wasserstein distance, alternating.
fn series(
    seed: u64,
    i: usize,
    total: usize,
    k: usize,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(String, f64, String)> {
    let n = total / CHUNKS + usize::from(k < total % CHUNKS);
    let mut rng = Rng::new(seed, (i as u64) << 8 | k as u64);
    let drift = drift_of(seed, i);
    let span = (to - from).num_seconds().max(1);
    let wasserstein = format!("wasserstein:feature_{}", i % 8);
    (0..n)
        .map(|p| {
            let frac = p as f64 / n as f64;
            let at = from + Duration::seconds(span * p as i64 / n as i64);
            let psi = p % 2 == 0;
            let over = psi
                && match drift {
                    Drift::Calm => false,
                    Drift::Late => k == CHUNKS - 1 && frac >= 0.75,
                    Drift::Recovers => k == 2 && (0.4..0.6).contains(&frac),
                    Drift::Early => k == 1 && frac >= 0.3,
                };
            let value = if over {
                0.26 + 0.1 * rng.unit()
            } else if rng.below(50) == 0 {
                0.11 + 0.05 * rng.unit()
            } else {
                0.03 + 0.05 * rng.unit()
            };
            (
                if psi {
                    "psi".to_string()
                } else {
                    wasserstein.clone()
                },
                (value * 10_000.0).round() / 10_000.0,
                format_time(at),
            )
        })
        .collect()
}

/// The people act on the open exceptions: validators start, confirm or dismiss; owners flag an
/// impact or decide; approvers co-sign. Refusals (a transition the state machine does not allow
/// from where an exception is) are part of the game and skipped.
fn workflow(regs: &mut [Registry], seed: u64) -> Result<()> {
    regs[0].batch(|reg| reg.sweep().map(|_| ()))?;
    let open: Vec<(i64, usize, u64)> = {
        let mut st = regs[0].conn.prepare(
            "SELECT e.id, m.name FROM exceptions e JOIN models m ON m.id = e.model_id
             WHERE e.state NOT IN ('dismissed', 'closed') ORDER BY e.id",
        )?;
        let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        let mut v = Vec::new();
        for row in rows {
            let (id, name) = row?;
            if let Some(i) = model_index(&name) {
                v.push((id, i, Rng::new(seed, 4_000_003 + id as u64).below(10)));
            }
        }
        v
    };
    for v in 0..VALIDATORS {
        let who = VAL0 + v;
        regs[who].batch(|reg| {
            for &(id, i, h) in &open {
                if validator_of(i) != who || !gate_complete(i) {
                    continue;
                }
                let _ = match h {
                    2 => reg.start_validation(id).map(|_| ()),
                    4 => reg
                        .validate_exception(id, false, "Upstream schema change, not drift")
                        .map(|_| ()),
                    3 | 5 | 6 | 7 | 9 => reg
                        .validate_exception(id, true, "Confirmed against the reference window")
                        .map(|_| ()),
                    _ => Ok(()),
                };
            }
            Ok(())
        })?;
    }
    for (who, owner) in regs.iter_mut().enumerate().take(OWNERS) {
        owner.batch(|reg| {
            for &(id, i, h) in &open {
                if owner_of(i) != who {
                    continue;
                }
                let decide = |disposition: &str| DecideException {
                    disposition: disposition.into(),
                    rationale: "Reviewed the drift report with the validator".into(),
                    follow_up: None,
                };
                let _ = match h {
                    5 | 6 => reg
                        .decide_exception(id, &decide(if h == 5 { "tighten" } else { "keep" }))
                        .map(|_| ()),
                    7 => reg.decide_exception(id, &decide("retrain")).map(|_| ()),
                    9 => reg
                        .decide_exception(
                            id,
                            &decide(if id % 7 == 0 {
                                "rollback"
                            } else {
                                "revalidate"
                            }),
                        )
                        .map(|_| ()),
                    8 => reg
                        .flag_exception(id, "customer", "Approval rates moved for one segment")
                        .map(|_| ()),
                    _ => Ok(()),
                };
            }
            Ok(())
        })?;
    }
    for v in 0..VALIDATORS {
        let who = VAL0 + v;
        regs[who].batch(|reg| {
            for &(id, i, h) in &open {
                if h == 7 && approver_of(i) == who && gate_complete(i) {
                    let _ = reg.cosign_exception(id);
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn report(reg: &Registry, started: Instant) -> Result<SeedReport> {
    let count = |table: &str| -> Result<i64> {
        Ok(reg
            .conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
    };
    let mut exception_states = BTreeMap::new();
    {
        let mut st = reg
            .conn
            .prepare("SELECT state, count(*) FROM exceptions GROUP BY state ORDER BY state")?;
        for row in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (s, n) = row?;
            exception_states.insert(s, n);
        }
    }
    let models = count("models")?;
    Ok(SeedReport {
        dir: reg.dir.display().to_string(),
        members: count("members")?,
        models,
        nhis: count("nhis")?,
        nhi_links: count("nhi_links")?,
        measurements: count("measurements")?,
        imports: count("imports")?,
        approvals: count("approvals")?,
        exceptions: count("exceptions")?,
        exception_states,
        events: count("audit_events")?,
        hot_model: (models > 0).then(|| seed_model_name(0)),
        admin: SEED_MEMBERS[0].0.to_string(),
        seconds: started.elapsed().as_secs_f64(),
    })
}
