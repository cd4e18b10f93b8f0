//! Models: register, update, list, show; decision rights.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use crate::domain::{check_text, ApprovalStatus, DeploymentMode, ModelStatus, RiskTier, Role};
use crate::error::{CoreError, Result};
use crate::ops::approvals::ApprovalView;
use crate::ops::members::{active_member_id, email_of, member_roles};
use crate::ops::nhis::{DependentFinding, NhiLinkView};
use crate::ops::thresholds::ThresholdView;
use crate::registry::Registry;

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct AddModel {
    pub name: String,
    pub version: String,
    pub owner: String,
    pub intended_use: String,
    pub business_function: String,
    pub risk_tier: String,
    /// Defaults to `production`.
    pub deployment_mode: Option<String>,
    #[serde(default)]
    pub regulated: bool,
}

/// Changes to a model; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct UpdateModel {
    pub owner: Option<String>,
    pub intended_use: Option<String>,
    pub business_function: Option<String>,
    pub risk_tier: Option<String>,
    pub deployment_mode: Option<String>,
    pub regulated: Option<bool>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ModelView {
    pub id: i64,
    pub name: String,
    pub version: String,
    /// `NAME` when one version is registered, else `NAME@VERSION`.
    pub display_name: String,
    pub intended_use: String,
    pub business_function: String,
    pub risk_tier: RiskTier,
    pub deployment_mode: DeploymentMode,
    pub regulated: bool,
    /// The accountable owner's email.
    pub owner: String,
    pub status: ModelStatus,
    /// approved, pending (never approved), lapsed, retired — derived from its approvals.
    pub approval_status: ApprovalStatus,
    /// The current or last approval's expiry (`YYYY-MM-DD`).
    pub approval_expires_on: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Decision rights: who is alerted, validates, may pause or roll back, and approves.
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export)]
pub struct DecisionRights {
    pub alert_recipients: Vec<String>,
    pub validator: Option<String>,
    pub rollback: Option<String>,
    pub approver: Option<String>,
}

/// Input of `set_decision_rights`: absent fields stay as they are; `alert_recipients`, when
/// given, replaces the list.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct SetDecisionRights {
    pub alert_recipients: Option<Vec<String>>,
    pub validator: Option<String>,
    pub rollback: Option<String>,
    pub approver: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ModelDetail {
    #[serde(flatten)]
    pub model: ModelView,
    pub decision_rights: DecisionRights,
    pub thresholds: Vec<ThresholdView>,
    pub nhis: Vec<NhiLinkView>,
    /// The latest approval, with its sign-off verified.
    pub approval: Option<ApprovalView>,
    /// Exceptions not yet closed or dismissed.
    pub open_exceptions: i64,
    /// Open findings on the identities the model depends on.
    pub nhi_findings: Vec<DependentFinding>,
}

pub(crate) const MODEL_SELECT: &str =
    "SELECT m.id, m.name, m.version, m.intended_use, m.business_function, m.risk_tier,
    m.deployment_mode, m.regulated, o.email, m.status, m.created_at, m.updated_at,
    (SELECT count(*) FROM models m2 WHERE m2.name = m.name),
    (SELECT a.status || ' ' || a.expires_on FROM approvals a WHERE a.model_id = m.id ORDER BY a.id DESC LIMIT 1)
    FROM models m JOIN members o ON o.id = m.owner_id";

pub(crate) fn model_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ModelView> {
    let name: String = r.get(1)?;
    let version: String = r.get(2)?;
    let versions: i64 = r.get(12)?;
    let word = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    Ok(ModelView {
        id: r.get(0)?,
        display_name: if versions > 1 {
            format!("{name}@{version}")
        } else {
            name.clone()
        },
        name,
        version,
        intended_use: r.get(3)?,
        business_function: r.get(4)?,
        risk_tier: RiskTier::parse("risk_tier", &word(5)?).unwrap_or(RiskTier::High),
        deployment_mode: DeploymentMode::parse("deployment_mode", &word(6)?)
            .unwrap_or(DeploymentMode::Production),
        regulated: r.get::<_, i64>(7)? != 0,
        owner: r.get(8)?,
        status: ModelStatus::parse("status", &word(9)?).unwrap_or(ModelStatus::Active),
        // Raw "<status> <expires_on>" until `finish` derives the approval state for today.
        approval_status: ApprovalStatus::Pending,
        approval_expires_on: r.get(13)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

/// Derives the approval state from the latest approval as of `today`.
pub(crate) fn finish(mut v: ModelView, today: chrono::NaiveDate) -> ModelView {
    let raw = v.approval_expires_on.take();
    let (status, expires) = match raw.as_deref().and_then(|r| r.split_once(' ')) {
        Some((s, e)) => (s.to_string(), Some(e.to_string())),
        None => (String::new(), None),
    };
    let lapsed = expires
        .as_deref()
        .and_then(|e| chrono::NaiveDate::parse_from_str(e, "%Y-%m-%d").ok())
        .is_some_and(|e| e <= today);
    v.approval_status = match (v.status, status.as_str()) {
        (ModelStatus::Retired, _) => ApprovalStatus::Retired,
        (_, "active") if !lapsed => ApprovalStatus::Approved,
        (_, "active" | "lapsed") => ApprovalStatus::Lapsed,
        _ => ApprovalStatus::Pending,
    };
    v.approval_expires_on = expires;
    v
}

fn check_model_name(field: &str, s: &str) -> Result<String> {
    let t = check_text(field, s, true, 200)?;
    if t.contains('@') {
        return Err(CoreError::invalid(
            field,
            "must not contain '@' (used for NAME@VERSION)",
        ));
    }
    Ok(t)
}

/// The owner must be an active member holding the `owner` role.
fn owner_id(conn: &rusqlite::Connection, email: &str) -> Result<i64> {
    let id = active_member_id(conn, "owner", email)?;
    if !member_roles(conn, id)?.contains(&Role::Owner) {
        return Err(CoreError::invalid(
            "owner",
            format!("{} does not hold the owner role", email.trim()),
        ));
    }
    Ok(id)
}

/// Resolves `NAME` or `NAME@VERSION` to a model id. `NAME` alone is ambiguous when several
/// versions are registered.
pub(crate) fn resolve_model(conn: &rusqlite::Connection, reference: &str) -> Result<i64> {
    let reference = reference.trim();
    if let Some((name, version)) = reference.rsplit_once('@') {
        return conn
            .query_row(
                "SELECT id FROM models WHERE name = ?1 AND version = ?2",
                params![name, version],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| CoreError::NotFound(format!("model {reference}")));
    }
    let mut st = conn.prepare("SELECT id, version FROM models WHERE name = ?1 ORDER BY id")?;
    let rows: Vec<(i64, String)> = st
        .query_map([reference], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    match rows.len() {
        0 => Err(CoreError::NotFound(format!("model {reference}"))),
        1 => Ok(rows[0].0),
        _ => Err(CoreError::invalid(
            "model",
            format!(
                "{reference} has several versions ({}); name one as NAME@VERSION",
                rows.iter()
                    .map(|(_, v)| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Refuses unless the actor is the model's accountable owner or an admin.
pub(crate) fn require_owner_or_admin(reg: &Registry, model_id: i64, action: &str) -> Result<()> {
    if reg.actor.has(Role::Admin) {
        return Ok(());
    }
    let owner: i64 = reg.conn.query_row(
        "SELECT owner_id FROM models WHERE id = ?1",
        [model_id],
        |r| r.get(0),
    )?;
    if owner == reg.actor.id {
        return Ok(());
    }
    Err(CoreError::Forbidden(format!(
        "{action} is for the model's accountable owner ({}) or an admin",
        email_of(&reg.conn, owner)?
    )))
}

impl Registry {
    pub fn model(&self, reference: &str) -> Result<ModelView> {
        let id = resolve_model(&self.conn, reference)?;
        self.model_by_id(id)
    }

    pub(crate) fn model_by_id(&self, id: i64) -> Result<ModelView> {
        let v = self
            .conn
            .query_row(&format!("{MODEL_SELECT} WHERE m.id = ?1"), [id], model_row)?;
        Ok(finish(v, self.clock.now().date_naive()))
    }

    pub fn list_models(&self) -> Result<Vec<ModelView>> {
        let mut st = self
            .conn
            .prepare(&format!("{MODEL_SELECT} ORDER BY m.name, m.version"))?;
        let today = self.clock.now().date_naive();
        let rows = st
            .query_map([], model_row)?
            .map(|r| r.map(|v| finish(v, today)))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// A model with its decision rights, thresholds and dependent NHIs.
    pub fn show_model(&self, reference: &str) -> Result<ModelDetail> {
        let id = resolve_model(&self.conn, reference)?;
        Ok(ModelDetail {
            model: self.model_by_id(id)?,
            decision_rights: self.decision_rights(id)?,
            thresholds: self.thresholds_of(id)?,
            nhis: self.nhi_links_of_model(id)?,
            approval: self.latest_approval(id)?,
            nhi_findings: self.dependent_findings(id)?,
            open_exceptions: self.conn.query_row(
                "SELECT count(*) FROM exceptions WHERE model_id = ?1 AND state NOT IN ('closed', 'dismissed')",
                [id],
                |r| r.get(0),
            )?,
        })
    }

    pub(crate) fn decision_rights(&self, model_id: i64) -> Result<DecisionRights> {
        let mut out = DecisionRights::default();
        let row: Option<(Option<i64>, Option<i64>, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT validator_id, rollback_id, approver_id FROM decision_rights WHERE model_id = ?1",
                [model_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        if let Some((v, rb, a)) = row {
            out.validator = v.map(|id| email_of(&self.conn, id)).transpose()?;
            out.rollback = rb.map(|id| email_of(&self.conn, id)).transpose()?;
            out.approver = a.map(|id| email_of(&self.conn, id)).transpose()?;
        }
        let mut st = self.conn.prepare(
            "SELECT m.email FROM alert_recipients a JOIN members m ON m.id = a.member_id
             WHERE a.model_id = ?1 AND a.active = 1 ORDER BY m.email",
        )?;
        out.alert_recipients = st
            .query_map([model_id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(out)
    }

    /// Registers a model (admin, owner or engineer). Name and version are unique together.
    pub fn add_model(&mut self, input: &AddModel) -> Result<ModelView> {
        self.actor.require_any(
            &[Role::Admin, Role::Owner, Role::Engineer],
            "registering a model",
        )?;
        let name = check_model_name("name", &input.name)?;
        let version = check_text("version", &input.version, true, 100)?;
        if version.contains('@') {
            return Err(CoreError::invalid("version", "must not contain '@'"));
        }
        let intended_use = check_text("intended_use", &input.intended_use, true, 2000)?;
        let business_function =
            check_text("business_function", &input.business_function, true, 500)?;
        let tier = RiskTier::parse("tier", &input.risk_tier)?;
        let mode = match &input.deployment_mode {
            Some(m) => DeploymentMode::parse("mode", m)?,
            None => DeploymentMode::Production,
        };
        let id = self.write(|w| {
            let owner = owner_id(w, &input.owner)?;
            let dup: Option<i64> = w
                .query_row(
                    "SELECT id FROM models WHERE name = ?1 AND version = ?2",
                    params![name, version],
                    |r| r.get(0),
                )
                .optional()?;
            if dup.is_some() {
                return Err(CoreError::InvalidInput {
                    field: "version".into(),
                    message: format!("model {name} version {version} is already registered"),
                });
            }
            w.execute(
                "INSERT INTO models (name, version, intended_use, business_function, risk_tier, deployment_mode,
                 regulated, owner_id, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'active', ?9, ?9)",
                params![name, version, intended_use, business_function, tier.as_str(), mode.as_str(),
                        input.regulated as i64, owner, w.now],
            )?;
            let id = w.last_insert_rowid();
            w.record(
                "model.register",
                "model",
                id,
                json!({
                    "name": name, "version": version, "intended_use": intended_use,
                    "business_function": business_function, "risk_tier": tier, "deployment_mode": mode,
                    "regulated": input.regulated, "owner": input.owner.trim().to_lowercase(),
                }),
            )?;
            Ok(id)
        })?;
        self.model_by_id(id)
    }

    /// Updates a model's descriptive fields or owner (its accountable owner or an admin).
    pub fn update_model(&mut self, reference: &str, input: &UpdateModel) -> Result<ModelView> {
        let id = resolve_model(&self.conn, reference)?;
        require_owner_or_admin(self, id, "updating a model")?;
        let before = self.model_by_id(id)?;
        let intended_use = input
            .intended_use
            .as_deref()
            .map(|s| check_text("intended_use", s, true, 2000))
            .transpose()?;
        let business_function = input
            .business_function
            .as_deref()
            .map(|s| check_text("business_function", s, true, 500))
            .transpose()?;
        let tier = input
            .risk_tier
            .as_deref()
            .map(|s| RiskTier::parse("tier", s))
            .transpose()?;
        let mode = input
            .deployment_mode
            .as_deref()
            .map(|s| DeploymentMode::parse("mode", s))
            .transpose()?;
        self.write(|w| {
            let owner = input.owner.as_deref().map(|e| owner_id(w, e)).transpose()?;
            let mut changes = serde_json::Map::new();
            if let Some(o) = owner {
                w.execute(
                    "UPDATE models SET owner_id = ?1 WHERE id = ?2",
                    params![o, id],
                )?;
                changes.insert(
                    "owner".into(),
                    json!({"from": before.owner, "to": email_of(w, o)?}),
                );
            }
            if let Some(v) = &intended_use {
                w.execute(
                    "UPDATE models SET intended_use = ?1 WHERE id = ?2",
                    params![v, id],
                )?;
                changes.insert(
                    "intended_use".into(),
                    json!({"from": before.intended_use, "to": v}),
                );
            }
            if let Some(v) = &business_function {
                w.execute(
                    "UPDATE models SET business_function = ?1 WHERE id = ?2",
                    params![v, id],
                )?;
                changes.insert(
                    "business_function".into(),
                    json!({"from": before.business_function, "to": v}),
                );
            }
            if let Some(v) = tier {
                w.execute(
                    "UPDATE models SET risk_tier = ?1 WHERE id = ?2",
                    params![v.as_str(), id],
                )?;
                changes.insert(
                    "risk_tier".into(),
                    json!({"from": before.risk_tier, "to": v}),
                );
            }
            if let Some(v) = mode {
                w.execute(
                    "UPDATE models SET deployment_mode = ?1 WHERE id = ?2",
                    params![v.as_str(), id],
                )?;
                changes.insert(
                    "deployment_mode".into(),
                    json!({"from": before.deployment_mode, "to": v}),
                );
            }
            if let Some(v) = input.regulated {
                w.execute(
                    "UPDATE models SET regulated = ?1 WHERE id = ?2",
                    params![v as i64, id],
                )?;
                changes.insert(
                    "regulated".into(),
                    json!({"from": before.regulated, "to": v}),
                );
            }
            if changes.is_empty() {
                return Err(CoreError::invalid("model", "nothing to change"));
            }
            w.execute(
                "UPDATE models SET updated_at = ?1 WHERE id = ?2",
                params![w.now, id],
            )?;
            w.record(
                "model.update",
                "model",
                id,
                serde_json::Value::Object(changes),
            )?;
            Ok(())
        })?;
        self.model_by_id(id)
    }

    /// Sets a model's decision rights (its accountable owner or an admin). The validator must
    /// hold the `validator` role and the business approver the `approver` role.
    pub fn set_decision_rights(
        &mut self,
        reference: &str,
        input: &SetDecisionRights,
    ) -> Result<DecisionRights> {
        let id = resolve_model(&self.conn, reference)?;
        require_owner_or_admin(self, id, "changing decision rights")?;
        let before = self.decision_rights(id)?;
        self.write(|w| {
            let with_role = |field: &str, email: &str, role: Role| -> Result<i64> {
                let mid = active_member_id(w, field, email)?;
                if !member_roles(w, mid)?.contains(&role) {
                    return Err(CoreError::invalid(
                        field,
                        format!("{} does not hold the {role} role", email.trim()),
                    ));
                }
                Ok(mid)
            };
            let validator = input.validator.as_deref().map(|e| with_role("validator", e, Role::Validator)).transpose()?;
            let approver = input.approver.as_deref().map(|e| with_role("approver", e, Role::Approver)).transpose()?;
            let rollback = input.rollback.as_deref().map(|e| active_member_id(w, "rollback", e)).transpose()?;
            let alerts = input
                .alert_recipients
                .as_ref()
                .map(|list| {
                    if list.is_empty() {
                        return Err(CoreError::invalid("alerts", "at least one alert recipient is required"));
                    }
                    list.iter().map(|e| active_member_id(w, "alerts", e)).collect::<Result<Vec<i64>>>()
                })
                .transpose()?;
            if validator.is_none() && approver.is_none() && rollback.is_none() && alerts.is_none() {
                return Err(CoreError::invalid("rights", "nothing to change"));
            }
            w.execute(
                "INSERT INTO decision_rights (model_id, updated_at) VALUES (?1, ?2)
                 ON CONFLICT(model_id) DO UPDATE SET updated_at = excluded.updated_at",
                params![id, w.now],
            )?;
            if let Some(v) = validator {
                w.execute("UPDATE decision_rights SET validator_id = ?1 WHERE model_id = ?2", params![v, id])?;
            }
            if let Some(v) = approver {
                w.execute("UPDATE decision_rights SET approver_id = ?1 WHERE model_id = ?2", params![v, id])?;
            }
            if let Some(v) = rollback {
                w.execute("UPDATE decision_rights SET rollback_id = ?1 WHERE model_id = ?2", params![v, id])?;
            }
            if let Some(list) = &alerts {
                w.execute("UPDATE alert_recipients SET active = 0 WHERE model_id = ?1", [id])?;
                for m in list {
                    w.execute(
                        "INSERT INTO alert_recipients (model_id, member_id, active) VALUES (?1, ?2, 1)
                         ON CONFLICT(model_id, member_id) DO UPDATE SET active = 1",
                        params![id, m],
                    )?;
                }
            }
            let after_email = |x: Option<i64>| x.map(|i| email_of(w, i)).transpose();
            w.record(
                "model.rights",
                "model",
                id,
                json!({
                    "before": before,
                    "validator": after_email(validator)?,
                    "approver": after_email(approver)?,
                    "rollback": after_email(rollback)?,
                    "alert_recipients": alerts.as_ref().map(|l| l.iter().map(|i| email_of(w, *i)).collect::<Result<Vec<_>>>()).transpose()?,
                }),
            )?;
            w.execute("UPDATE models SET updated_at = ?1 WHERE id = ?2", params![w.now, id])?;
            Ok(())
        })?;
        self.decision_rights(id)
    }
}
