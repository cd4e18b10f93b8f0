//! Exceptions: the governed record opened when a measurement crosses an approved breach level or
//! an approval lapses. Every transition goes through `workflow::next`, checks the actor's decision
//! rights, and writes its audit event in the same transaction.

use chrono::{Days, NaiveDate};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ts_rs::TS;

use crate::domain::{
    check_text, parse_date, DeploymentMode, Disposition, ExceptionKind, ExceptionState, Impact,
    ModelStatus, RiskTier, Role, Validation,
};
use crate::error::{CoreError, Result};
use crate::ops::members::email_of;
use crate::ops::models::resolve_model;
use crate::ops::nhis::DependentFinding;
use crate::policy::Policy;
use crate::registry::{Registry, Tx};
use crate::signing::{self, SignoffView};
use crate::workflow::{self, Action};

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct EscalationView {
    pub at: String,
    /// validate-deadline, decide-deadline, impact:customer, impact:compliance, impact:financial
    pub rule: String,
    pub reason: String,
    pub routed_to: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ExceptionView {
    pub id: i64,
    pub model_id: i64,
    pub model: String,
    pub kind: ExceptionKind,
    pub metric: Option<String>,
    pub threshold_id: Option<i64>,
    pub deployment_mode: DeploymentMode,
    pub state: ExceptionState,
    pub validation: Validation,
    pub validation_reason: Option<String>,
    pub rebreach: bool,
    /// Earlier exceptions this re-breach follows.
    pub linked_exceptions: Vec<i64>,
    pub opened_at: String,
    pub first_value: Option<f64>,
    pub last_breach_at: Option<String>,
    pub last_breach_value: Option<f64>,
    pub breach_count: i64,
    pub validate_by: String,
    pub decide_by: String,
    pub impacts: Vec<Impact>,
    pub escalated: bool,
    pub escalations: Vec<EscalationView>,
    pub recovered_at: Option<String>,
    pub disposition: Option<Disposition>,
    pub rationale: Option<String>,
    pub follow_up: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub cosign_required: bool,
    pub cosigned_by: Option<String>,
    pub cosigned_at: Option<String>,
    pub closed_at: Option<String>,
    /// The next deadline has passed and the exception is still waiting on it.
    pub overdue: bool,
    /// Sign-offs with their verification result (filled by `show_exception`).
    pub signoffs: Vec<SignoffView>,
    /// Open findings on the identities the model depends on (filled by `show_exception`): a drift
    /// event is often a symptom of a broken credential upstream.
    pub dependent_identity_findings: Vec<DependentFinding>,
}

/// Input of `decide_exception`.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct DecideException {
    pub disposition: String,
    pub rationale: String,
    /// `YYYY-MM-DD`; defaults to today plus the policy's follow-up days for the model's tier.
    pub follow_up: Option<String>,
}

/// The raw row every operation works from.
#[derive(Debug, Clone)]
pub(crate) struct ExRow {
    pub model_id: i64,
    pub state: ExceptionState,
    pub resume_state: Option<ExceptionState>,
    pub validation: Validation,
    pub escalated: bool,
    pub impacts: Vec<Impact>,
    pub regulated: bool,
}

pub(crate) fn load_row(conn: &Connection, id: i64) -> Result<ExRow> {
    conn.query_row(
        "SELECT e.id, e.model_id, e.state, e.resume_state, e.validation, e.escalated, e.impact_customer,
                e.impact_compliance, e.impact_financial, m.regulated
         FROM exceptions e JOIN models m ON m.id = e.model_id WHERE e.id = ?1",
        [id],
        |r| {
            let mut impacts = Vec::new();
            for (i, imp) in [(6, Impact::Customer), (7, Impact::Compliance), (8, Impact::Financial)] {
                if r.get::<_, i64>(i)? != 0 {
                    impacts.push(imp);
                }
            }
            Ok(ExRow {
                model_id: r.get(1)?,
                state: ExceptionState::parse("state", &r.get::<_, String>(2)?).unwrap_or(ExceptionState::Opened),
                resume_state: r
                    .get::<_, Option<String>>(3)?
                    .and_then(|s| ExceptionState::parse("resume_state", &s).ok()),
                validation: Validation::parse("validation", &r.get::<_, String>(4)?).unwrap_or(Validation::Pending),
                escalated: r.get::<_, i64>(5)? != 0,
                impacts,
                regulated: r.get::<_, i64>(9)? != 0,
            })
        },
    )
    .optional()?
    .ok_or_else(|| CoreError::NotFound(format!("exception {id}")))
}

fn transition(row: &ExRow, action: Action) -> Result<ExceptionState> {
    workflow::next(row.state, row.validation, row.resume_state, action).map_err(CoreError::Conflict)
}

/// Writes a new state for an exception (and nothing else).
pub(crate) fn set_state(w: &Tx<'_>, id: i64, state: ExceptionState) -> Result<()> {
    let closed = if state == ExceptionState::Closed {
        Some(w.now.clone())
    } else {
        None
    };
    w.execute(
        "UPDATE exceptions SET state = ?1, updated_at = ?2, closed_at = coalesce(?3, closed_at) WHERE id = ?4",
        params![state.as_str(), w.now, closed, id],
    )?;
    Ok(())
}

/// A decision-rights holder of a model, by column of `decision_rights`.
fn right_holder(conn: &Connection, model_id: i64, column: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            &format!("SELECT {column} FROM decision_rights WHERE model_id = ?1"),
            [model_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

fn require_right(
    reg: &Registry,
    model_id: i64,
    column: &str,
    what: &str,
    action: &str,
) -> Result<()> {
    match right_holder(&reg.conn, model_id, column)? {
        Some(id) if id == reg.actor.id => Ok(()),
        Some(id) => Err(CoreError::Forbidden(format!(
            "{action} is for the model's {what} ({})",
            email_of(&reg.conn, id)?
        ))),
        None => Err(CoreError::Forbidden(format!(
            "{action} needs a {what}, and this model has none"
        ))),
    }
}

pub(crate) fn model_tier_mode(
    conn: &Connection,
    model_id: i64,
) -> Result<(RiskTier, DeploymentMode)> {
    let (t, m): (String, String) = conn.query_row(
        "SELECT risk_tier, deployment_mode FROM models WHERE id = ?1",
        [model_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((
        RiskTier::parse("tier", &t)?,
        DeploymentMode::parse("mode", &m)?,
    ))
}

fn date_plus(today: NaiveDate, days: i64) -> String {
    today
        .checked_add_days(Days::new(days.max(0) as u64))
        .unwrap_or(today)
        .to_string()
}

/// What opens an exception.
pub(crate) struct Opening<'a> {
    pub model_id: i64,
    pub kind: ExceptionKind,
    pub metric: Option<&'a str>,
    pub threshold_id: Option<i64>,
    pub approval_id: Option<i64>,
    pub value: Option<f64>,
    pub observed_at: Option<&'a str>,
}

/// Opens an exception: deadlines from the policy, re-breach detection and links, audit event.
pub(crate) fn open_exception(
    w: &Tx<'_>,
    policy: &Policy,
    today: NaiveDate,
    o: &Opening<'_>,
) -> Result<(i64, bool)> {
    let (tier, mode) = model_tier_mode(w, o.model_id)?;
    let validate_by = date_plus(today, policy.validate_days.get(tier));
    let decide_by = date_plus(today, policy.decide_days.get(tier));
    // A lapsed approval is a fact, not a signal to validate.
    let (state, validation) = match o.kind {
        ExceptionKind::Breach => (ExceptionState::Opened, Validation::Pending),
        ExceptionKind::LapsedApproval => (ExceptionState::Confirmed, Validation::Confirmed),
    };
    let earlier: Vec<i64> = match (o.kind, o.metric) {
        (ExceptionKind::Breach, Some(metric)) => {
            let since = today
                .checked_sub_days(Days::new(policy.rebreach_window_days.max(0) as u64))
                .unwrap_or(today)
                .to_string();
            let mut st = w.prepare_cached(
                "SELECT id FROM exceptions WHERE model_id = ?1 AND metric = ?2 AND kind = 'breach'
                 AND state = 'closed' AND closed_at >= ?3 ORDER BY id",
            )?;
            let ids = st
                .query_map(params![o.model_id, metric, since], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            ids
        }
        _ => Vec::new(),
    };
    let rebreach = !earlier.is_empty();
    w.execute(
        "INSERT INTO exceptions (model_id, kind, metric, threshold_id, approval_id, deployment_mode, state,
            validation, rebreach, opened_at, first_value, last_breach_at, last_breach_value, breach_count,
            validate_by, decide_by, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?11, ?13, ?14, ?15, ?10)",
        params![
            o.model_id, o.kind.as_str(), o.metric, o.threshold_id, o.approval_id, mode.as_str(), state.as_str(),
            validation.as_str(), rebreach as i64, w.now, o.value, o.observed_at,
            if o.value.is_some() { 1 } else { 0 }, validate_by, decide_by
        ],
    )?;
    let id = w.last_insert_rowid();
    for e in &earlier {
        w.execute(
            "INSERT INTO exception_links (exception_id, earlier_id) VALUES (?1, ?2)",
            params![id, e],
        )?;
    }
    w.record(
        "exception.open",
        "exception",
        id,
        json!({
            "model_id": o.model_id, "kind": o.kind, "metric": o.metric, "threshold_id": o.threshold_id,
            "approval_id": o.approval_id, "value": o.value, "observed_at": o.observed_at,
            "deployment_mode": mode, "validate_by": validate_by, "decide_by": decide_by,
            "rebreach": rebreach, "rebreach_of": earlier,
        }),
    )?;
    Ok((id, rebreach))
}

/// Escalates by rule: routes to the business approver (and compliance), requires their co-sign.
/// A rule that already fired for this exception is not recorded twice.
pub(crate) fn escalate(w: &Tx<'_>, id: i64, rule: &str, reason: &str) -> Result<bool> {
    let already: Option<i64> = w
        .query_row(
            "SELECT id FROM escalations WHERE exception_id = ?1 AND rule = ?2",
            params![id, rule],
            |r| r.get(0),
        )
        .optional()?;
    if already.is_some() {
        return Ok(false);
    }
    let row = load_row(w, id)?;
    let to = transition(&row, Action::Escalate)?;
    let approver = right_holder(w, row.model_id, "approver_id")?
        .map(|a| email_of(w, a))
        .transpose()?;
    let compliance: Vec<String> = {
        let mut st = w.prepare_cached(
            "SELECT email, roles FROM members WHERE status = 'active' ORDER BY id",
        )?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .filter_map(|r| r.ok())
            .filter(|(_, roles)| {
                crate::registry::roles_from_json(roles).contains(&Role::Compliance)
            })
            .map(|(e, _)| e)
            .collect();
        rows
    };
    w.execute(
        "INSERT INTO escalations (exception_id, at, rule, reason, routed_to) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, w.now, rule, reason, approver],
    )?;
    w.execute(
        "UPDATE exceptions SET escalated = 1, resume_state = CASE WHEN state = 'recovered' THEN 'escalated' ELSE resume_state END WHERE id = ?1",
        [id],
    )?;
    if row.state != ExceptionState::Recovered {
        set_state(w, id, to)?;
    }
    w.record(
        "exception.escalate",
        "exception",
        id,
        json!({ "from": row.state, "to": if row.state == ExceptionState::Recovered { row.state } else { to },
                "rule": rule, "reason": reason, "routed_to": approver, "also_notified": compliance }),
    )?;
    Ok(true)
}

pub(crate) const EX_SELECT: &str = "SELECT e.id, e.model_id, m.name, m.version,
    (SELECT count(*) FROM models m2 WHERE m2.name = m.name), e.kind, e.metric, e.threshold_id, e.deployment_mode,
    e.state, e.validation, e.validation_reason, e.rebreach, e.opened_at, e.first_value, e.last_breach_at,
    e.last_breach_value, e.breach_count, e.validate_by, e.decide_by, e.impact_customer, e.impact_compliance,
    e.impact_financial, e.escalated, e.recovered_at, e.disposition, e.rationale, e.follow_up,
    (SELECT email FROM members WHERE id = e.decided_by), e.decided_at, e.cosign_required,
    (SELECT email FROM members WHERE id = e.cosigned_by), e.cosigned_at, e.closed_at
    FROM exceptions e JOIN models m ON m.id = e.model_id";

pub(crate) fn ex_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExceptionView> {
    let name: String = r.get(2)?;
    let version: String = r.get(3)?;
    let versions: i64 = r.get(4)?;
    let mut impacts = Vec::new();
    for (i, imp) in [
        (20, Impact::Customer),
        (21, Impact::Compliance),
        (22, Impact::Financial),
    ] {
        if r.get::<_, i64>(i)? != 0 {
            impacts.push(imp);
        }
    }
    let word = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    Ok(ExceptionView {
        id: r.get(0)?,
        model_id: r.get(1)?,
        model: if versions > 1 {
            format!("{name}@{version}")
        } else {
            name
        },
        kind: ExceptionKind::parse("kind", &word(5)?).unwrap_or(ExceptionKind::Breach),
        metric: r.get(6)?,
        threshold_id: r.get(7)?,
        deployment_mode: DeploymentMode::parse("mode", &word(8)?)
            .unwrap_or(DeploymentMode::Production),
        state: ExceptionState::parse("state", &word(9)?).unwrap_or(ExceptionState::Opened),
        validation: Validation::parse("validation", &word(10)?).unwrap_or(Validation::Pending),
        validation_reason: r.get(11)?,
        rebreach: r.get::<_, i64>(12)? != 0,
        linked_exceptions: Vec::new(),
        opened_at: r.get(13)?,
        first_value: r.get(14)?,
        last_breach_at: r.get(15)?,
        last_breach_value: r.get(16)?,
        breach_count: r.get(17)?,
        validate_by: r.get(18)?,
        decide_by: r.get(19)?,
        impacts,
        escalated: r.get::<_, i64>(23)? != 0,
        escalations: Vec::new(),
        recovered_at: r.get(24)?,
        disposition: r
            .get::<_, Option<String>>(25)?
            .and_then(|d| Disposition::parse("disposition", &d).ok()),
        rationale: r.get(26)?,
        follow_up: r.get(27)?,
        decided_by: r.get(28)?,
        decided_at: r.get(29)?,
        cosign_required: r.get::<_, i64>(30)? != 0,
        cosigned_by: r.get(31)?,
        cosigned_at: r.get(32)?,
        closed_at: r.get(33)?,
        overdue: false,
        signoffs: Vec::new(),
        dependent_identity_findings: Vec::new(),
    })
}

fn overdue(v: &ExceptionView, today: NaiveDate) -> bool {
    let past = |d: &str| {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(|d| today > d)
            .unwrap_or(false)
    };
    match v.state {
        ExceptionState::Opened | ExceptionState::Validating => past(&v.validate_by),
        ExceptionState::Confirmed | ExceptionState::Escalated | ExceptionState::Recovered => {
            past(&v.decide_by)
        }
        _ => false,
    }
}

/// The statement a disposition sign-off covers, rebuilt from the exception as it is now.
pub(crate) fn disposition_statement(
    conn: &Connection,
    registry_id: &str,
    id: i64,
) -> Result<Value> {
    conn.query_row(
        "SELECT e.id, m.id, m.name, m.version, e.kind, e.metric, e.disposition, e.rationale, e.follow_up,
                (SELECT email FROM members WHERE id = e.decided_by), e.decided_at,
                e.impact_customer, e.impact_compliance, e.impact_financial, e.escalated, e.rebreach
         FROM exceptions e JOIN models m ON m.id = e.model_id WHERE e.id = ?1",
        [id],
        |r| {
            Ok(json!({
                "type": "driftwarden.disposition.v1",
                "registry_id": registry_id,
                "exception_id": r.get::<_, i64>(0)?,
                "model": { "id": r.get::<_, i64>(1)?, "name": r.get::<_, String>(2)?, "version": r.get::<_, String>(3)? },
                "kind": r.get::<_, String>(4)?,
                "metric": r.get::<_, Option<String>>(5)?,
                "disposition": r.get::<_, Option<String>>(6)?,
                "rationale": r.get::<_, Option<String>>(7)?,
                "follow_up": r.get::<_, Option<String>>(8)?,
                "decided_by": r.get::<_, Option<String>>(9)?,
                "decided_at": r.get::<_, Option<String>>(10)?,
                "impacts": { "customer": r.get::<_, i64>(11)? != 0, "compliance": r.get::<_, i64>(12)? != 0,
                             "financial": r.get::<_, i64>(13)? != 0 },
                "escalated": r.get::<_, i64>(14)? != 0,
                "rebreach": r.get::<_, i64>(15)? != 0,
            }))
        },
    )
    .map_err(CoreError::from)
}

fn cosign_statement(disposition: Value, cosigner: &str, at: &str) -> Value {
    json!({ "type": "driftwarden.cosign.v1", "disposition": disposition, "cosigner": cosigner, "cosigned_at": at })
}

impl Registry {
    pub(crate) fn exception_view(&self, id: i64) -> Result<ExceptionView> {
        let mut v = self
            .conn
            .query_row(&format!("{EX_SELECT} WHERE e.id = ?1"), [id], ex_row)
            .optional()?
            .ok_or_else(|| CoreError::NotFound(format!("exception {id}")))?;
        self.fill_exception(&mut v)?;
        Ok(v)
    }

    pub(crate) fn fill_exception(&self, v: &mut ExceptionView) -> Result<()> {
        v.overdue = overdue(v, self.clock.now().date_naive());
        let mut st = self.conn.prepare_cached(
            "SELECT earlier_id FROM exception_links WHERE exception_id = ?1 ORDER BY earlier_id",
        )?;
        v.linked_exceptions = st
            .query_map([v.id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut st = self.conn.prepare_cached(
            "SELECT at, rule, reason, routed_to FROM escalations WHERE exception_id = ?1 ORDER BY id",
        )?;
        v.escalations = st
            .query_map([v.id], |r| {
                Ok(EscalationView {
                    at: r.get(0)?,
                    rule: r.get(1)?,
                    reason: r.get(2)?,
                    routed_to: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(())
    }

    /// Exceptions, newest first, optionally by state (`recovered` etc.) and model.
    pub fn list_exceptions(
        &self,
        state: Option<&str>,
        model: Option<&str>,
    ) -> Result<Vec<ExceptionView>> {
        let state = state
            .map(|s| ExceptionState::parse("state", s))
            .transpose()?;
        let model_id = model.map(|m| resolve_model(&self.conn, m)).transpose()?;
        let mut st = self.conn.prepare(&format!(
            "{EX_SELECT} WHERE (?1 IS NULL OR e.state = ?1) AND (?2 IS NULL OR e.model_id = ?2) ORDER BY e.id DESC"
        ))?;
        let mut rows = st
            .query_map(params![state.map(|s| s.as_str()), model_id], ex_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for v in &mut rows {
            self.fill_exception(v)?;
        }
        Ok(rows)
    }

    /// One exception with its escalations, links and verified sign-offs.
    pub fn show_exception(&self, id: i64) -> Result<ExceptionView> {
        let mut v = self.exception_view(id)?;
        v.signoffs = self.exception_signoffs(id)?;
        Ok(v)
    }

    /// The sign-offs of one exception (disposition, co-signature), each verified against the
    /// exception as it is now.
    pub(crate) fn exception_signoffs(&self, id: i64) -> Result<Vec<SignoffView>> {
        let registry_id = self.registry_id.clone();
        let conn = &self.conn;
        signing::verify_all(conn, "exception", id, &|kind, signer, at| {
            let d = disposition_statement(conn, &registry_id, id)?;
            Ok(if kind == "cosign" {
                cosign_statement(d, signer, at)
            } else {
                d
            })
        })
    }

    /// The validator starts validating (`opened` → `validating`).
    pub fn start_validation(&mut self, id: i64) -> Result<ExceptionView> {
        let row = load_row(&self.conn, id)?;
        require_right(
            self,
            row.model_id,
            "validator_id",
            "validator",
            "validating an exception",
        )?;
        let to = transition(&row, Action::StartValidation)?;
        self.write(|w| {
            set_state(w, id, to)?;
            w.record(
                "exception.validate.start",
                "exception",
                id,
                json!({ "from": row.state, "to": to }),
            )?;
            Ok(())
        })?;
        self.exception_view(id)
    }

    /// The validator confirms the signal, or dismisses it with a reason.
    pub fn validate_exception(
        &mut self,
        id: i64,
        confirm: bool,
        reason: &str,
    ) -> Result<ExceptionView> {
        let row = load_row(&self.conn, id)?;
        require_right(
            self,
            row.model_id,
            "validator_id",
            "validator",
            "validating an exception",
        )?;
        let reason = check_text("reason", reason, !confirm, 4000)?;
        let action = if confirm {
            Action::Confirm
        } else {
            Action::Dismiss
        };
        let to = transition(&row, action)?;
        let verdict = if confirm {
            Validation::Confirmed
        } else {
            Validation::Dismissed
        };
        self.write(|w| {
            w.execute(
                "UPDATE exceptions SET validation = ?1, validation_reason = ?2 WHERE id = ?3",
                params![
                    verdict.as_str(),
                    if reason.is_empty() {
                        None
                    } else {
                        Some(&reason)
                    },
                    id
                ],
            )?;
            set_state(w, id, to)?;
            w.record(
                if confirm {
                    "exception.confirm"
                } else {
                    "exception.dismiss"
                },
                "exception",
                id,
                json!({ "from": row.state, "to": to, "reason": reason }),
            )?;
            Ok(())
        })?;
        self.exception_view(id)
    }

    /// Flags an impact (customer outcomes, compliance posture, financial exposure). By rule this
    /// escalates the exception and requires the business approver's co-sign. For the model's
    /// owner, validator, business approver or pause/rollback holder.
    pub fn flag_exception(&mut self, id: i64, impact: &str, note: &str) -> Result<ExceptionView> {
        let row = load_row(&self.conn, id)?;
        let impact = Impact::parse("impact", impact)?;
        let note = check_text("note", note, true, 4000)?;
        let owner: i64 = self.conn.query_row(
            "SELECT owner_id FROM models WHERE id = ?1",
            [row.model_id],
            |r| r.get(0),
        )?;
        let holders = [
            Some(owner),
            right_holder(&self.conn, row.model_id, "validator_id")?,
            right_holder(&self.conn, row.model_id, "approver_id")?,
            right_holder(&self.conn, row.model_id, "rollback_id")?,
        ];
        if !holders.contains(&Some(self.actor.id)) {
            return Err(CoreError::Forbidden(
                "flagging an impact is for the model's owner, validator, business approver or pause/rollback holder".into(),
            ));
        }
        if row.state.is_final() || row.state == ExceptionState::Decided {
            return Err(CoreError::Conflict(format!(
                "cannot flag an exception that is {}",
                row.state
            )));
        }
        if row.impacts.contains(&impact) {
            return Err(CoreError::Conflict(format!(
                "the {impact} impact is already flagged"
            )));
        }
        let column = format!("impact_{}", impact.as_str());
        self.write(|w| {
            w.execute(
                &format!("UPDATE exceptions SET {column} = 1, updated_at = ?1 WHERE id = ?2"),
                params![w.now, id],
            )?;
            w.record(
                "exception.flag",
                "exception",
                id,
                json!({ "impact": impact, "note": note }),
            )?;
            escalate(
                w,
                id,
                &format!("impact:{impact}"),
                &format!("{impact} impact flagged by {}: {note}", w.actor.email),
            )?;
            Ok(())
        })?;
        self.exception_view(id)
    }

    /// The accountable owner decides a disposition; it is signed. Co-sign by the business approver
    /// is required when the model is regulated, the exception was escalated, or an impact is
    /// flagged; otherwise the exception closes. Rollback and retire change the model's status;
    /// retire ends its approval.
    pub fn decide_exception(&mut self, id: i64, input: &DecideException) -> Result<ExceptionView> {
        let row = load_row(&self.conn, id)?;
        let owner: i64 = self.conn.query_row(
            "SELECT owner_id FROM models WHERE id = ?1",
            [row.model_id],
            |r| r.get(0),
        )?;
        if owner != self.actor.id {
            return Err(CoreError::Forbidden(format!(
                "deciding a disposition is for the model's accountable owner ({})",
                email_of(&self.conn, owner)?
            )));
        }
        let disposition = Disposition::parse("disposition", &input.disposition)?;
        let rationale = check_text("rationale", &input.rationale, true, 8000)?;
        let today = self.clock.now().date_naive();
        let (tier, _) = model_tier_mode(&self.conn, row.model_id)?;
        let follow_up = match &input.follow_up {
            Some(d) => {
                let d = parse_date("follow_up", d)?;
                if d <= today {
                    return Err(CoreError::invalid("follow_up", "must be after today"));
                }
                d.to_string()
            }
            None => date_plus(today, self.policy()?.follow_up_days.get(tier)),
        };
        let cosign_required = row.regulated || row.escalated || !row.impacts.is_empty();
        let to = transition(&row, Action::Decide { cosign_required })?;
        self.write(|w| {
            w.execute(
                "UPDATE exceptions SET disposition = ?1, rationale = ?2, follow_up = ?3, decided_by = ?4,
                 decided_at = ?5, cosign_required = ?6 WHERE id = ?7",
                params![disposition.as_str(), rationale, follow_up, w.actor.id, w.now, cosign_required as i64, id],
            )?;
            set_state(w, id, to)?;
            let statement = disposition_statement(w, w.registry_id, id)?;
            let signoff = signing::sign(w, "disposition", "exception", id, &statement)?;
            w.record(
                "exception.decide",
                "exception",
                id,
                json!({ "from": row.state, "to": to, "disposition": disposition, "rationale": rationale,
                        "follow_up": follow_up, "cosign_required": cosign_required, "signoff_id": signoff }),
            )?;
            let model_status = match disposition {
                Disposition::Rollback => Some(ModelStatus::RolledBack),
                Disposition::Retire => Some(ModelStatus::Retired),
                _ => None,
            };
            if let Some(status) = model_status {
                w.execute("UPDATE models SET status = ?1, updated_at = ?2 WHERE id = ?3", params![status.as_str(), w.now, row.model_id])?;
                w.record("model.status", "model", row.model_id, json!({ "to": status, "by_exception": id }))?;
            }
            if disposition == Disposition::Retire {
                let ended = w.execute(
                    "UPDATE approvals SET status = 'ended', ended_at = ?1, ended_reason = ?2 WHERE model_id = ?3 AND status = 'active'",
                    params![w.now, format!("model retired by exception {id}"), row.model_id],
                )?;
                if ended > 0 {
                    w.record("approval.end", "model", row.model_id, json!({ "reason": "retired", "by_exception": id }))?;
                }
            }
            Ok(())
        })?;
        self.show_exception(id)
    }

    /// The business approver co-signs a decided disposition, which closes the exception.
    pub fn cosign_exception(&mut self, id: i64) -> Result<ExceptionView> {
        let row = load_row(&self.conn, id)?;
        require_right(
            self,
            row.model_id,
            "approver_id",
            "business approver",
            "co-signing a disposition",
        )?;
        let to = transition(&row, Action::Cosign)?;
        self.write(|w| {
            w.execute(
                "UPDATE exceptions SET cosigned_by = ?1, cosigned_at = ?2 WHERE id = ?3",
                params![w.actor.id, w.now, id],
            )?;
            set_state(w, id, to)?;
            let statement = cosign_statement(
                disposition_statement(w, w.registry_id, id)?,
                &w.actor.email,
                &w.now,
            );
            let signoff = signing::sign(w, "cosign", "exception", id, &statement)?;
            w.record(
                "exception.cosign",
                "exception",
                id,
                json!({ "from": row.state, "to": to, "signoff_id": signoff }),
            )?;
            Ok(())
        })?;
        self.show_exception(id)
    }
}
