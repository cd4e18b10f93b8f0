//! The escalation sweep: escalates overdue exceptions and turns lapsed approvals into exceptions.
//! Any member may run it; it also runs on every open of the registry and on an interval in the
//! desktop app. Every escalation records why.

use chrono::NaiveDate;
use rusqlite::params;
use serde::Serialize;
use serde_json::json;
use ts_rs::TS;

use crate::domain::ExceptionKind;
use crate::error::Result;
use crate::ops::exceptions::{escalate, open_exception, Opening};
use crate::registry::Registry;

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SweepItem {
    pub exception_id: i64,
    pub model_id: i64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export)]
pub struct SweepReport {
    pub escalated: Vec<SweepItem>,
    /// Exceptions opened for lapsed approvals.
    pub lapsed: Vec<SweepItem>,
}

impl SweepReport {
    pub fn is_empty(&self) -> bool {
        self.escalated.is_empty() && self.lapsed.is_empty()
    }
}

/// An active approval whose expiry has come.
struct Lapse {
    approval_id: i64,
    model_id: i64,
    expires_on: String,
}

struct Due {
    id: i64,
    model_id: i64,
    rule: &'static str,
    reason: String,
}

impl Registry {
    /// What the sweep would do now, without doing it.
    fn due(&self, today: NaiveDate) -> Result<(Vec<Due>, Vec<Lapse>)> {
        let today_s = today.to_string();
        let mut escalations = Vec::new();
        let mut st = self.conn.prepare(
            "SELECT e.id, e.model_id, e.state, e.validate_by, e.decide_by FROM exceptions e
             WHERE e.state IN ('opened', 'validating', 'confirmed', 'recovered', 'escalated')
             AND ((e.state IN ('opened', 'validating') AND e.validate_by < ?1) OR e.decide_by < ?1)
             AND NOT EXISTS (SELECT 1 FROM escalations x WHERE x.exception_id = e.id
                  AND x.rule = CASE WHEN e.state IN ('opened', 'validating') AND e.validate_by < ?1
                                    THEN 'validate-deadline' ELSE 'decide-deadline' END)
             ORDER BY e.id",
        )?;
        let rows = st.query_map([&today_s], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        for row in rows {
            let (id, model_id, state, validate_by, decide_by) = row?;
            let validation_due =
                (state == "opened" || state == "validating") && validate_by < today_s;
            let (rule, reason) = if validation_due {
                (
                    "validate-deadline",
                    format!("validation deadline {validate_by} missed; still {state} on {today_s}"),
                )
            } else {
                (
                    "decide-deadline",
                    format!("decision deadline {decide_by} missed; no disposition by {today_s}"),
                )
            };
            escalations.push(Due {
                id,
                model_id,
                rule,
                reason,
            });
        }
        let mut st = self.conn.prepare(
            "SELECT a.id, a.model_id, a.expires_on FROM approvals a WHERE a.status = 'active' AND a.expires_on <= ?1 ORDER BY a.id",
        )?;
        let lapsed = st
            .query_map([&today_s], |r| {
                Ok(Lapse {
                    approval_id: r.get(0)?,
                    model_id: r.get(1)?,
                    expires_on: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((escalations, lapsed))
    }

    /// Runs the escalation sweep as the signed-in member. Writes nothing when nothing is due.
    pub fn sweep(&mut self) -> Result<SweepReport> {
        let today = self.clock.now().date_naive();
        let (escalations, lapsed) = self.due(today)?;
        if escalations.is_empty() && lapsed.is_empty() {
            return Ok(SweepReport::default());
        }
        let policy = self.policy()?;
        self.write(|w| {
            let mut report = SweepReport::default();
            for Lapse { approval_id, model_id, expires_on } in &lapsed {
                w.execute(
                    "UPDATE approvals SET status = 'lapsed', ended_at = ?1, ended_reason = ?2 WHERE id = ?3",
                    params![w.now, format!("expired on {expires_on}"), approval_id],
                )?;
                w.record("approval.lapse", "model", model_id, json!({ "approval_id": approval_id, "expires_on": expires_on }))?;
                let (id, _) = open_exception(
                    w,
                    &policy,
                    today,
                    &Opening {
                        model_id: *model_id,
                        kind: ExceptionKind::LapsedApproval,
                        metric: None,
                        threshold_id: None,
                        approval_id: Some(*approval_id),
                        value: None,
                        observed_at: None,
                    },
                )?;
                report.lapsed.push(SweepItem {
                    exception_id: id,
                    model_id: *model_id,
                    reason: format!("approval {approval_id} lapsed on {expires_on}"),
                });
            }
            for d in &escalations {
                if escalate(w, d.id, d.rule, &d.reason)? {
                    report.escalated.push(SweepItem { exception_id: d.id, model_id: d.model_id, reason: d.reason.clone() });
                }
            }
            w.record(
                "sweep.run",
                "registry",
                "sweep",
                json!({ "escalated": report.escalated.len(), "lapsed": report.lapsed.len() }),
            )?;
            Ok(report)
        })
    }
}
