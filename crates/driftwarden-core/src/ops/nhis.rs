//! Non-human identities: metadata only, never the secret value. Register, link to models, rotate,
//! re-own, revoke, accept a finding; import and export the inventory. Findings (OWASP NHI Top 10)
//! are derived on every read, never stored.

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
    pub per_model: Vec<ModelPosture>,
    /// Weekly, oldest first, over the last 12 weeks.
    pub trend: Vec<TrendPoint>,
}

/// Findings are about the next 30 days.
const EXPIRING_WITHIN_DAYS: i64 = 30;

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
    let mut add = |code: &str, title: &str, detail: String| {
        out.push(Finding {
            code: code.into(),
            owasp: owasp(code).into(),
            title: title.into(),
            detail,
            accepted: accepted.get(&(v.id, code.to_string())).cloned(),
        });
    };
    let due = NaiveDate::parse_from_str(&v.rotation_due, "%Y-%m-%d").unwrap_or(NaiveDate::MAX);
    if today > due {
        add(
            "rotation-overdue",
            "Rotation overdue",
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
        Some(e) if e <= today => add("expired", "Expired", format!("expired on {e}")),
        Some(e) if (e - today).num_days() <= EXPIRING_WITHIN_DAYS => add(
            "expiring",
            "Expires soon",
            format!("expires on {e}, in {} days", (e - today).num_days()),
        ),
        Some(_) => {}
        None => add(
            "no-expiry",
            "No expiry date",
            "a credential that never expires is a long-lived secret".into(),
        ),
    }
    if !v.owner_active {
        add(
            "orphaned",
            "Owner offboarded",
            format!("{} has been offboarded; re-assign an owner", v.owner),
        );
    }
    let envs = environments(v.environment.as_deref());
    if envs.len() > 1 {
        add(
            "multi-environment",
            "Used in several environments",
            format!("used in {}", envs.join(", ")),
        );
    }
    if v.linked_models.len() > 1 {
        add(
            "shared",
            "Shared by several models",
            format!("used by {}", v.linked_models.join(", ")),
        );
    }
    if v.human_use {
        add(
            "human-use",
            "Used by people",
            "people use this identity interactively".into(),
        );
    }
    let privileged: Vec<&String> = v.scopes.iter().filter(|s| is_privileged(s)).collect();
    if !privileged.is_empty() {
        add(
            "overprivileged",
            "Admin or wildcard scope",
            format!(
                "scope {}",
                privileged
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    out
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
         expires, status, identifier, human_use, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'active', ?10, ?11, ?12, ?12)",
    )?
    .execute(params![
        n.name, n.kind.as_str(), n.system, owner, n.environment, serde_json::to_string(&n.scopes).expect("scopes"),
        n.rotation_days, last, exp, n.identifier, n.human_use as i64, w.now
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
        let today = self.clock.now().date_naive();
        let mut st = self
            .conn
            .prepare(&format!("{NHI_SELECT} WHERE {clause} ORDER BY n.name"))?;
        let mut rows = match id {
            Some(id) => st
                .query_map([id], nhi_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?,
            None => st
                .query_map([], nhi_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?,
        };
        let mut by_nhi: HashMap<i64, Vec<String>> = HashMap::new();
        {
            // Only the links of the NHIs selected: one NHI's view must not read every link.
            let mut push = |l: rusqlite::Result<NhiLinkView>| -> Result<()> {
                let l = l?;
                by_nhi.entry(l.nhi_id).or_default().push(l.model);
                Ok(())
            };
            match id {
                Some(id) => {
                    let mut links = self.conn.prepare_cached(&format!(
                        "{LINK_SELECT} WHERE l.nhi_id IN (SELECT n.id FROM nhis n WHERE {clause})
                         ORDER BY m.name, m.version"
                    ))?;
                    for l in links.query_map([id], link_row)? {
                        push(l)?;
                    }
                }
                None => {
                    let mut links = self
                        .conn
                        .prepare_cached(&format!("{LINK_SELECT} ORDER BY m.name, m.version"))?;
                    for l in links.query_map([], link_row)? {
                        push(l)?;
                    }
                }
            }
        }
        let accepted = acceptances(&self.conn, today)?;
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
            if let Some(e) = &environment {
                set("environment", V::Text(e.clone()), json!(e))?;
            }
            if let Some(s) = &scopes {
                set(
                    "scopes",
                    V::Text(serde_json::to_string(s).expect("scopes")),
                    json!(s),
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

    /// Rotation compliance across the registry and per model, open findings by kind, and the
    /// weekly trend over the last 12 weeks (computed from the rotation history).
    pub fn nhi_posture(&self) -> Result<Posture> {
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
            per_model,
            trend,
        })
    }
}
