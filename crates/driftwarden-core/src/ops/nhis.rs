//! Non-human identities: metadata only, never the secret value. Register, link to models, rotate,
//! re-own, revoke, accept a finding; import and export the inventory. Findings (OWASP NHI Top 10)
//! are derived on every read, never stored; what they need that does not depend on the day (the
//! flags of the rules, the link count, the next rotation date) and the search index are derived
//! columns of schema 7 (migrations/v7.sql), kept up to date in each writer's transaction.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use crate::domain::{check_text, parse_date, ApprovalStatus, NhiKind, NhiStatus, Role};
use crate::error::{CoreError, Result};
use crate::ops::members::active_member_id;
use crate::ops::models::{require_owner_or_admin, resolve_model};
use crate::registry::{Registry, Tx};
use crate::secrets::{refuse_secret, FieldKind};

#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct AddNhi {
    pub name: String,
    pub kind: String,
    pub system: String,
    pub owner: String,
    pub rotation_days: i64,
    /// `YYYY-MM-DD`.
    pub last_rotated: Option<String>,
    /// `YYYY-MM-DD`.
    pub expires: Option<String>,
    /// One environment, or several separated by commas (a finding: NHI8).
    pub environment: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The public identifier: an access key ID, an OAuth client ID, a service account's email.
    pub identifier: Option<String>,
    /// People use this identity interactively (a finding: NHI10).
    #[serde(default)]
    pub human_use: bool,
}

/// Changes to an NHI's metadata; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct UpdateNhi {
    pub system: Option<String>,
    pub rotation_days: Option<i64>,
    pub expires: Option<String>,
    pub environment: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub identifier: Option<String>,
    pub human_use: Option<bool>,
}

/// A finding accepted as a risk.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Acceptance {
    pub by: String,
    pub at: String,
    pub until: String,
    pub reason: String,
}

/// One finding on an NHI, mapped to the OWASP Non-Human Identity Top 10 (2025).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Finding {
    /// rotation-overdue, expired, expiring, no-expiry, orphaned, multi-environment, shared,
    /// human-use, overprivileged
    pub code: String,
    /// `NHI1` … `NHI10`
    pub owasp: String,
    pub title: String,
    pub detail: String,
    /// Set while the finding is accepted as a risk (until its date).
    pub accepted: Option<Acceptance>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct NhiView {
    pub id: i64,
    pub name: String,
    pub kind: NhiKind,
    pub system: String,
    pub owner: String,
    pub owner_active: bool,
    pub environment: Option<String>,
    pub scopes: Vec<String>,
    pub identifier: Option<String>,
    pub human_use: bool,
    pub rotation_days: i64,
    pub last_rotated: Option<String>,
    /// When the next rotation is due (`YYYY-MM-DD`).
    pub rotation_due: String,
    pub expires: Option<String>,
    pub status: NhiStatus,
    pub revoked_at: Option<String>,
    pub revoke_reason: Option<String>,
    /// Display names of the models that depend on it.
    pub linked_models: Vec<String>,
    /// Findings, accepted ones included (see `accepted`).
    pub findings: Vec<Finding>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct NhiLinkView {
    pub id: i64,
    pub nhi_id: i64,
    pub nhi: String,
    pub model_id: i64,
    pub model: String,
    pub model_approval_status: Option<ApprovalStatus>,
    pub usage: String,
    pub created_by: String,
    pub created_at: String,
}

/// An NHI with its blast radius: every model that depends on it, with its approval state.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct NhiDetail {
    #[serde(flatten)]
    pub nhi: NhiView,
    pub links: Vec<NhiLinkView>,
}

/// An open finding on an identity a model depends on.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DependentFinding {
    pub nhi: String,
    pub code: String,
    pub owasp: String,
    pub title: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct FindingCount {
    pub code: String,
    pub owasp: String,
    /// What the finding is, in words (the same title each finding of this code carries).
    pub title: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ModelPosture {
    pub model: String,
    pub nhis: i64,
    pub rotation_compliance_pct: Option<f64>,
    pub open_findings: i64,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct TrendPoint {
    pub date: String,
    pub rotation_compliance_pct: Option<f64>,
}

/// NHI posture: rotation compliance, findings by kind, per model, and the trend.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Posture {
    pub active_nhis: i64,
    /// Share of active NHIs rotated within their policy, in percent (none when there are none).
    pub rotation_compliance_pct: Option<f64>,
    pub open_findings: Vec<FindingCount>,
    /// By model name (as the query asked: whose models, only those with findings, how many).
    pub per_model: Vec<ModelPosture>,
    /// How many models the query matched in all (`per_model` may list fewer).
    pub per_model_total: i64,
    /// Weekly, oldest first, over the last 12 weeks.
    pub trend: Vec<TrendPoint>,
}

/// Findings are about the next 30 days.
const EXPIRING_WITHIN_DAYS: i64 = 30;

/// The title of a finding code, in words.
fn finding_title(code: &str) -> &'static str {
    match code {
        "rotation-overdue" => "Rotation overdue",
        "expired" => "Expired",
        "expiring" => "Expires soon",
        "no-expiry" => "No expiry date",
        "orphaned" => "Owner offboarded",
        "multi-environment" => "Used in several environments",
        "shared" => "Shared by several models",
        "human-use" => "Used by people",
        "overprivileged" => "Admin or wildcard scope",
        _ => "",
    }
}

fn owasp(code: &str) -> &'static str {
    match code {
        "orphaned" => "NHI1",
        "overprivileged" => "NHI5",
        "rotation-overdue" | "expired" | "expiring" | "no-expiry" => "NHI7",
        "multi-environment" => "NHI8",
        "shared" => "NHI9",
        "human-use" => "NHI10",
        _ => "",
    }
}

/// The finding codes `accept_nhi_finding` knows.
pub const FINDING_CODES: &[&str] = &[
    "rotation-overdue",
    "expired",
    "expiring",
    "no-expiry",
    "orphaned",
    "multi-environment",
    "shared",
    "human-use",
    "overprivileged",
];

fn environments(env: Option<&str>) -> Vec<String> {
    let mut v: Vec<String> = env
        .unwrap_or("")
        .split([',', ';'])
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn is_privileged(scope: &str) -> bool {
    let s = scope.to_lowercase();
    s == "*"
        || s.ends_with(":*")
        || s.ends_with("/*")
        || s.contains("admin")
        || s == "owner"
        || s.ends_with("/owner")
        || s.contains("full_access")
        || s.contains("fullaccess")
        || s.contains("all-access")
}

fn rotation_base(last_rotated: Option<&str>, created_at: &str) -> NaiveDate {
    last_rotated
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .or_else(|| NaiveDate::parse_from_str(created_at.get(..10).unwrap_or(""), "%Y-%m-%d").ok())
        .unwrap_or(NaiveDate::MIN)
}

/// `NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()`, without its general parser for the
/// `YYYY-MM-DD` the registry stores (anything else takes the general parser).
pub(crate) fn fast_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        if let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) {
            return NaiveDate::from_ymd_opt(y as i32, m, d);
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn plus_days(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_days(Days::new(n.max(0) as u64))
        .unwrap_or(NaiveDate::MAX)
}

/// Computes the findings of one NHI as of `today`.
fn findings_of(
    v: &NhiView,
    today: NaiveDate,
    accepted: &HashMap<(i64, String), Acceptance>,
) -> Vec<Finding> {
    if v.status == NhiStatus::Revoked {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut add = |code: &str, detail: String| {
        out.push(Finding {
            code: code.into(),
            owasp: owasp(code).into(),
            title: finding_title(code).into(),
            detail,
            accepted: accepted.get(&(v.id, code.to_string())).cloned(),
        });
    };
    let due = NaiveDate::parse_from_str(&v.rotation_due, "%Y-%m-%d").unwrap_or(NaiveDate::MAX);
    if today > due {
        add(
            "rotation-overdue",
            format!(
                "due {due} (every {} days); {} days overdue",
                v.rotation_days,
                (today - due).num_days()
            ),
        );
    }
    match v
        .expires
        .as_deref()
        .and_then(|e| NaiveDate::parse_from_str(e, "%Y-%m-%d").ok())
    {
        Some(e) if e <= today => add("expired", format!("expired on {e}")),
        Some(e) if (e - today).num_days() <= EXPIRING_WITHIN_DAYS => add(
            "expiring",
            format!("expires on {e}, in {} days", (e - today).num_days()),
        ),
        Some(_) => {}
        None => add(
            "no-expiry",
            "a credential that never expires is a long-lived secret".into(),
        ),
    }
    if !v.owner_active {
        add(
            "orphaned",
            format!("{} has been offboarded; re-assign an owner", v.owner),
        );
    }
    let envs = environments(v.environment.as_deref());
    if envs.len() > 1 {
        add("multi-environment", format!("used in {}", envs.join(", ")));
    }
    if v.linked_models.len() > 1 {
        add("shared", format!("used by {}", v.linked_models.join(", ")));
    }
    if v.human_use {
        add("human-use", "people use this identity interactively".into());
    }
    let privileged_scopes: Vec<&String> = v.scopes.iter().filter(|s| is_privileged(s)).collect();
    if !privileged_scopes.is_empty() {
        add(
            "overprivileged",
            format!(
                "scope {}",
                privileged_scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    out
}

/// An NHI's next rotation date in SQL (alias `n`), the same as [`rotation_base`] + [`plus_days`]
/// for the validated dates the registry stores. Written exactly like the expression of the index
/// `nhis_rotation_due` (schema v5) so that range queries and counts read the index.
pub(crate) const ROTATION_DUE_SQL: &str =
    "date(coalesce(n.last_rotated, substr(n.created_at, 1, 10)), '+' || n.rotation_days || ' days')";

/// Registers the SQL functions of the Rust finding rules (on every connection the opener makes,
/// before it migrates): `dw_multi_env(environment)` and `dw_privileged(scopes)`, with which
/// schema 7 fills the stored flags `nhis.multi_env` and `nhis.privileged` of existing NHIs (the
/// writers set them with [`multi_env`] and [`privileged`]), so SQL and [`findings_of`] cannot
/// disagree.
pub(crate) fn register_sql_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    // The list page, posture and calendar prepare about twenty statements between them: keep
    // them all prepared (rusqlite's default cache holds 16).
    conn.set_prepared_statement_cache_capacity(64);
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("dw_multi_env", 1, flags, |ctx| {
        let env: Option<String> = ctx.get(0)?;
        Ok(multi_env(env.as_deref()))
    })?;
    conn.create_scalar_function("dw_privileged", 1, flags, |ctx| {
        let scopes: Option<String> = ctx.get(0)?;
        let scopes: Vec<String> = scopes
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        Ok(privileged(&scopes))
    })?;
    Ok(())
}

/// The stored flag `nhis.multi_env` (schema 7): the multi-environment rule of [`findings_of`].
fn multi_env(environment: Option<&str>) -> bool {
    environments(environment).len() > 1
}

/// The stored flag `nhis.privileged` (schema 7): the overprivileged rule of [`findings_of`].
fn privileged(scopes: &[String]) -> bool {
    scopes.iter().any(|s| is_privileged(s))
}

/// SQL that is true when NHI `n` has the finding `code` as of `?1` (today,
/// `YYYY-MM-DD`), accepted or not: the same rules as [`findings_of`], the day-independent ones
/// read from the columns schema 7 stores (each with a partial index).
pub(crate) fn finding_sql(code: &str) -> Option<String> {
    let p = match code {
        "rotation-overdue" => format!("?1 > {ROTATION_DUE_SQL}"),
        "expired" => "n.expires <= ?1".into(),
        "expiring" => "n.expires > ?1 AND n.expires <= date(?1, '+30 days')".into(),
        "no-expiry" => "n.expires IS NULL".into(),
        "orphaned" => "n.owner_id IN (SELECT id FROM members WHERE status != 'active')".into(),
        "multi-environment" => "n.multi_env != 0".into(),
        "shared" => "n.link_count > 1".into(),
        "human-use" => "n.human_use != 0".into(),
        "overprivileged" => "n.privileged != 0".into(),
        _ => return None,
    };
    Some(format!("(n.status != 'revoked' AND ({p}))"))
}

/// SQL that is true when NHI `n` has the finding `code` open (not accepted) as of `?1`.
pub(crate) fn open_finding_sql(code: &str) -> Option<String> {
    let has = finding_sql(code)?;
    Some(format!(
        "({has} AND n.id NOT IN (SELECT nhi_id FROM nhi_acceptances WHERE finding = '{code}' AND until > ?1))"
    ))
}

const NHI_SELECT: &str =
    "SELECT n.id, n.name, n.kind, n.system, o.email, o.status, n.environment, n.scopes,
    n.identifier, n.human_use, n.rotation_days, n.last_rotated, n.expires, n.status, n.revoked_at,
    n.revoke_reason, n.created_at, n.updated_at
    FROM nhis n JOIN members o ON o.id = n.owner_id";

fn nhi_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NhiView> {
    let kind: String = r.get(2)?;
    let scopes: String = r.get(7)?;
    let status: String = r.get(13)?;
    let last_rotated: Option<String> = r.get(11)?;
    let created_at: String = r.get(16)?;
    let rotation_days: i64 = r.get(10)?;
    Ok(NhiView {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: NhiKind::parse("kind", &kind).unwrap_or(NhiKind::Secret),
        system: r.get(3)?,
        owner: r.get(4)?,
        owner_active: r.get::<_, String>(5)? == "active",
        environment: r.get(6)?,
        scopes: serde_json::from_str(&scopes).unwrap_or_default(),
        identifier: r.get(8)?,
        human_use: r.get::<_, i64>(9)? != 0,
        rotation_days,
        rotation_due: plus_days(
            rotation_base(last_rotated.as_deref(), &created_at),
            rotation_days,
        )
        .to_string(),
        last_rotated,
        expires: r.get(12)?,
        status: NhiStatus::parse("status", &status).unwrap_or(NhiStatus::Active),
        revoked_at: r.get(14)?,
        revoke_reason: r.get(15)?,
        linked_models: Vec::new(),
        findings: Vec::new(),
        created_at,
        updated_at: r.get(17)?,
    })
}

const LINK_SELECT: &str = "SELECT l.id, l.nhi_id, n.name, l.model_id, m.name, m.version,
    (SELECT count(*) FROM models m2 WHERE m2.name = m.name), l.usage, c.email, l.created_at
    FROM nhi_links l JOIN nhis n ON n.id = l.nhi_id JOIN models m ON m.id = l.model_id
    JOIN members c ON c.id = l.created_by";

fn link_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NhiLinkView> {
    let name: String = r.get(4)?;
    let version: String = r.get(5)?;
    let versions: i64 = r.get(6)?;
    Ok(NhiLinkView {
        id: r.get(0)?,
        nhi_id: r.get(1)?,
        nhi: r.get(2)?,
        model_id: r.get(3)?,
        model: if versions > 1 {
            format!("{name}@{version}")
        } else {
            name
        },
        model_approval_status: None,
        usage: r.get(7)?,
        created_by: r.get(8)?,
        created_at: r.get(9)?,
    })
}

fn nhi_id(conn: &Connection, name: &str) -> Result<i64> {
    conn.query_row("SELECT id FROM nhis WHERE name = ?1", [name.trim()], |r| {
        r.get(0)
    })
    .optional()?
    .ok_or_else(|| CoreError::NotFound(format!("NHI {}", name.trim())))
}

fn acceptances(conn: &Connection, today: NaiveDate) -> Result<HashMap<(i64, String), Acceptance>> {
    let mut st = conn.prepare_cached(
        "SELECT a.nhi_id, a.finding, m.email, a.accepted_at, a.until, a.reason FROM nhi_acceptances a
         JOIN members m ON m.id = a.accepted_by WHERE a.until > ?1 ORDER BY a.id",
    )?;
    let rows = st.query_map([today.to_string()], |r| {
        Ok((
            (r.get::<_, i64>(0)?, r.get::<_, String>(1)?),
            Acceptance {
                by: r.get(2)?,
                at: r.get(3)?,
                until: r.get(4)?,
                reason: r.get(5)?,
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The acceptances in force of some NHIs.
fn acceptances_of(
    conn: &Connection,
    today: NaiveDate,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<(i64, String), Acceptance>> {
    let ids = serde_json::to_string(&ids.collect::<Vec<_>>()).expect("ids");
    let mut st = conn.prepare_cached(
        "SELECT a.nhi_id, a.finding, m.email, a.accepted_at, a.until, a.reason FROM nhi_acceptances a
         JOIN members m ON m.id = a.accepted_by
         WHERE a.until > ?1 AND a.nhi_id IN (SELECT value FROM json_each(?2)) ORDER BY a.id",
    )?;
    let rows = st.query_map(params![today.to_string(), ids], |r| {
        Ok((
            (r.get::<_, i64>(0)?, r.get::<_, String>(1)?),
            Acceptance {
                by: r.get(2)?,
                at: r.get(3)?,
                until: r.get(4)?,
                reason: r.get(5)?,
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Validated input of one NHI registration.
struct NewNhi {
    name: String,
    kind: NhiKind,
    system: String,
    owner: String,
    rotation_days: i64,
    last_rotated: Option<NaiveDate>,
    expires: Option<NaiveDate>,
    environment: Option<String>,
    scopes: Vec<String>,
    identifier: Option<String>,
    human_use: bool,
}

fn check_rotation_days(days: i64) -> Result<i64> {
    if days < 1 {
        return Err(CoreError::invalid(
            "rotation_days",
            "must be a whole number of days, at least 1",
        ));
    }
    if days > 3650 {
        return Err(CoreError::invalid(
            "rotation_days",
            "must be at most 3650 days",
        ));
    }
    Ok(days)
}

fn check_environment(e: &str) -> Result<String> {
    let e = check_text("environment", e, true, 200)?;
    refuse_secret("environment", &e, FieldKind::KeyLike)?;
    Ok(e)
}

fn check_scopes(scopes: &[String]) -> Result<Vec<String>> {
    scopes
        .iter()
        .map(|s| {
            let s = check_text("scope", s, true, 500)?;
            refuse_secret("scope", &s, FieldKind::KeyLike)?;
            Ok(s)
        })
        .collect()
}

/// Identifiers are public by definition; they still may not be a secret format.
fn check_identifier(s: &str) -> Result<Option<String>> {
    let s = check_text("identifier", s, false, 500)?;
    Ok(if s.is_empty() { None } else { Some(s) })
}

/// Reads and validates an NHI inventory CSV (what [`Registry::import_nhis`] checks before it
/// stores anything): the rows with their line numbers, or the first bad row's error.
fn read_nhi_csv<R: std::io::Read>(
    file: &str,
    reader: R,
    today: NaiveDate,
) -> Result<Vec<(u64, NewNhi)>> {
    let mut rdr = csv::ReaderBuilder::new().from_reader(reader);
    let headers = rdr
        .headers()
        .map_err(|e| CoreError::invalid("header", format!("{file} line 1: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    for required in ["name", "kind", "system", "owner", "rotation_days"] {
        if col(required).is_none() {
            return Err(CoreError::invalid(
                "header",
                format!("{file} line 1: missing column {required:?}"),
            ));
        }
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            CoreError::invalid("row", format!("{file} line {line}: {e}"))
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let get = |name: &str| {
            col(name)
                .and_then(|i| rec.get(i))
                .map(str::trim)
                .unwrap_or("")
        };
        let at = |e: CoreError| match e {
            CoreError::InvalidInput { field, message } => {
                let message = message
                    .trim_start_matches(&format!("{field}: "))
                    .to_string();
                CoreError::InvalidInput {
                    message: format!("{file} line {line}: {message}"),
                    field,
                }
            }
            other => other,
        };
        let rotation_days: i64 = get("rotation_days").parse().map_err(|_| {
            CoreError::invalid(
                "rotation_days",
                format!(
                    "{file} line {line}: {:?} is not a whole number",
                    get("rotation_days")
                ),
            )
        })?;
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let input = AddNhi {
            name: get("name").into(),
            kind: get("kind").into(),
            system: get("system").into(),
            owner: get("owner").into(),
            rotation_days,
            last_rotated: opt(get("last_rotated")),
            expires: opt(get("expires")),
            environment: opt(get("environment")),
            scopes: get("scopes")
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            identifier: opt(get("identifier")),
            human_use: matches!(
                get("human_use").to_ascii_lowercase().as_str(),
                "true" | "yes" | "1"
            ),
        };
        rows.push((line, validate(&input, today).map_err(at)?));
    }
    Ok(rows)
}

/// Parses and validates an NHI inventory CSV without storing it; returns the number of rows.
/// Errors are those of [`Registry::import_nhis`] (file, line and field).
pub fn check_nhi_csv<R: std::io::Read>(file: &str, reader: R, today: NaiveDate) -> Result<usize> {
    read_nhi_csv(file, reader, today).map(|rows| rows.len())
}

fn validate(input: &AddNhi, today: NaiveDate) -> Result<NewNhi> {
    let name = check_text("name", &input.name, true, 200)?;
    refuse_secret("name", &name, FieldKind::KeyLike)?;
    let kind = NhiKind::parse("kind", &input.kind)?;
    let system = check_text("system", &input.system, true, 200)?;
    refuse_secret("system", &system, FieldKind::KeyLike)?;
    let rotation_days = check_rotation_days(input.rotation_days)?;
    let last_rotated = input
        .last_rotated
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(|d| parse_date("last_rotated", d))
        .transpose()?;
    if last_rotated.is_some_and(|d| d > today) {
        return Err(CoreError::invalid("last_rotated", "is in the future"));
    }
    let expires = input
        .expires
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(|d| parse_date("expires", d))
        .transpose()?;
    let environment = input
        .environment
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(check_environment)
        .transpose()?;
    let scopes = check_scopes(&input.scopes)?;
    let identifier = input
        .identifier
        .as_deref()
        .map(check_identifier)
        .transpose()?
        .flatten();
    Ok(NewNhi {
        name,
        kind,
        system,
        owner: input.owner.clone(),
        rotation_days,
        last_rotated,
        expires,
        environment,
        scopes,
        identifier,
        human_use: input.human_use,
    })
}

fn insert(w: &Tx<'_>, n: &NewNhi) -> Result<i64> {
    let owner = active_member_id(w, "owner", &n.owner)?;
    let dup: Option<i64> = w
        .prepare_cached("SELECT id FROM nhis WHERE name = ?1")?
        .query_row([&n.name], |r| r.get(0))
        .optional()?;
    if dup.is_some() {
        return Err(CoreError::invalid(
            "name",
            format!("an NHI named {} is already registered", n.name),
        ));
    }
    let last = n.last_rotated.map(|d| d.to_string());
    let exp = n.expires.map(|d| d.to_string());
    w.prepare_cached(
        "INSERT INTO nhis (name, kind, system, owner_id, environment, scopes, rotation_days, last_rotated,
         expires, status, identifier, human_use, created_at, updated_at, multi_env, privileged)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'active', ?10, ?11, ?12, ?12, ?13, ?14)",
    )?
    .execute(params![
        n.name, n.kind.as_str(), n.system, owner, n.environment, serde_json::to_string(&n.scopes).expect("scopes"),
        n.rotation_days, last, exp, n.identifier, n.human_use as i64, w.now,
        multi_env(n.environment.as_deref()) as i64, privileged(&n.scopes) as i64
    ])?;
    let id = w.last_insert_rowid();
    if let Some(l) = &last {
        w.prepare_cached("INSERT INTO nhi_rotations (nhi_id, rotated_on, kind, recorded_by, recorded_at) VALUES (?1, ?2, 'initial', ?3, ?4)")?
            .execute(params![id, l, w.actor.id, w.now])?;
    }
    w.record(
        "nhi.add",
        "nhi",
        id,
        json!({
            "name": n.name, "kind": n.kind, "system": n.system, "owner": n.owner.trim().to_lowercase(),
            "environment": n.environment, "scopes": n.scopes, "rotation_days": n.rotation_days,
            "last_rotated": last, "expires": exp, "identifier": n.identifier, "human_use": n.human_use,
        }),
    )?;
    Ok(id)
}

/// The header of the NHI inventory CSV (import and export).
pub const NHI_CSV_HEADER: &[&str] = &[
    "name",
    "kind",
    "system",
    "owner",
    "rotation_days",
    "last_rotated",
    "expires",
    "environment",
    "scopes",
    "identifier",
    "human_use",
];

impl Registry {
    fn links_where(&self, clause: &str, id: i64) -> Result<Vec<NhiLinkView>> {
        let mut st = self.conn.prepare_cached(&format!(
            "{LINK_SELECT} WHERE {clause} ORDER BY n.name, m.name, m.version"
        ))?;
        let mut rows = st
            .query_map([id], link_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for l in &mut rows {
            l.model_approval_status = Some(self.model_by_id(l.model_id)?.approval_status);
        }
        Ok(rows)
    }

    pub(crate) fn nhi_links_of_model(&self, model_id: i64) -> Result<Vec<NhiLinkView>> {
        self.links_where("l.model_id = ?1", model_id)
    }

    /// Every NHI with its linked models and findings, by name.
    pub fn list_nhis(&self) -> Result<Vec<NhiView>> {
        self.nhis_where("1 = 1", None)
    }

    fn nhis_where(&self, clause: &str, id: Option<i64>) -> Result<Vec<NhiView>> {
        match id {
            Some(id) => self.nhis_matching(clause, &[&id as &dyn rusqlite::ToSql], false),
            None => self.nhis_matching(clause, &[], true),
        }
    }

    /// The NHIs `clause` selects (parameters `args`), by name, with links and findings; `all`
    /// reads every link at once (the whole inventory), else only the selected NHIs' links.
    fn nhis_matching(
        &self,
        clause: &str,
        args: &[&dyn rusqlite::ToSql],
        all: bool,
    ) -> Result<Vec<NhiView>> {
        let today = self.clock.now().date_naive();
        let mut st = self
            .conn
            .prepare_cached(&format!("{NHI_SELECT} WHERE {clause} ORDER BY n.name"))?;
        let mut rows = st
            .query_map(args, nhi_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut by_nhi: HashMap<i64, Vec<String>> = HashMap::new();
        {
            let mut push = |l: rusqlite::Result<NhiLinkView>| -> Result<()> {
                let l = l?;
                by_nhi.entry(l.nhi_id).or_default().push(l.model);
                Ok(())
            };
            if all {
                let mut links = self
                    .conn
                    .prepare_cached(&format!("{LINK_SELECT} ORDER BY m.name, m.version"))?;
                for l in links.query_map([], link_row)? {
                    push(l)?;
                }
            } else {
                // Only the links of the NHIs selected: one NHI's view must not read every link.
                let mut links = self.conn.prepare_cached(&format!(
                    "{LINK_SELECT} WHERE l.nhi_id IN (SELECT n.id FROM nhis n WHERE {clause})
                     ORDER BY m.name, m.version"
                ))?;
                for l in links.query_map(args, link_row)? {
                    push(l)?;
                }
            }
        }
        let accepted = if all {
            acceptances(&self.conn, today)?
        } else {
            acceptances_of(&self.conn, today, rows.iter().map(|v| v.id))?
        };
        for v in &mut rows {
            v.linked_models = by_nhi.remove(&v.id).unwrap_or_default();
            v.findings = findings_of(v, today, &accepted);
        }
        Ok(rows)
    }

    fn nhi_by_id(&self, id: i64) -> Result<NhiView> {
        self.nhis_where("n.id = ?1", Some(id))?
            .pop()
            .ok_or_else(|| CoreError::NotFound(format!("NHI {id}")))
    }

    /// An NHI with its findings and blast radius.
    pub fn show_nhi(&self, name: &str) -> Result<NhiDetail> {
        let id = nhi_id(&self.conn, name)?;
        Ok(NhiDetail {
            nhi: self.nhi_by_id(id)?,
            links: self.links_where("l.nhi_id = ?1", id)?,
        })
    }

    /// Open findings on the identities a model depends on.
    pub(crate) fn dependent_findings(&self, model_id: i64) -> Result<Vec<DependentFinding>> {
        let mut out = Vec::new();
        for v in self.nhis_where(
            "n.id IN (SELECT nhi_id FROM nhi_links WHERE model_id = ?1)",
            Some(model_id),
        )? {
            for f in v.findings.into_iter().filter(|f| f.accepted.is_none()) {
                out.push(DependentFinding {
                    nhi: v.name.clone(),
                    code: f.code,
                    owasp: f.owasp,
                    title: f.title,
                    detail: f.detail,
                });
            }
        }
        Ok(out)
    }

    /// Registers an NHI (admin, owner or engineer). Metadata only: fields that look like a secret
    /// value are refused.
    pub fn add_nhi(&mut self, input: &AddNhi) -> Result<NhiView> {
        self.actor.require_any(
            &[Role::Admin, Role::Owner, Role::Engineer],
            "registering an NHI",
        )?;
        let n = validate(input, self.clock.now().date_naive())?;
        let id = self.write(|w| insert(w, &n))?;
        self.nhi_by_id(id)
    }

    /// Imports an NHI inventory CSV (header `NHI_CSV_HEADER`; scopes separated by `;`) in one
    /// transaction: a bad row imports nothing and is named by line and field.
    pub fn import_nhis(&mut self, path: &std::path::Path) -> Result<usize> {
        self.actor.require_any(
            &[Role::Admin, Role::Owner, Role::Engineer],
            "importing NHIs",
        )?;
        let file = path.display().to_string();
        let f = std::fs::File::open(path)
            .map_err(|e| CoreError::invalid("file", format!("cannot open {file}: {e}")))?;
        let rows = read_nhi_csv(&file, f, self.clock.now().date_naive())?;
        let n = rows.len();
        self.write(|w| {
            for (line, row) in &rows {
                insert(w, row).map_err(|e| match e {
                    CoreError::InvalidInput { field, message } => CoreError::InvalidInput {
                        message: format!("{file} line {line}: {message}"),
                        field,
                    },
                    other => other,
                })?;
            }
            w.record(
                "nhi.import",
                "registry",
                "nhis",
                json!({ "file": file, "rows": n }),
            )?;
            Ok(())
        })?;
        Ok(n)
    }

    /// The inventory as CSV (the import format), one row per NHI.
    pub fn export_nhis(&self, out: &mut dyn std::io::Write) -> Result<usize> {
        let list = self.list_nhis()?;
        let mut w = csv::Writer::from_writer(out);
        let io = |e: csv::Error| CoreError::Io(format!("writing the NHI export: {e}"));
        w.write_record(NHI_CSV_HEADER).map_err(io)?;
        for v in &list {
            w.write_record([
                v.name.as_str(),
                v.kind.as_str(),
                &v.system,
                &v.owner,
                &v.rotation_days.to_string(),
                v.last_rotated.as_deref().unwrap_or(""),
                v.expires.as_deref().unwrap_or(""),
                v.environment.as_deref().unwrap_or(""),
                &v.scopes.join(";"),
                v.identifier.as_deref().unwrap_or(""),
                if v.human_use { "true" } else { "false" },
            ])
            .map_err(io)?;
        }
        w.flush()
            .map_err(|e| CoreError::Io(format!("writing the NHI export: {e}")))?;
        Ok(list.len())
    }

    /// Links an NHI to a model that depends on it (the model's accountable owner or an admin).
    pub fn link_nhi(&mut self, nhi: &str, model: &str, usage: &str) -> Result<NhiLinkView> {
        let nid = nhi_id(&self.conn, nhi)?;
        let mid = resolve_model(&self.conn, model)?;
        require_owner_or_admin(self, mid, "linking an NHI to a model")?;
        let usage = check_text("usage", usage, true, 1000)?;
        let id = self.write(|w| {
            let dup: Option<i64> = w
                .query_row("SELECT id FROM nhi_links WHERE nhi_id = ?1 AND model_id = ?2", params![nid, mid], |r| r.get(0))
                .optional()?;
            if dup.is_some() {
                return Err(CoreError::AlreadyExists("this NHI is already linked to this model".into()));
            }
            w.execute(
                "INSERT INTO nhi_links (nhi_id, model_id, usage, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![nid, mid, usage, w.actor.id, w.now],
            )?;
            let id = w.last_insert_rowid();
            w.record("nhi.link", "nhi", nid, json!({ "link_id": id, "model_id": mid, "usage": usage }))?;
            Ok(id)
        })?;
        Ok(self.links_where("l.id = ?1", id)?.remove(0))
    }

    /// Refuses unless the actor owns the NHI or is an admin.
    fn require_nhi_owner(&self, id: i64, action: &str) -> Result<()> {
        if self.actor.has(Role::Admin) {
            return Ok(());
        }
        let (owner, email): (i64, String) = self.conn.query_row(
            "SELECT n.owner_id, m.email FROM nhis n JOIN members m ON m.id = n.owner_id WHERE n.id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if owner == self.actor.id {
            Ok(())
        } else {
            Err(CoreError::Forbidden(format!(
                "{action} is for the NHI's owner ({email}) or an admin"
            )))
        }
    }

    fn active_nhi(&self, name: &str, action: &str) -> Result<i64> {
        let id = nhi_id(&self.conn, name)?;
        self.require_nhi_owner(id, action)?;
        let status: String =
            self.conn
                .query_row("SELECT status FROM nhis WHERE id = ?1", [id], |r| r.get(0))?;
        if status == "revoked" {
            return Err(CoreError::Conflict(format!("{} is revoked", name.trim())));
        }
        Ok(id)
    }

    /// Records a rotation on a date (today or earlier, not before the last one).
    pub fn rotate_nhi(&mut self, name: &str, date: &str) -> Result<NhiView> {
        let id = self.active_nhi(name, "recording a rotation")?;
        let date = parse_date("date", date)?;
        let today = self.clock.now().date_naive();
        if date > today {
            return Err(CoreError::invalid("date", "is in the future"));
        }
        let last: Option<String> =
            self.conn
                .query_row("SELECT last_rotated FROM nhis WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?;
        if let Some(l) = last
            .as_deref()
            .and_then(|l| NaiveDate::parse_from_str(l, "%Y-%m-%d").ok())
        {
            if date < l {
                return Err(CoreError::invalid(
                    "date",
                    format!("is before the last recorded rotation ({l})"),
                ));
            }
        }
        self.write(|w| {
            w.execute("UPDATE nhis SET last_rotated = ?1, updated_at = ?2 WHERE id = ?3", params![date.to_string(), w.now, id])?;
            w.execute(
                "INSERT INTO nhi_rotations (nhi_id, rotated_on, kind, recorded_by, recorded_at) VALUES (?1, ?2, 'rotation', ?3, ?4)",
                params![id, date.to_string(), w.actor.id, w.now],
            )?;
            w.record("nhi.rotate", "nhi", id, json!({ "rotated_on": date.to_string(), "previous": last }))?;
            Ok(())
        })?;
        self.nhi_by_id(id)
    }

    /// Re-assigns an NHI's owner (its owner or an admin; an admin for an orphaned NHI).
    pub fn set_nhi_owner(&mut self, name: &str, email: &str) -> Result<NhiView> {
        let id = self.active_nhi(name, "re-assigning an NHI")?;
        self.write(|w| {
            let owner = active_member_id(w, "owner", email)?;
            let before: String = w.query_row(
                "SELECT m.email FROM nhis n JOIN members m ON m.id = n.owner_id WHERE n.id = ?1",
                [id],
                |r| r.get(0),
            )?;
            w.execute(
                "UPDATE nhis SET owner_id = ?1, updated_at = ?2 WHERE id = ?3",
                params![owner, w.now, id],
            )?;
            w.record(
                "nhi.owner",
                "nhi",
                id,
                json!({ "from": before, "to": email.trim().to_lowercase() }),
            )?;
            Ok(())
        })?;
        self.nhi_by_id(id)
    }

    /// Revokes an NHI: a state change, nothing deleted.
    pub fn revoke_nhi(&mut self, name: &str, reason: &str) -> Result<NhiView> {
        let id = self.active_nhi(name, "revoking an NHI")?;
        let reason = check_text("reason", reason, true, 2000)?;
        self.write(|w| {
            w.execute(
                "UPDATE nhis SET status = 'revoked', revoked_at = ?1, revoke_reason = ?2, updated_at = ?1 WHERE id = ?3",
                params![w.now, reason, id],
            )?;
            w.record("nhi.revoke", "nhi", id, json!({ "reason": reason }))?;
            Ok(())
        })?;
        self.nhi_by_id(id)
    }

    /// Changes an NHI's metadata (its owner or an admin).
    pub fn update_nhi(&mut self, name: &str, input: &UpdateNhi) -> Result<NhiView> {
        let id = self.active_nhi(name, "changing an NHI")?;
        let system = input
            .system
            .as_deref()
            .map(|s| {
                let s = check_text("system", s, true, 200)?;
                refuse_secret("system", &s, FieldKind::KeyLike)?;
                Ok::<_, CoreError>(s)
            })
            .transpose()?;
        let rotation_days = input.rotation_days.map(check_rotation_days).transpose()?;
        let expires = input
            .expires
            .as_deref()
            .map(|d| parse_date("expires", d))
            .transpose()?;
        let environment = input
            .environment
            .as_deref()
            .map(check_environment)
            .transpose()?;
        let scopes = input.scopes.as_deref().map(check_scopes).transpose()?;
        let identifier = input
            .identifier
            .as_deref()
            .map(check_identifier)
            .transpose()?;
        self.write(|w| {
            let mut changes = serde_json::Map::new();
            let mut set = |col: &str,
                           value: rusqlite::types::Value,
                           shown: serde_json::Value|
             -> Result<()> {
                w.execute(
                    &format!("UPDATE nhis SET {col} = ?1 WHERE id = ?2"),
                    params![value, id],
                )?;
                changes.insert(col.to_string(), shown);
                Ok(())
            };
            use rusqlite::types::Value as V;
            if let Some(s) = &system {
                set("system", V::Text(s.clone()), json!(s))?;
            }
            if let Some(d) = rotation_days {
                set("rotation_days", V::Integer(d), json!(d))?;
            }
            if let Some(e) = expires {
                set("expires", V::Text(e.to_string()), json!(e.to_string()))?;
            }
            // The stored flags of the rules follow their fields (schema 7; derived, not a
            // change of their own).
            if let Some(e) = &environment {
                set("environment", V::Text(e.clone()), json!(e))?;
                w.execute(
                    "UPDATE nhis SET multi_env = ?1 WHERE id = ?2",
                    params![multi_env(Some(e)) as i64, id],
                )?;
            }
            if let Some(s) = &scopes {
                set(
                    "scopes",
                    V::Text(serde_json::to_string(s).expect("scopes")),
                    json!(s),
                )?;
                w.execute(
                    "UPDATE nhis SET privileged = ?1 WHERE id = ?2",
                    params![privileged(s) as i64, id],
                )?;
            }
            if let Some(i) = &identifier {
                set(
                    "identifier",
                    i.clone().map(V::Text).unwrap_or(V::Null),
                    json!(i),
                )?;
            }
            if let Some(h) = input.human_use {
                set("human_use", V::Integer(h as i64), json!(h))?;
            }
            if changes.is_empty() {
                return Err(CoreError::invalid("nhi", "nothing to change"));
            }
            w.execute(
                "UPDATE nhis SET updated_at = ?1 WHERE id = ?2",
                params![w.now, id],
            )?;
            w.record("nhi.update", "nhi", id, serde_json::Value::Object(changes))?;
            Ok(())
        })?;
        self.nhi_by_id(id)
    }

    /// Accepts a current finding as a risk until a date (at most a year ahead), with a reason.
    /// The acceptance lapses at that date and the finding shows again.
    pub fn accept_nhi_finding(
        &mut self,
        name: &str,
        finding: &str,
        until: &str,
        reason: &str,
    ) -> Result<NhiView> {
        let id = self.active_nhi(name, "accepting a finding")?;
        let finding = finding.trim().to_lowercase();
        if !FINDING_CODES.contains(&finding.as_str()) {
            return Err(CoreError::invalid(
                "finding",
                format!(
                    "unknown finding {finding:?}; expected one of: {}",
                    FINDING_CODES.join(", ")
                ),
            ));
        }
        let current = self.nhi_by_id(id)?;
        if !current.findings.iter().any(|f| f.code == finding) {
            return Err(CoreError::invalid(
                "finding",
                format!("{} has no {finding} finding to accept", current.name),
            ));
        }
        let until = parse_date("until", until)?;
        let today = self.clock.now().date_naive();
        if until <= today || until > plus_days(today, 366) {
            return Err(CoreError::invalid(
                "until",
                "must be after today and at most a year ahead",
            ));
        }
        let reason = check_text("reason", reason, true, 2000)?;
        self.write(|w| {
            w.execute(
                "INSERT INTO nhi_acceptances (nhi_id, finding, reason, until, accepted_by, accepted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, finding, reason, until.to_string(), w.actor.id, w.now],
            )?;
            w.record(
                "nhi.accept",
                "nhi",
                id,
                json!({ "finding": finding, "owasp": owasp(&finding), "until": until.to_string(), "reason": reason }),
            )?;
            Ok(())
        })?;
        self.nhi_by_id(id)
    }

    /// The reference computation of [`Registry::nhi_posture`]: materialises every NHI with its
    /// findings in Rust. Kept for tests that check the SQL path against it; not for screens.
    pub fn nhi_posture_reference(&self) -> Result<Posture> {
        let today = self.clock.now().date_naive();
        let all = self.list_nhis()?;
        let active: Vec<&NhiView> = all
            .iter()
            .filter(|v| v.status == NhiStatus::Active)
            .collect();
        let pct = |list: &[&NhiView]| -> Option<f64> {
            if list.is_empty() {
                return None;
            }
            let ok = list
                .iter()
                .filter(|v| !v.findings.iter().any(|f| f.code == "rotation-overdue"))
                .count();
            Some((ok as f64 * 1000.0 / list.len() as f64).round() / 10.0)
        };
        let mut counts: HashMap<String, i64> = HashMap::new();
        for v in &active {
            for f in v.findings.iter().filter(|f| f.accepted.is_none()) {
                *counts.entry(f.code.clone()).or_default() += 1;
            }
        }
        let open_findings = FINDING_CODES
            .iter()
            .filter_map(|c| {
                counts.get(*c).map(|n| FindingCount {
                    code: c.to_string(),
                    owasp: owasp(c).into(),
                    title: finding_title(c).into(),
                    count: *n,
                })
            })
            .collect();
        let mut per_model = Vec::new();
        // Each model's active NHIs, from the links once (not a scan of every NHI per model).
        let mut by_model: HashMap<&str, Vec<&NhiView>> = HashMap::new();
        for v in &active {
            for m in &v.linked_models {
                by_model.entry(m.as_str()).or_default().push(v);
            }
        }
        for m in self.list_models()? {
            let Some(mine) = by_model.get(m.display_name.as_str()) else {
                continue;
            };
            per_model.push(ModelPosture {
                model: m.display_name.clone(),
                nhis: mine.len() as i64,
                rotation_compliance_pct: pct(mine),
                open_findings: mine
                    .iter()
                    .map(|v| v.findings.iter().filter(|f| f.accepted.is_none()).count() as i64)
                    .sum(),
            });
        }
        // The trend: for each week, the NHIs that existed and were not revoked, compliant when their
        // latest rotation on or before that day was within policy.
        let mut history: HashMap<i64, Vec<NaiveDate>> = HashMap::new();
        let mut st = self
            .conn
            .prepare("SELECT nhi_id, rotated_on FROM nhi_rotations ORDER BY rotated_on")?;
        for r in st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
            let (id, d) = r?;
            if let Ok(d) = NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
                history.entry(id).or_default().push(d);
            }
        }
        let trend = (0..12)
            .rev()
            .map(|weeks| {
                let day = today
                    .checked_sub_days(Days::new(weeks * 7))
                    .unwrap_or(today);
                let existing: Vec<&NhiView> = all
                    .iter()
                    .filter(|v| rotation_base(None, &v.created_at) <= day)
                    .filter(|v| {
                        v.revoked_at
                            .as_deref()
                            .is_none_or(|r| rotation_base(None, r) > day)
                    })
                    .collect();
                let ok = existing
                    .iter()
                    .filter(|v| {
                        let last = history
                            .get(&v.id)
                            .and_then(|h| h.iter().rev().find(|d| **d <= day).copied());
                        let base = last.unwrap_or_else(|| rotation_base(None, &v.created_at));
                        day <= plus_days(base, v.rotation_days)
                    })
                    .count();
                TrendPoint {
                    date: day.to_string(),
                    rotation_compliance_pct: (!existing.is_empty())
                        .then(|| (ok as f64 * 1000.0 / existing.len() as f64).round() / 10.0),
                }
            })
            .collect();
        Ok(Posture {
            active_nhis: active.len() as i64,
            rotation_compliance_pct: pct(&active),
            open_findings,
            per_model_total: per_model.len() as i64,
            per_model,
            trend,
        })
    }
}

/// Filters and page of the NHI inventory; absent filters match everything.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct NhiQuery {
    /// Part of the name, kind, system, owner, environment, identifier or a linked model's name
    /// (case-insensitive).
    pub search: Option<String>,
    /// api-key, service-account, oauth-client, … (an `NhiKind`)
    pub kind: Option<String>,
    /// active, revoked
    pub status: Option<String>,
    /// The environment field exactly as stored (the inventory's environment filter).
    pub environment: Option<String>,
    /// The owner's email ("mine" is the signed-in member's).
    pub owner: Option<String>,
    /// A finding code (`FINDING_CODES`), or `any`: NHIs with that (any) finding open, i.e. not
    /// accepted.
    pub finding: Option<String>,
    #[serde(default)]
    pub offset: i64,
    /// 1..=500
    pub limit: i64,
}

/// What [`Registry::nhi_posture_with`] computes.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct PostureQuery {
    /// Only the models this member owns in `per_model` (the home view); every model when absent.
    pub model_owner: Option<String>,
    /// Compute the 12-week trend (reads the rotation history); empty when false.
    #[serde(default)]
    pub trend: bool,
    /// Only the models with an open finding in `per_model`.
    #[serde(default)]
    pub findings_only: bool,
    /// List at most this many models in `per_model` (0..=`MAX_PAGE`; all when absent);
    /// `per_model_total` counts them all. A screen that shows a few asks for a few: every
    /// model of a large registry is hundreds of kilobytes to send and read.
    #[serde(default)]
    pub limit: Option<i64>,
}

/// One page of NHIs, by name, with their links and findings, and how many match in all.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct NhiPage {
    pub total: i64,
    pub offset: i64,
    pub items: Vec<NhiView>,
}

/// The joins every NHI query shares (`n` the NHI, `o` its owner).
const NHI_FROM: &str = "FROM nhis n JOIN members o ON o.id = n.owner_id";

impl Registry {
    /// One page of the NHI inventory: the filters in SQL, findings computed for the page only.
    pub fn list_nhis_page(&self, q: &NhiQuery) -> Result<NhiPage> {
        use rusqlite::types::Value;
        if q.offset < 0 {
            return Err(CoreError::invalid("offset", "must not be negative"));
        }
        if !(1..=crate::ops::pages::MAX_PAGE).contains(&q.limit) {
            return Err(CoreError::invalid(
                "limit",
                format!("must be between 1 and {}", crate::ops::pages::MAX_PAGE),
            ));
        }
        let today = self.clock.now().date_naive();
        // ?1 is always today (the finding predicates use it).
        let mut args: Vec<Value> = vec![Value::Text(today.to_string())];
        let mut conds: Vec<String> = Vec::new();
        let mut arg = |conds: &mut Vec<String>, sql: &str, v: String| {
            args.push(Value::Text(v));
            conds.push(sql.replace('#', &format!("?{}", args.len())));
        };
        let given = |o: &Option<String>| {
            o.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        if let Some(k) = given(&q.kind) {
            let k = NhiKind::parse("kind", &k)?;
            arg(&mut conds, "n.kind = #", k.as_str().to_string());
        }
        if let Some(st) = given(&q.status) {
            let st = NhiStatus::parse("status", &st)?;
            arg(&mut conds, "n.status = #", st.as_str().to_string());
        }
        if let Some(e) = q.environment.as_deref().filter(|e| !e.is_empty()) {
            arg(&mut conds, "coalesce(n.environment, '') = #", e.to_string());
        }
        if let Some(o) = given(&q.owner) {
            arg(&mut conds, "o.email = #", o.to_lowercase());
        }
        if let Some(s) = given(&q.search) {
            let s = s.to_lowercase();
            // Three characters or more: the trigram index (schema 7) finds the candidates, a
            // superset of the matches (it folds case as lower() does, and more), and the exact
            // test below decides. It does not hold owners' emails: a term that is part of one
            // scans, as do shorter terms, which a trigram index cannot look up.
            let in_an_email: bool = self
                .conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM members WHERE instr(lower(email), ?1) > 0)",
                )?
                .query_row([&s], |r| r.get(0))?;
            if s.chars().count() >= 3 && !in_an_email {
                arg(
                    &mut conds,
                    "n.id IN (SELECT rowid FROM nhi_search WHERE nhi_search MATCH #)",
                    format!("\"{}\"", s.replace('"', "\"\"")),
                );
            }
            arg(
                &mut conds,
                "(instr(lower(n.name), #) > 0 OR instr(lower(n.kind), #) > 0
                  OR instr(lower(n.system), #) > 0 OR instr(lower(o.email), #) > 0
                  OR instr(lower(coalesce(n.environment, '')), #) > 0
                  OR instr(lower(coalesce(n.identifier, '')), #) > 0
                  OR EXISTS (SELECT 1 FROM nhi_links l JOIN models m ON m.id = l.model_id
                             WHERE l.nhi_id = n.id
                               AND (instr(lower(m.name), #) > 0
                                    OR ((SELECT count(*) FROM models m2 WHERE m2.name = m.name) > 1
                                        AND instr(lower(m.name || '@' || m.version), #) > 0))))",
                s,
            );
        }
        // The finding rules last: evaluated only on the rows the other filters keep.
        if let Some(f) = given(&q.finding) {
            let f = f.to_lowercase();
            let sql = if f == "any" {
                let any: Vec<String> = FINDING_CODES
                    .iter()
                    .filter_map(|c| open_finding_sql(c))
                    .collect();
                format!("({})", any.join(" OR "))
            } else {
                open_finding_sql(&f).ok_or_else(|| {
                    CoreError::invalid(
                        "finding",
                        format!(
                            "unknown finding {f:?}; expected any or one of: {}",
                            FINDING_CODES.join(", ")
                        ),
                    )
                })?
            };
            conds.push(sql);
        }
        conds.insert(0, "?1 IS NOT NULL".into());
        let clause = conds.join(" AND ");
        let total: i64 = self
            .conn
            .prepare_cached(&format!("SELECT count(*) {NHI_FROM} WHERE {clause}"))?
            .query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
        let ids: Vec<i64> = {
            let mut page_args = args.clone();
            page_args.push(Value::Integer(q.limit));
            page_args.push(Value::Integer(q.offset));
            let n = page_args.len();
            let mut st = self.conn.prepare_cached(&format!(
                "SELECT n.id {NHI_FROM} WHERE {clause} ORDER BY n.name LIMIT ?{} OFFSET ?{n}",
                n - 1
            ))?;
            let rows = st.query_map(rusqlite::params_from_iter(page_args.iter()), |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let ids = serde_json::to_string(&ids).expect("ids");
        let items = self.nhis_matching(
            "n.id IN (SELECT value FROM json_each(?1))",
            &[&ids as &dyn rusqlite::ToSql],
            false,
        )?;
        Ok(NhiPage {
            total,
            offset: q.offset,
            items,
        })
    }

    /// Rotation compliance across the registry and per model, open findings by kind, and the
    /// weekly trend over the last 12 weeks (computed from the rotation history). Counted with
    /// aggregate SQL (the same rules as the findings of one NHI); see
    /// [`Registry::nhi_posture_reference`].
    pub fn nhi_posture(&self) -> Result<Posture> {
        self.nhi_posture_with(&PostureQuery {
            trend: true,
            ..Default::default()
        })
    }

    /// [`Registry::nhi_posture`] for a screen: `per_model` only for the models `model_owner`
    /// owns (every model when absent), and the trend only when asked for (else empty).
    pub fn nhi_posture_with(&self, q: &PostureQuery) -> Result<Posture> {
        let limit = crate::ops::pages::item_limit("limit", q.limit)?.unwrap_or(usize::MAX);
        let today = self.clock.now().date_naive();
        let t = today.to_string();
        let pred = |c: &str| finding_sql(c).expect("a finding code");
        // Each count reads an index (schema 5, or the flags of schema 7) rather than every NHI.
        // Every NHI (a count of the table's pages) less the revoked few.
        let active: i64 = self
            .conn
            .prepare_cached(
                "SELECT (SELECT count(*) FROM nhis) - (SELECT count(*) FROM nhis WHERE status = 'revoked')",
            )?
            .query_row([], |r| r.get(0))?;
        let mut counts = Vec::new();
        for c in FINDING_CODES {
            // Shared: from the links' index to the NHIs (`+` keeps the status index out of it).
            let active = if *c == "shared" {
                "+n.status = 'active'"
            } else {
                "n.status = 'active'"
            };
            counts.push(
                self.conn
                    .prepare_cached(&format!(
                        "SELECT count(*) FROM nhis n WHERE {active} AND {} AND ?1 IS NOT NULL",
                        pred(c)
                    ))?
                    .query_row([&t], |r| r.get::<_, i64>(0))?,
            );
        }
        // The accepted findings that are current, on active NHIs.
        let cases: Vec<String> = FINDING_CODES
            .iter()
            .map(|c| format!("WHEN '{c}' THEN {}", pred(c)))
            .collect();
        let accepted_sql = format!(
            "SELECT DISTINCT a.nhi_id, a.finding FROM nhi_acceptances a CROSS JOIN nhis n ON n.id = a.nhi_id
             WHERE a.until > ?1 AND n.status = 'active' AND (CASE a.finding {} ELSE 0 END)",
            cases.join(" ")
        );
        let mut accepted_by_code: HashMap<String, i64> = HashMap::new();
        {
            let mut st = self.conn.prepare_cached(&format!(
                "SELECT x.finding, count(*) FROM ({accepted_sql}) x GROUP BY x.finding"
            ))?;
            for r in st.query_map([&t], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
                let (c, n) = r?;
                accepted_by_code.insert(c, n);
            }
        }
        let overdue = counts[0];
        let open_findings = FINDING_CODES
            .iter()
            .zip(&counts)
            .map(|(c, n)| FindingCount {
                code: c.to_string(),
                owasp: owasp(c).into(),
                title: finding_title(c).into(),
                count: n - accepted_by_code.get(*c).copied().unwrap_or(0),
            })
            .filter(|f| f.count > 0)
            .collect();
        let pct = |n: i64, overdue: i64| {
            (n > 0).then(|| ((n - overdue) as f64 * 1000.0 / n as f64).round() / 10.0)
        };
        // Per model: its active NHIs, their rotation compliance and open findings.
        let owner = q.model_owner.as_deref().map(|e| e.trim().to_lowercase());
        // One member's models: from their models to the links to the NHIs, in that order
        // (CROSS JOIN), not a scan of every NHI.
        let (links, models) = if owner.is_some() {
            (
                "members w CROSS JOIN models wm ON wm.owner_id = w.id
                 CROSS JOIN nhi_links l ON l.model_id = wm.id",
                "w.email = ?2",
            )
        } else {
            ("nhi_links l", "?2 IS NULL")
        };
        let accepted_models = if owner.is_some() {
            // `+`: a filter on the few accepted links, not a probe per accepted NHI and model.
            "+l.model_id IN (SELECT wm.id FROM members w JOIN models wm ON wm.owner_id = w.id
                             WHERE w.email = ?2)"
        } else {
            "?2 IS NULL"
        };
        let mut accepted_by_model: HashMap<i64, i64> = HashMap::new();
        {
            let mut st = self.conn.prepare_cached(&format!(
                "SELECT l.model_id, count(*) FROM ({accepted_sql}) x CROSS JOIN nhi_links l ON l.nhi_id = x.nhi_id
                 WHERE {accepted_models} GROUP BY l.model_id"
            ))?;
            for r in st.query_map(params![t, owner], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            })? {
                let (m, n) = r?;
                accepted_by_model.insert(m, n);
            }
        }
        // Each model's active NHIs, overdue rotations and findings, by model id: the findings of
        // each linked active NHI from its stored columns (schema 7), rotation overdue
        // (`rotation_due` is ROTATION_DUE_SQL), expired or expiring (expires within 30 days) or
        // no expiry, the day-independent ones counted in `static_findings`; summed per model
        // (the links in model order, index nhi_links_model_nhi); then orphaned. The same rules
        // as finding_sql; tests/nhi_sql.rs checks both against findings_of.
        let mut sums: HashMap<i64, (i64, i64, i64)> = HashMap::new();
        {
            let mut st = self.conn.prepare_cached(&format!(
                "SELECT l.model_id, count(*), sum(coalesce(?1 > n.rotation_due, 0)),
                        sum(coalesce(n.expires <= date(?1, '+{EXPIRING_WITHIN_DAYS} days'), 1)
                            + n.static_findings)
                 FROM {links} CROSS JOIN nhis n ON n.id = l.nhi_id
                 WHERE n.status = 'active' AND {models} GROUP BY l.model_id"
            ))?;
            let mut rows = st.query(params![t, owner])?;
            while let Some(r) = rows.next()? {
                let overdue: i64 = r.get(2)?;
                sums.insert(
                    r.get(0)?,
                    (r.get(1)?, overdue, overdue + r.get::<_, i64>(3)?),
                );
            }
        }
        {
            // Orphaned: from the members who left to their active NHIs to the links (usually
            // nothing to read), not a test on every link.
            let mut st = self.conn.prepare_cached(&format!(
                "SELECT l.model_id, count(*) FROM members o CROSS JOIN nhis n ON n.owner_id = o.id
                 CROSS JOIN nhi_links l ON l.nhi_id = n.id
                 WHERE o.status != 'active' AND n.status = 'active' AND {accepted_models}
                   AND ?1 IS NOT NULL
                 GROUP BY l.model_id"
            ))?;
            let mut rows = st.query(params![t, owner])?;
            while let Some(r) = rows.next()? {
                if let Some(s) = sums.get_mut(&r.get::<_, i64>(0)?) {
                    s.2 += r.get::<_, i64>(1)?;
                }
            }
        }
        // Those models by name and version (the order of the index on them, no sort), each
        // named `name@version` when its name has several versions (adjacent in that order).
        let mut per_model = Vec::new();
        {
            let mut st = self
                .conn
                .prepare_cached("SELECT id, name, version FROM models ORDER BY name, version")?;
            let mut rows = st.query([])?;
            // The models of one name: (id, version).
            let mut name = String::new();
            let mut group: Vec<(i64, String)> = Vec::new();
            let mut flush = |name: &str, group: &mut Vec<(i64, String)>| {
                for (id, version) in group.iter() {
                    if let Some((nhis, overdue, findings)) = sums.get(id).copied() {
                        per_model.push(ModelPosture {
                            model: if group.len() > 1 {
                                format!("{name}@{version}")
                            } else {
                                name.to_string()
                            },
                            nhis,
                            rotation_compliance_pct: pct(nhis, overdue),
                            open_findings: findings
                                - accepted_by_model.get(id).copied().unwrap_or(0),
                        });
                    }
                }
                group.clear();
            };
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let n = r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
                if n != name {
                    flush(&name, &mut group);
                    name = n.to_string();
                }
                let version = if sums.contains_key(&id) {
                    r.get::<_, String>(2)?
                } else {
                    String::new()
                };
                group.push((id, version));
            }
            flush(&name, &mut group);
        }
        if q.findings_only {
            per_model.retain(|p| p.open_findings > 0);
        }
        let per_model_total = per_model.len() as i64;
        per_model.truncate(limit);
        Ok(Posture {
            active_nhis: active,
            rotation_compliance_pct: pct(active, overdue),
            open_findings,
            per_model,
            per_model_total,
            trend: if q.trend {
                self.rotation_trend(today)?
            } else {
                Vec::new()
            },
        })
    }

    /// Weekly rotation compliance over the last 12 weeks, oldest first: for each week's day, the
    /// NHIs that existed and were not revoked, compliant when their latest rotation on or before
    /// that day (else their registration) was within policy. One pass over the NHIs and one over
    /// the rotation history's index, both in NHI order.
    fn rotation_trend(&self, today: NaiveDate) -> Result<Vec<TrendPoint>> {
        let days: Vec<NaiveDate> = (0..12)
            .rev()
            .map(|weeks| {
                today
                    .checked_sub_days(Days::new(weeks * 7))
                    .unwrap_or(today)
            })
            .collect();
        let mut existing = [0i64; 12];
        let mut ok = [0i64; 12];
        let mut nhis = self.conn.prepare_cached(
            "SELECT id, substr(created_at, 1, 10), substr(revoked_at, 1, 10), rotation_days
             FROM nhis ORDER BY id",
        )?;
        let mut rots = self.conn.prepare_cached(
            "SELECT nhi_id, rotated_on FROM nhi_rotations ORDER BY nhi_id, rotated_on",
        )?;
        let mut rot_rows = rots.query([])?;
        let mut pending: Option<(i64, Option<NaiveDate>)> = None;
        let mut history: Vec<NaiveDate> = Vec::new();
        let date = |s: &str| fast_date(s);
        let mut rows = nhis.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let created = date(&r.get::<_, String>(1)?).unwrap_or(NaiveDate::MIN);
            let revoked: Option<NaiveDate> = r
                .get::<_, Option<String>>(2)?
                .map(|s| date(&s).unwrap_or(NaiveDate::MIN));
            let rotation_days: i64 = r.get(3)?;
            history.clear();
            loop {
                if pending.is_none() {
                    pending = match rot_rows.next()? {
                        Some(x) => Some((x.get(0)?, x.get_ref(1)?.as_str().ok().and_then(date))),
                        None => break,
                    };
                }
                let (nid, on) = pending.expect("a rotation");
                if nid > id {
                    break;
                }
                if nid == id {
                    if let Some(d) = on {
                        history.push(d);
                    }
                }
                pending = None;
            }
            for (i, day) in days.iter().enumerate() {
                if created > *day || revoked.is_some_and(|r| r <= *day) {
                    continue;
                }
                existing[i] += 1;
                let last = history.iter().rev().find(|d| **d <= *day).copied();
                if *day <= plus_days(last.unwrap_or(created), rotation_days) {
                    ok[i] += 1;
                }
            }
        }
        Ok(days
            .iter()
            .enumerate()
            .map(|(i, day)| TrendPoint {
                date: day.to_string(),
                rotation_compliance_pct: (existing[i] > 0)
                    .then(|| (ok[i] as f64 * 1000.0 / existing[i] as f64).round() / 10.0),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_finding_code_has_a_title_and_an_owasp_id_of_its_own() {
        let titles: std::collections::HashSet<&str> =
            FINDING_CODES.iter().map(|c| finding_title(c)).collect();
        assert_eq!(titles.len(), FINDING_CODES.len(), "{titles:?}");
        for c in FINDING_CODES {
            assert!(!finding_title(c).is_empty(), "{c}");
            assert!(owasp(c).starts_with("NHI"), "{c}");
        }
        assert_eq!(finding_title("not-a-code"), "");
    }
}
