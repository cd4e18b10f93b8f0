//! Approvals: the release gate, signed releases of a model and its threshold set, and lapse.

use chrono::{Months, NaiveDate};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ts_rs::TS;

use crate::domain::{check_text, parse_date, ModelStatus};
use crate::error::{CoreError, Result};
use crate::ops::members::email_of;
use crate::ops::models::resolve_model;
use crate::registry::Registry;
use crate::signing::{self, SignoffView};

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct ApproveModel {
    /// `YYYY-MM-DD`: the approval lapses at the start of this day.
    pub until: String,
    pub note: Option<String>,
}

/// One item of the release gate.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct GateItem {
    /// owner, threshold, alert_recipients, validator, rollback, approver, expiry
    pub item: String,
    pub label: String,
    pub ok: bool,
    /// What is missing, in plain words, when not ok.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ApprovalView {
    pub id: i64,
    pub model_id: i64,
    pub approver: String,
    pub approved_at: String,
    pub expires_on: String,
    pub note: Option<String>,
    /// active, superseded, lapsed, ended
    pub status: String,
    /// The threshold versions this approval released.
    pub threshold_ids: Vec<i64>,
    pub signoffs: Vec<SignoffView>,
}

/// The statement an approval sign-off covers, rebuilt from the records as they are now.
pub(crate) fn approval_statement(
    conn: &Connection,
    registry_id: &str,
    approval_id: i64,
) -> Result<Value> {
    let (model_id, name, version, approver, approved_at, expires_on, note): (i64, String, String, String, String, String, Option<String>) =
        conn.query_row(
            "SELECT m.id, m.name, m.version, (SELECT email FROM members WHERE id = a.approver_id), a.approved_at,
                    a.expires_on, a.note
             FROM approvals a JOIN models m ON m.id = a.model_id WHERE a.id = ?1",
            [approval_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )?;
    let mut st = conn.prepare_cached(
        "SELECT t.id, t.metric, t.version, t.breach, t.warn, t.direction FROM approval_thresholds x
         JOIN thresholds t ON t.id = x.threshold_id WHERE x.approval_id = ?1 ORDER BY t.metric, t.version",
    )?;
    let thresholds: Vec<Value> = st
        .query_map([approval_id], |r| {
            Ok(json!({
                "id": r.get::<_, i64>(0)?, "metric": r.get::<_, String>(1)?, "version": r.get::<_, i64>(2)?,
                "breach": r.get::<_, f64>(3)?, "warn": r.get::<_, Option<f64>>(4)?, "direction": r.get::<_, String>(5)?,
            }))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(json!({
        "type": "driftwarden.approval.v1",
        "registry_id": registry_id,
        "approval_id": approval_id,
        "model": { "id": model_id, "name": name, "version": version },
        "thresholds": thresholds,
        "approver": approver,
        "approved_at": approved_at,
        "expires_on": expires_on,
        "note": note,
    }))
}

impl Registry {
    /// The release gate for a model: every item, with what is missing. `until` is checked when
    /// given.
    pub fn approval_gate(&self, model: &str, until: Option<&str>) -> Result<Vec<GateItem>> {
        let id = resolve_model(&self.conn, model)?;
        self.gate(id, until)
    }

    fn gate(&self, model_id: i64, until: Option<&str>) -> Result<Vec<GateItem>> {
        let m = self.model_by_id(model_id)?;
        let rights = self.decision_rights(model_id)?;
        let thresholds: i64 = self.conn.query_row(
            "SELECT count(*) FROM thresholds WHERE model_id = ?1 AND status IN ('proposed', 'approved')",
            [model_id],
            |r| r.get(0),
        )?;
        let today = self.clock.now().date_naive();
        let max_months = self.policy()?.approval_max_months.get(m.risk_tier);
        let latest = today
            .checked_add_months(Months::new(max_months as u32))
            .unwrap_or(today);
        let expiry = match until {
            None => Some(format!("an expiry date (at most {max_months} months ahead for a {} risk model)", m.risk_tier)),
            Some(u) => match NaiveDate::parse_from_str(u.trim(), "%Y-%m-%d") {
                Err(_) => Some(format!("an expiry date as YYYY-MM-DD (got {:?})", u.trim())),
                Ok(d) if d <= today => Some(format!("an expiry date in the future ({d} is not after {today})")),
                Ok(d) if d > latest => Some(format!(
                    "an expiry date at most {max_months} months ahead for a {} risk model (by {latest}; got {d})",
                    m.risk_tier
                )),
                Ok(_) => None,
            },
        };
        let item = |item: &str, label: &str, missing: Option<String>| GateItem {
            item: item.into(),
            label: label.into(),
            ok: missing.is_none(),
            detail: missing,
        };
        Ok(vec![
            item("owner", "Accountable owner", None),
            item(
                "threshold",
                "At least one drift threshold",
                (thresholds == 0).then(|| "a drift threshold".to_string()),
            ),
            item(
                "alert_recipients",
                "Alert recipients",
                rights
                    .alert_recipients
                    .is_empty()
                    .then(|| "an alert recipient".to_string()),
            ),
            item(
                "validator",
                "Validator",
                rights
                    .validator
                    .is_none()
                    .then(|| "a validator".to_string()),
            ),
            item(
                "rollback",
                "Pause/rollback authority",
                rights
                    .rollback
                    .is_none()
                    .then(|| "someone with pause/rollback authority".to_string()),
            ),
            item(
                "approver",
                "Business approver",
                rights
                    .approver
                    .is_none()
                    .then(|| "a business approver".to_string()),
            ),
            item("expiry", "Expiry / review date", expiry),
        ])
    }

    /// Approves a model for its use until a date (its business approver only). Refused, listing
    /// every missing gate item, unless the gate is complete. Approves the model's proposed
    /// thresholds as a versioned set and signs the approval.
    pub fn approve_model(&mut self, model: &str, input: &ApproveModel) -> Result<ApprovalView> {
        let model_id = resolve_model(&self.conn, model)?;
        let m = self.model_by_id(model_id)?;
        if m.status == ModelStatus::Retired {
            return Err(CoreError::Conflict(format!(
                "{} is retired and cannot be approved",
                m.display_name
            )));
        }
        let gate = self.gate(model_id, Some(&input.until))?;
        let missing: Vec<String> = gate.iter().filter_map(|g| g.detail.clone()).collect();
        if !missing.is_empty() {
            return Err(CoreError::GateRefused {
                model: m.display_name.clone(),
                missing,
            });
        }
        let approver = self.decision_rights(model_id)?.approver.unwrap_or_default();
        if approver != self.actor.email {
            return Err(CoreError::Forbidden(format!(
                "approving {} is for its business approver ({approver})",
                m.display_name
            )));
        }
        let until = parse_date("until", &input.until)?;
        let note = input
            .note
            .as_deref()
            .map(|n| check_text("note", n, false, 4000))
            .transpose()?
            .filter(|n| !n.is_empty());
        let id = self.write(|w| {
            // Newly approved versions supersede the approved versions of the same metrics.
            w.execute(
                "UPDATE thresholds SET status = 'superseded' WHERE model_id = ?1 AND status = 'approved'
                 AND metric IN (SELECT metric FROM thresholds WHERE model_id = ?1 AND status = 'proposed')",
                [model_id],
            )?;
            w.execute("UPDATE thresholds SET status = 'approved' WHERE model_id = ?1 AND status = 'proposed'", [model_id])?;
            let superseded = w.execute(
                "UPDATE approvals SET status = 'superseded', ended_at = ?1, ended_reason = 'superseded by a new approval'
                 WHERE model_id = ?2 AND status IN ('active', 'lapsed')",
                params![w.now, model_id],
            )?;
            w.execute(
                "INSERT INTO approvals (model_id, approver_id, approved_at, expires_on, note, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'active')",
                params![model_id, w.actor.id, w.now, until.to_string(), note],
            )?;
            let id = w.last_insert_rowid();
            w.execute(
                "INSERT INTO approval_thresholds (approval_id, threshold_id)
                 SELECT ?1, id FROM thresholds WHERE model_id = ?2 AND status = 'approved'",
                params![id, model_id],
            )?;
            let statement = approval_statement(w, w.registry_id, id)?;
            let signoff = signing::sign(w, "approval", "approval", id, &statement)?;
            w.record(
                "model.approve",
                "model",
                model_id,
                json!({ "approval_id": id, "expires_on": until.to_string(), "note": note,
                        "thresholds": statement["thresholds"], "superseded_approvals": superseded, "signoff_id": signoff }),
            )?;
            Ok(id)
        })?;
        self.approval(id)
    }

    pub(crate) fn approval(&self, id: i64) -> Result<ApprovalView> {
        let mut v = self.conn.query_row(
            "SELECT a.id, a.model_id, a.approver_id, a.approved_at, a.expires_on, a.note, a.status
             FROM approvals a WHERE a.id = ?1",
            [id],
            |r| {
                Ok(ApprovalView {
                    id: r.get(0)?,
                    model_id: r.get(1)?,
                    approver: r.get::<_, i64>(2)?.to_string(),
                    approved_at: r.get(3)?,
                    expires_on: r.get(4)?,
                    note: r.get(5)?,
                    status: r.get(6)?,
                    threshold_ids: Vec::new(),
                    signoffs: Vec::new(),
                })
            },
        )?;
        v.approver = email_of(&self.conn, v.approver.parse().unwrap_or_default())?;
        let mut st = self.conn.prepare_cached("SELECT threshold_id FROM approval_thresholds WHERE approval_id = ?1 ORDER BY threshold_id")?;
        v.threshold_ids = st
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let conn = &self.conn;
        let registry_id = self.registry_id.clone();
        v.signoffs = signing::verify_all(conn, "approval", id, &|_, _, _| {
            approval_statement(conn, &registry_id, id)
        })?;
        Ok(v)
    }

    /// The model's latest approval (active, lapsed, ended or superseded), if any.
    pub(crate) fn latest_approval(&self, model_id: i64) -> Result<Option<ApprovalView>> {
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM approvals WHERE model_id = ?1 ORDER BY id DESC LIMIT 1",
                [model_id],
                |r| r.get(0),
            )
            .optional()?;
        id.map(|id| self.approval(id)).transpose()
    }

    /// Every approval of a model, newest first, with verified signatures.
    pub fn list_approvals(&self, model: &str) -> Result<Vec<ApprovalView>> {
        let model_id = resolve_model(&self.conn, model)?;
        let mut st = self
            .conn
            .prepare("SELECT id FROM approvals WHERE model_id = ?1 ORDER BY id DESC")?;
        let ids: Vec<i64> = st
            .query_map([model_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.into_iter().map(|id| self.approval(id)).collect()
    }
}
