//! The review calendar: every date someone must act on — approval expiries, exception deadlines,
//! follow-up reviews, NHI rotations and expiries — computed from the registry, never stored; and
//! its iCalendar (RFC 5545) export with stable UIDs, so re-importing updates instead of duplicating.

use chrono::{Duration, NaiveDate};
use icalendar::{Alarm, Calendar, Component, Event, EventLike, Trigger};
use rusqlite::params;
use serde::Serialize;
use ts_rs::TS;

use crate::domain::{check_email, NhiStatus};
use crate::error::Result;
use crate::registry::Registry;

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CalendarItem {
    /// Stable across exports: the same deadline keeps its UID when its date moves.
    pub uid: String,
    /// approval-expiry, validate-deadline, decide-deadline, cosign-deadline, follow-up,
    /// rotation-due, nhi-expiry
    pub kind: String,
    /// `YYYY-MM-DD`
    pub date: String,
    pub title: String,
    /// model, exception or nhi: the record the item links to.
    pub entity_type: String,
    pub entity_id: i64,
    pub model: Option<String>,
    /// The NHI's name, for items about an NHI.
    pub nhi: Option<String>,
    /// The member who must act.
    pub member: Option<String>,
    pub overdue: bool,
    /// Days until the date; negative when past.
    pub days_left: i64,
}

/// Deadlines get a reminder this many days before.
pub const ALARM_DAYS_BEFORE: i64 = 3;

fn display(name: String, version: String, versions: i64) -> String {
    if versions > 1 {
        format!("{name}@{version}")
    } else {
        name
    }
}

impl Registry {
    /// Calendar items dated within `[from, to]`, plus everything overdue before `from` that is
    /// still open, optionally only those `member` must act on; by date.
    pub fn calendar(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        member: Option<&str>,
    ) -> Result<Vec<CalendarItem>> {
        let member = member.map(|m| check_email("member", m)).transpose()?;
        let today = self.clock.now().date_naive();
        let rid = &self.registry_id;
        let mut items: Vec<CalendarItem> = Vec::new();
        let mut push = |uid: String,
                        kind: &str,
                        date: &str,
                        title: String,
                        et: &str,
                        eid: i64,
                        model: Option<String>,
                        who: Option<String>,
                        open: bool| {
            let Ok(d) = NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
                return;
            };
            let overdue = open && d < today;
            let in_range = (from..=to).contains(&d);
            let overdue_before = overdue && d < from;
            if !(in_range || overdue_before) {
                return;
            }
            items.push(CalendarItem {
                uid,
                kind: kind.into(),
                date: date.into(),
                title,
                entity_type: et.into(),
                entity_id: eid,
                model,
                nhi: None,
                member: who,
                overdue,
                days_left: (d - today).num_days(),
            });
        };
        // Approval expiries (and lapsed approvals not yet renewed): the business approver acts.
        let mut st = self.conn.prepare(
            "SELECT m.id, m.name, m.version, (SELECT count(*) FROM models m2 WHERE m2.name = m.name), a.expires_on,
                    (SELECT email FROM members WHERE id = d.approver_id)
             FROM approvals a JOIN models m ON m.id = a.model_id LEFT JOIN decision_rights d ON d.model_id = m.id
             WHERE a.status IN ('active', 'lapsed') AND m.status != 'retired'",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                display(r.get(1)?, r.get(2)?, r.get(3)?),
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })?;
        for row in rows {
            let (id, model, expires, approver) = row?;
            push(
                format!("approval-expiry-model-{id}@{rid}"),
                "approval-expiry",
                &expires,
                format!("Approval of {model} expires: renew or retire"),
                "model",
                id,
                Some(model),
                approver,
                true,
            );
        }
        // Exception deadlines and follow-up reviews.
        let mut st = self.conn.prepare(
            "SELECT e.id, m.name, m.version, (SELECT count(*) FROM models m2 WHERE m2.name = m.name), e.state,
                    e.validation, e.validate_by, e.decide_by, e.follow_up, e.metric,
                    (SELECT email FROM members WHERE id = d.validator_id), o.email,
                    (SELECT email FROM members WHERE id = d.approver_id)
             FROM exceptions e JOIN models m ON m.id = e.model_id JOIN members o ON o.id = m.owner_id
             LEFT JOIN decision_rights d ON d.model_id = m.id",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                display(r.get(1)?, r.get(2)?, r.get(3)?),
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, Option<String>>(10)?,
                r.get::<_, String>(11)?,
                r.get::<_, Option<String>>(12)?,
            ))
        })?;
        for row in rows {
            let (
                id,
                model,
                state,
                validation,
                validate_by,
                decide_by,
                follow_up,
                metric,
                validator,
                owner,
                approver,
            ) = row?;
            let what = metric
                .map(|m| format!("{m} breach on {model}"))
                .unwrap_or_else(|| format!("lapsed approval of {model}"));
            let open = !matches!(state.as_str(), "closed" | "dismissed");
            if open && validation == "pending" && state != "decided" {
                push(
                    format!("validate-deadline-exception-{id}@{rid}"),
                    "validate-deadline",
                    &validate_by,
                    format!("Validate the {what} (exception {id})"),
                    "exception",
                    id,
                    Some(model.clone()),
                    validator,
                    true,
                );
            }
            if open && state != "decided" {
                push(
                    format!("decide-deadline-exception-{id}@{rid}"),
                    "decide-deadline",
                    &decide_by,
                    format!("Decide a disposition for the {what} (exception {id})"),
                    "exception",
                    id,
                    Some(model.clone()),
                    Some(owner.clone()),
                    true,
                );
            }
            if state == "decided" {
                push(
                    format!("cosign-deadline-exception-{id}@{rid}"),
                    "cosign-deadline",
                    &decide_by,
                    format!("Co-sign the disposition of the {what} (exception {id})"),
                    "exception",
                    id,
                    Some(model.clone()),
                    approver,
                    true,
                );
            }
            if let Some(f) = follow_up {
                push(
                    format!("follow-up-exception-{id}@{rid}"),
                    "follow-up",
                    &f,
                    format!("Follow-up review of the {what} (exception {id})"),
                    "exception",
                    id,
                    Some(model.clone()),
                    Some(owner),
                    false,
                );
            }
        }
        // NHI rotations and expiries: the NHI's owner acts.
        let mut nhi_names = std::collections::HashMap::new();
        for n in self
            .list_nhis()?
            .into_iter()
            .filter(|n| n.status == NhiStatus::Active)
        {
            nhi_names.insert(n.id, n.name.clone());
            push(
                format!("rotation-due-nhi-{}@{rid}", n.id),
                "rotation-due",
                &n.rotation_due,
                format!(
                    "Rotate {} ({}, every {} days)",
                    n.name, n.kind, n.rotation_days
                ),
                "nhi",
                n.id,
                None,
                Some(n.owner.clone()),
                true,
            );
            if let Some(e) = &n.expires {
                push(
                    format!("nhi-expiry-nhi-{}@{rid}", n.id),
                    "nhi-expiry",
                    e,
                    format!("{} ({}) expires", n.name, n.kind),
                    "nhi",
                    n.id,
                    None,
                    Some(n.owner.clone()),
                    true,
                );
            }
        }
        for item in items.iter_mut().filter(|i| i.entity_type == "nhi") {
            item.nhi = nhi_names.get(&item.entity_id).cloned();
        }
        if let Some(m) = &member {
            items.retain(|i| i.member.as_deref() == Some(m.as_str()));
        }
        items.sort_by(|a, b| {
            a.date
                .cmp(&b.date)
                .then(a.kind.cmp(&b.kind))
                .then(a.uid.cmp(&b.uid))
        });
        Ok(items)
    }

    /// The items as an RFC 5545 calendar: one all-day VEVENT per item, stable UIDs, a reminder
    /// `ALARM_DAYS_BEFORE` days before each deadline, folded and escaped by the `icalendar` crate.
    pub fn calendar_ics(&self, items: &[CalendarItem]) -> Result<String> {
        let org: String =
            self.conn
                .query_row("SELECT value FROM meta WHERE key = 'org'", params![], |r| {
                    r.get(0)
                })?;
        let now = self.clock.now();
        let mut cal = Calendar::empty();
        cal.append_property(("VERSION", "2.0"))
            .append_property(("PRODID", "-//Driftwarden//Review calendar//EN"))
            .append_property(("CALSCALE", "GREGORIAN"))
            .append_property(("METHOD", "PUBLISH"))
            .name(&format!("Driftwarden reviews: {org}"));
        for i in items {
            let Ok(date) = NaiveDate::parse_from_str(&i.date, "%Y-%m-%d") else {
                continue;
            };
            let mut ev = Event::new();
            ev.uid(&i.uid)
                .timestamp(now)
                .summary(&i.title)
                .starts(date)
                .ends(date + Duration::days(1))
                .add_property("CATEGORIES", i.kind.as_str())
                .description(&format!(
                    "{}{}\nRecord: {} {}\nOpen it in Driftwarden.",
                    i.member
                        .as_deref()
                        .map(|m| format!("Who acts: {m}\n"))
                        .unwrap_or_default(),
                    if i.overdue { "OVERDUE\n" } else { "" },
                    i.entity_type,
                    i.entity_id
                ));
            if i.kind != "follow-up" {
                ev.alarm(Alarm::display(
                    &i.title,
                    Trigger::before_start(Duration::days(ALARM_DAYS_BEFORE)),
                ));
            }
            cal.push(ev.done());
        }
        Ok(cal.done().to_string())
    }
}
