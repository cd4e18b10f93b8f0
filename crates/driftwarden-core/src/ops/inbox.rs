//! "What needs me": the signed-in member's decisions, overdue first.

use chrono::NaiveDate;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::domain::{ApprovalStatus, ModelStatus};
use crate::error::Result;
use crate::ops::models::{finish, model_row, ModelView, MODEL_SELECT};
use crate::registry::Registry;

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct InboxItem {
    /// approve, renew, validate, decide, cosign
    pub kind: String,
    pub model_id: i64,
    pub model: String,
    pub exception_id: Option<i64>,
    /// What to do, in plain words.
    pub title: String,
    /// `YYYY-MM-DD`, when there is a deadline.
    pub due: Option<String>,
    /// Days until the deadline; negative when overdue.
    pub days_left: Option<i64>,
    pub overdue: bool,
    /// Who is waiting on this decision.
    pub waiting: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct StateCount {
    pub state: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Inbox {
    /// Overdue first, then by deadline; the first `limit` when the query set one.
    pub items: Vec<InboxItem>,
    /// How many decisions there are in all (`items` may list fewer).
    pub items_total: i64,
    /// Exceptions in the registry by state.
    pub exceptions_by_state: Vec<StateCount>,
    /// Models whose approval has lapsed, by name; the first `limit` when the query set one.
    pub lapsed_approvals: Vec<ModelView>,
    /// How many approvals have lapsed in all.
    pub lapsed_total: i64,
}

/// What a screen asks of the inbox.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct InboxQuery {
    /// List at most this many decisions and lapsed approvals (0..=`MAX_PAGE`; all when absent);
    /// `items_total` and `lapsed_total` count them all. The home view lists a few: with
    /// thousands of decisions the whole list is hundreds of kilobytes to send and read.
    #[serde(default)]
    pub limit: Option<i64>,
}

impl InboxItem {
    /// Identifies this decision and its deadline: a new key means something new became due (the
    /// desktop announces each key once).
    pub fn key(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.kind,
            self.model_id,
            self.exception_id.unwrap_or(0),
            self.due.as_deref().unwrap_or("")
        )
    }
}

impl Inbox {
    /// The decisions that are overdue or due within `days` days: what a desktop notification
    /// announces. Items without a deadline are never "due".
    pub fn due_within(&self, days: i64) -> Vec<&InboxItem> {
        self.items
            .iter()
            .filter(|i| i.overdue || i.days_left.is_some_and(|d| d <= days))
            .collect()
    }
}

/// Approvals expiring within this many days are offered for renewal.
const RENEW_WITHIN_DAYS: i64 = 30;

fn days_between(today: NaiveDate, due: &str) -> Option<i64> {
    NaiveDate::parse_from_str(due, "%Y-%m-%d")
        .ok()
        .map(|d| (d - today).num_days())
}

impl Registry {
    /// The signed-in member's open decisions: exceptions to validate, decide or co-sign, releases
    /// to approve or renew; overdue first, then by deadline. Every item: see [`Registry::inbox_with`].
    pub fn inbox(&self) -> Result<Inbox> {
        self.inbox_with(&InboxQuery::default())
    }

    /// [`Registry::inbox`] for a screen: the first `limit` decisions and lapsed approvals, with
    /// how many there are in all.
    pub fn inbox_with(&self, q: &InboxQuery) -> Result<Inbox> {
        let limit = crate::ops::pages::item_limit("limit", q.limit)?.unwrap_or(usize::MAX);
        let me = self.actor.id;
        let today = self.clock.now().date_naive();
        let mut items = Vec::new();
        let mut st = self.conn.prepare(
            "SELECT e.id, e.model_id, e.kind, e.metric, e.state, e.validation, e.validate_by, e.decide_by,
                    m.owner_id, d.validator_id, d.approver_id, o.email, m.name, m.version,
                    (SELECT count(*) FROM models m2 WHERE m2.name = m.name)
             FROM exceptions e JOIN models m ON m.id = e.model_id JOIN members o ON o.id = m.owner_id
             LEFT JOIN decision_rights d ON d.model_id = e.model_id
             WHERE e.state NOT IN ('closed', 'dismissed')
               AND (m.owner_id = ?1 OR d.validator_id = ?1 OR d.approver_id = ?1)",
        )?;
        let rows = st.query_map(params![me], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, i64>(8)?,
                r.get::<_, Option<i64>>(9)?,
                r.get::<_, Option<i64>>(10)?,
                r.get::<_, String>(11)?,
                (
                    r.get::<_, String>(12)?,
                    r.get::<_, String>(13)?,
                    r.get::<_, i64>(14)?,
                ),
            ))
        })?;
        for row in rows {
            let (
                id,
                model_id,
                kind,
                metric,
                state,
                validation,
                validate_by,
                decide_by,
                owner,
                validator,
                approver,
                owner_email,
                (name, version, versions),
            ) = row?;
            let model = if versions > 1 {
                format!("{name}@{version}")
            } else {
                name
            };
            let what = match (&metric, kind.as_str()) {
                (Some(m), _) => format!("the {m} breach on {model}"),
                (None, _) => format!("the lapsed approval of {model}"),
            };
            let mut push = |kind: &str, title: String, due: &str, waiting: String| {
                let days = days_between(today, due);
                items.push(InboxItem {
                    kind: kind.into(),
                    model_id,
                    model: model.clone(),
                    exception_id: Some(id),
                    title,
                    due: Some(due.to_string()),
                    days_left: days,
                    overdue: days.is_some_and(|d| d < 0),
                    waiting,
                });
            };
            let pending = validation == "pending";
            if validator == Some(me) && pending && state != "decided" {
                push(
                    "validate",
                    format!("Validate {what}"),
                    &validate_by,
                    format!("{owner_email} (accountable owner) waits for your validation"),
                );
            }
            if owner == me
                && !pending
                && matches!(state.as_str(), "confirmed" | "escalated" | "recovered")
                || owner == me && state == "recovered"
            {
                push(
                    "decide",
                    format!("Decide a disposition for {what}"),
                    &decide_by,
                    "the business approver and the validator wait for your disposition".into(),
                );
            }
            if approver == Some(me) && state == "decided" {
                push(
                    "cosign",
                    format!("Co-sign the disposition of {what}"),
                    &decide_by,
                    format!("{owner_email} (accountable owner) waits for your co-sign"),
                );
            }
        }
        // Releases: models for which I am the business approver, pending or lapsed, or expiring
        // soon, or with proposed thresholds awaiting approval.
        // One query for the models and one for their proposed thresholds (not one per model).
        let mut st = self.conn.prepare(
            "SELECT t.model_id, count(*) FROM thresholds t JOIN decision_rights d ON d.model_id = t.model_id
             WHERE d.approver_id = ?1 AND t.status = 'proposed' GROUP BY t.model_id",
        )?;
        let proposed_of: std::collections::HashMap<i64, i64> = st
            .query_map([me], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        // Only the approver's models that can need them: not retired, and either a threshold
        // change is proposed or the latest approval is not an active one expiring after the
        // renewal window (the loop below decides exactly; this only skips certain no-ops).
        let renew_horizon = today + chrono::Days::new(RENEW_WITHIN_DAYS as u64);
        let mut st = self.conn.prepare(&format!(
            "{MODEL_SELECT} WHERE m.id IN (SELECT model_id FROM decision_rights WHERE approver_id = ?1)
               AND m.status != 'retired'
               AND (EXISTS (SELECT 1 FROM thresholds t WHERE t.model_id = m.id AND t.status = 'proposed')
                    OR NOT EXISTS (SELECT 1 FROM approvals a
                        WHERE a.id = (SELECT max(a2.id) FROM approvals a2 WHERE a2.model_id = m.id)
                          AND a.status = 'active' AND a.expires_on > ?2))
             ORDER BY m.id"
        ))?;
        let mine: Vec<ModelView> = st
            .query_map(params![me, renew_horizon.to_string()], model_row)?
            .map(|r| r.map(|v| finish(v, today)))
            .collect::<rusqlite::Result<_>>()?;
        let mut lapsed_approvals = Vec::new();
        for m in mine {
            let model_id = m.id;
            let proposed = proposed_of.get(&model_id).copied().unwrap_or(0);
            if m.status == ModelStatus::Retired {
                continue;
            }
            let days = m
                .approval_expires_on
                .as_deref()
                .and_then(|e| days_between(today, e));
            let (kind, title) = match m.approval_status {
                ApprovalStatus::Pending => (
                    "approve",
                    format!("Approve the release of {}", m.display_name),
                ),
                ApprovalStatus::Lapsed => (
                    "renew",
                    format!("Renew the lapsed approval of {}", m.display_name),
                ),
                ApprovalStatus::Approved if proposed > 0 => (
                    "approve",
                    format!(
                        "Approve {proposed} changed threshold(s) of {}",
                        m.display_name
                    ),
                ),
                ApprovalStatus::Approved if days.is_some_and(|d| d <= RENEW_WITHIN_DAYS) => (
                    "renew",
                    format!("Renew the approval of {} before it expires", m.display_name),
                ),
                _ => continue,
            };
            let due = if kind == "renew" {
                m.approval_expires_on.clone()
            } else {
                None
            };
            items.push(InboxItem {
                kind: kind.into(),
                model_id,
                model: m.display_name.clone(),
                exception_id: None,
                title,
                days_left: due.as_ref().and(days),
                overdue: m.approval_status == ApprovalStatus::Lapsed,
                due,
                waiting: format!("{} (accountable owner) waits for your approval", m.owner),
            });
        }
        // Lapsed approvals: only models whose latest approval may have lapsed are read.
        let mut st = self.conn.prepare(&format!(
            "{MODEL_SELECT} WHERE m.id IN (SELECT a.model_id FROM approvals a
               WHERE a.status = 'lapsed' OR (a.status = 'active' AND a.expires_on <= ?1))
             ORDER BY m.name, m.version"
        ))?;
        for m in st.query_map([today.to_string()], model_row)? {
            let m = finish(m?, today);
            if m.approval_status == ApprovalStatus::Lapsed {
                lapsed_approvals.push(m);
            }
        }
        items.sort_by(|a, b| {
            b.overdue
                .cmp(&a.overdue)
                .then(
                    a.days_left
                        .unwrap_or(i64::MAX)
                        .cmp(&b.days_left.unwrap_or(i64::MAX)),
                )
                .then(a.model.cmp(&b.model))
        });
        let mut st = self
            .conn
            .prepare("SELECT state, count(*) FROM exceptions GROUP BY state ORDER BY state")?;
        let exceptions_by_state = st
            .query_map([], |r| {
                Ok(StateCount {
                    state: r.get(0)?,
                    count: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let (items_total, lapsed_total) = (items.len() as i64, lapsed_approvals.len() as i64);
        items.truncate(limit);
        lapsed_approvals.truncate(limit);
        Ok(Inbox {
            items,
            items_total,
            exceptions_by_state,
            lapsed_approvals,
            lapsed_total,
        })
    }
}
