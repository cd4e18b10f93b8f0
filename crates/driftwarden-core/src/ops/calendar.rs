//! The review calendar: every date someone must act on — approval expiries, exception deadlines,
//! follow-up reviews, NHI rotations and expiries — computed from the registry, never stored; and
//! its iCalendar (RFC 5545) export with stable UIDs, so re-importing updates instead of duplicating.

use chrono::{Duration, NaiveDate};
use icalendar::{Alarm, Calendar, Component, Event, EventLike, Trigger};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::domain::{check_email, parse_date};
use crate::error::{CoreError, Result};
use crate::ops::nhis::{fast_date, ROTATION_DUE_SQL};
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

/// The longest range [`Registry::calendar_query`] accepts (a year and a bit: the agenda's).
pub const MAX_RANGE_DAYS: i64 = 400;

/// What a calendar screen asks for.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct CalendarQuery {
    /// `YYYY-MM-DD`, inclusive.
    pub from: String,
    /// `YYYY-MM-DD`, inclusive; at most `MAX_RANGE_DAYS` after `from`.
    pub to: String,
    /// Only what this member must act on.
    pub member: Option<String>,
    /// How many of the overdue items dated before `from` to list, most overdue first (0..=500;
    /// all when absent). `overdue_before` counts them all.
    pub overdue_limit: Option<i64>,
    /// At most this many items of one kind listed per day (0..=500; all when absent); the
    /// others are counted in `more`.
    pub per_day_limit: Option<i64>,
}

/// Items of one day and kind left out of a page by its `per_day_limit`.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DayCount {
    /// `YYYY-MM-DD`
    pub date: String,
    /// The items' kind (rotation-due, nhi-expiry, validate, decide…)
    pub kind: String,
    /// How many more than listed.
    pub count: i64,
}

/// A screen's calendar: the items of a range and the most overdue from before it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CalendarPage {
    /// Items dated in the range, then up to the requested number of overdue items dated before
    /// it (most overdue first); by date.
    pub items: Vec<CalendarItem>,
    /// How many open items dated before the range are overdue in all (listed or not).
    pub overdue_before: i64,
    /// The same by kind (kinds with none left out), in kind order.
    pub overdue_by_kind: Vec<KindCount>,
    /// Per day and kind, the items the `per_day_limit` left out, by date.
    pub more: Vec<DayCount>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct KindCount {
    pub kind: String,
    pub count: i64,
}

type NhiItemRow = (i64, String, String, i64, String, Option<String>);

fn nhi_item_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NhiItemRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

/// Deadlines get a reminder this many days before.
pub const ALARM_DAYS_BEFORE: i64 = 3;

/// A model's display name from borrowed columns (built only for the items a page lists).
fn display_of(name: &str, version: &str, versions: i64) -> String {
    if versions > 1 {
        format!("{name}@{version}")
    } else {
        name.to_string()
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
        Ok(self.calendar_page(from, to, member, None, None)?.items)
    }

    /// [`Registry::calendar_page`] from a screen's query (dates `YYYY-MM-DD`, checked).
    pub fn calendar_query(&self, q: &CalendarQuery) -> Result<CalendarPage> {
        let from = parse_date("from", &q.from)?;
        let to = parse_date("to", &q.to)?;
        if to < from {
            return Err(CoreError::invalid("to", "is before from"));
        }
        if to > from + Duration::days(MAX_RANGE_DAYS) {
            return Err(CoreError::invalid(
                "to",
                format!("the range may span at most {MAX_RANGE_DAYS} days"),
            ));
        }
        let limit = crate::ops::pages::item_limit;
        self.calendar_page(
            from,
            to,
            q.member.as_deref(),
            limit("overdue_limit", q.overdue_limit)?,
            limit("per_day_limit", q.per_day_limit)?,
        )
    }

    /// The calendar of `[from, to]` for a screen: every item dated in the range, and of the items
    /// still open and overdue from before `from`, the `overdue_limit` most overdue (all with
    /// `None`), with how many there are in all and by kind. With `per_day_limit`, at most that
    /// many NHI rotations and as many NHI expiries are listed per day (in index order: expiries by
    /// NHI id, rotations by owner, then last rotation), the rest counted in `more`. Dates are filtered in SQL (NHI rotations read the
    /// `nhis_rotation_due` index), so a month costs what it shows.
    pub fn calendar_page(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        member: Option<&str>,
        overdue_limit: Option<usize>,
        per_day_limit: Option<usize>,
    ) -> Result<CalendarPage> {
        let member = member.map(|m| check_email("member", m)).transpose()?;
        let today = self.clock.now().date_naive();
        let rid = &self.registry_id;
        let mut items: Vec<CalendarItem> = Vec::new();
        // The overdue approval and exception items from before the range, most overdue first:
        // at most `overdue_limit` (counted in all by kind in `overdue_counts`).
        let mut before: Vec<CalendarItem> = Vec::new();
        let mut overdue_counts: Vec<(String, i64)> = Vec::new();
        let order = |a: &CalendarItem, b: &CalendarItem| {
            a.date
                .cmp(&b.date)
                .then(a.kind.cmp(&b.kind))
                .then(a.uid.cmp(&b.uid))
        };
        // Adds an item when its date is in the range, or it is open and overdue from before it,
        // and (with `member`) that member acts; its strings are built only when it is listed (a
        // registry has thousands of overdue deadlines, and a page lists the few most overdue).
        let mut push = |kind: &str,
                        date: &str,
                        et: &str,
                        eid: i64,
                        who: Option<&str>,
                        open: bool,
                        uid: &dyn Fn() -> String,
                        text: &dyn Fn() -> (String, String)| {
            let Some(d) = fast_date(date) else {
                return;
            };
            let overdue = open && d < today;
            let in_range = (from..=to).contains(&d);
            let overdue_before = overdue && d < from;
            if !(in_range || overdue_before) {
                return;
            }
            if member.as_deref().is_some_and(|m| who != Some(m)) {
                return;
            }
            let uid = uid();
            let at = if overdue_before {
                match overdue_counts.iter_mut().find(|(k, _)| k == kind) {
                    Some((_, n)) => *n += 1,
                    None => overdue_counts.push((kind.to_string(), 1)),
                }
                // Where it goes among the most overdue so far (by date, kind, uid, as `order`);
                // past the limit it is only counted.
                let at = before.partition_point(|b| {
                    (b.date.as_str(), b.kind.as_str(), b.uid.as_str()) < (date, kind, uid.as_str())
                });
                if overdue_limit.is_some_and(|n| at >= n) {
                    return;
                }
                Some(at)
            } else {
                None
            };
            let (title, model) = text();
            let item = CalendarItem {
                uid,
                kind: kind.into(),
                date: date.into(),
                title,
                entity_type: et.into(),
                entity_id: eid,
                model: Some(model),
                nhi: None,
                member: who.map(str::to_string),
                overdue,
                days_left: (d - today).num_days(),
            };
            match at {
                Some(at) => {
                    before.insert(at, item);
                    if let Some(n) = overdue_limit {
                        before.truncate(n);
                    }
                }
                None => items.push(item),
            }
        };
        // Approval expiries (and lapsed approvals not yet renewed): the business approver acts.
        let mut st = self.conn.prepare_cached(
            "SELECT m.id, m.name, m.version, (SELECT count(*) FROM models m2 WHERE m2.name = m.name), a.expires_on,
                    (SELECT email FROM members WHERE id = d.approver_id)
             FROM approvals a JOIN models m ON m.id = a.model_id LEFT JOIN decision_rights d ON d.model_id = m.id
             WHERE a.status IN ('active', 'lapsed') AND m.status != 'retired'
               AND (a.expires_on BETWEEN ?1 AND ?2 OR a.expires_on < min(?1, ?3))",
        )?;
        let mut rows = st.query(params![from.to_string(), to.to_string(), today.to_string()])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let text = |i: usize| {
                r.get_ref(i)?
                    .as_str_or_null()
                    .map_err(rusqlite::Error::from)
            };
            let approver = text(5)?;
            let (name, version, versions) = (text(1)?, text(2)?, r.get::<_, i64>(3)?);
            let model = || {
                display_of(
                    name.unwrap_or_default(),
                    version.unwrap_or_default(),
                    versions,
                )
            };
            push(
                "approval-expiry",
                r.get_ref(4)?.as_str().map_err(rusqlite::Error::from)?,
                "model",
                id,
                approver,
                true,
                &|| format!("approval-expiry-model-{id}@{rid}"),
                &|| {
                    let model = model();
                    (
                        format!("Approval of {model} expires: renew or retire"),
                        model,
                    )
                },
            );
        }
        // Exception deadlines and follow-up reviews.
        let mut st = self.conn.prepare_cached(
            "SELECT e.id, m.name, m.version, (SELECT count(*) FROM models m2 WHERE m2.name = m.name), e.state,
                    e.validation, e.validate_by, e.decide_by, e.follow_up, e.metric,
                    (SELECT email FROM members WHERE id = d.validator_id), o.email,
                    (SELECT email FROM members WHERE id = d.approver_id)
             FROM exceptions e JOIN models m ON m.id = e.model_id JOIN members o ON o.id = m.owner_id
             LEFT JOIN decision_rights d ON d.model_id = m.id",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let state = r.get_ref(4)?.as_str().map_err(rusqlite::Error::from)?;
            let validation = r.get_ref(5)?.as_str().map_err(rusqlite::Error::from)?;
            let validate_by = r.get_ref(6)?.as_str().map_err(rusqlite::Error::from)?;
            let decide_by = r.get_ref(7)?.as_str().map_err(rusqlite::Error::from)?;
            let follow_up = r
                .get_ref(8)?
                .as_str_or_null()
                .map_err(rusqlite::Error::from)?;
            let text = |i: usize| {
                r.get_ref(i)?
                    .as_str_or_null()
                    .map_err(rusqlite::Error::from)
            };
            let metric = text(9)?;
            let validator = text(10)?;
            let owner = text(11)?;
            let approver = text(12)?;
            let (name, version, versions) = (text(1)?, text(2)?, r.get::<_, i64>(3)?);
            // The title's subject and the item's model, built for the items a page lists.
            let uid = |kind: &str| format!("{kind}-exception-{id}@{rid}");
            let text = |verb: &str| {
                let model = display_of(
                    name.unwrap_or_default(),
                    version.unwrap_or_default(),
                    versions,
                );
                let what = match metric {
                    Some(m) => format!("{m} breach on {model}"),
                    None => format!("lapsed approval of {model}"),
                };
                (format!("{verb} the {what} (exception {id})"), model)
            };
            let open = !matches!(state, "closed" | "dismissed");
            if open && validation == "pending" && state != "decided" {
                push(
                    "validate-deadline",
                    validate_by,
                    "exception",
                    id,
                    validator,
                    true,
                    &|| uid("validate-deadline"),
                    &|| text("Validate"),
                );
            }
            if open && state != "decided" {
                push(
                    "decide-deadline",
                    decide_by,
                    "exception",
                    id,
                    owner,
                    true,
                    &|| uid("decide-deadline"),
                    &|| text("Decide a disposition for"),
                );
            }
            if state == "decided" {
                push(
                    "cosign-deadline",
                    decide_by,
                    "exception",
                    id,
                    approver,
                    true,
                    &|| uid("cosign-deadline"),
                    &|| text("Co-sign the disposition of"),
                );
            }
            if let Some(f) = follow_up {
                push(
                    "follow-up",
                    f,
                    "exception",
                    id,
                    owner,
                    false,
                    &|| uid("follow-up"),
                    &|| text("Follow-up review of"),
                );
            }
        }
        // NHI rotations and expiries of active NHIs: the NHI's owner acts. Dated in the range, or
        // overdue before it (the most overdue `overdue_limit` of them, and how many in all).
        let mut more: Vec<DayCount> = Vec::new();
        let cap = overdue_limit.map(|n| n as i64).unwrap_or(-1);
        let (f, t, d) = (from.to_string(), to.to_string(), today.to_string());
        // Per kind: its date, and the order of its index within one day (so a day's first
        // `per_day_limit` are read from the index, not sorted).
        for (kind, date_sql, day_order, by_owner) in [
            (
                "rotation-due",
                ROTATION_DUE_SQL,
                "n.owner_id, n.last_rotated, n.created_at, n.rotation_days, n.id",
                // `+`: the owner narrows the rows the date index finds (a member owns thousands).
                "AND +n.owner_id = (SELECT id FROM members WHERE email = ?4)",
            ),
            (
                "nhi-expiry",
                "n.expires",
                "n.id",
                // The index nhis_owner_expires (schema v6): the member's expiries by date.
                "AND n.owner_id = (SELECT id FROM members WHERE email = ?4)",
            ),
        ] {
            let who = if member.is_some() {
                by_owner
            } else {
                "AND ?4 IS NULL"
            };
            let select = format!(
                "SELECT n.id, n.name, n.kind, n.rotation_days, o.email, {date_sql}
                 FROM nhis n JOIN members o ON o.id = n.owner_id WHERE n.status = 'active' {who}"
            );
            let before = format!("{date_sql} < min(?1, ?3)");
            let mut rows = Vec::new();
            {
                match per_day_limit {
                    None => {
                        let mut st = self.conn.prepare_cached(&format!(
                            "{select} AND {date_sql} BETWEEN ?1 AND ?2"
                        ))?;
                        let mut q = st.query(params![f, t, d, member])?;
                        while let Some(r) = q.next()? {
                            rows.push(nhi_item_row(r)?);
                        }
                    }
                    Some(limit) => {
                        // How many fall on each day; then the first `limit` of each day.
                        let mut days: Vec<(String, i64)> = Vec::new();
                        let mut st = self.conn.prepare_cached(&format!(
                            "SELECT {date_sql}, count(*) FROM nhis n WHERE n.status = 'active' {who}
                               AND {date_sql} BETWEEN ?1 AND ?2 AND ?3 IS NOT NULL GROUP BY 1"
                        ))?;
                        let mut q = st.query(params![f, t, d, member])?;
                        while let Some(r) = q.next()? {
                            days.push((r.get(0)?, r.get(1)?));
                        }
                        let mut st = self.conn.prepare_cached(&format!(
                            "{select} AND {date_sql} = ?5 AND ?1 || ?2 || ?3 IS NOT NULL
                             ORDER BY {day_order} LIMIT ?6"
                        ))?;
                        for (day, n) in days {
                            let mut q = st.query(params![f, t, d, member, day, limit as i64])?;
                            while let Some(r) = q.next()? {
                                rows.push(nhi_item_row(r)?);
                            }
                            if n > limit as i64 {
                                more.push(DayCount {
                                    date: day,
                                    kind: kind.to_string(),
                                    count: n - limit as i64,
                                });
                            }
                        }
                    }
                }
                let mut st = self.conn.prepare_cached(&format!(
                    "{select} AND {before}
                     ORDER BY {date_sql}, '{kind}-nhi-' || n.id || '@' || ?6 LIMIT ?5"
                ))?;
                let mut q = st.query(params![f, t, d, member, cap, rid])?;
                while let Some(r) = q.next()? {
                    rows.push(nhi_item_row(r)?);
                }
                let n: i64 = self
                    .conn
                    .prepare_cached(&format!(
                        // No join: every NHI has an owner (NOT NULL, a foreign key), and the
                        // count then reads an index alone (schema v6 for expiries).
                        "SELECT count(*) FROM nhis n WHERE n.status = 'active' {who} AND {before}"
                    ))?
                    .query_row(params![f, t, d, member], |r| r.get(0))?;
                overdue_counts.push((kind.to_string(), n));
            }
            for (id, name, nkind, rotation_days, owner, date) in rows {
                let Some(date) = date else { continue };
                let Some(dd) = fast_date(&date) else {
                    continue;
                };
                let title = if kind == "rotation-due" {
                    format!("Rotate {name} ({nkind}, every {rotation_days} days)")
                } else {
                    format!("{name} ({nkind}) expires")
                };
                items.push(CalendarItem {
                    uid: format!("{kind}-nhi-{id}@{rid}"),
                    kind: kind.into(),
                    date,
                    title,
                    entity_type: "nhi".into(),
                    entity_id: id,
                    model: None,
                    nhi: Some(name),
                    member: Some(owner),
                    overdue: dd < today,
                    days_left: (dd - today).num_days(),
                });
            }
        }
        // Split off the overdue NHI items from before the range; keep the most overdue of all.
        let from_s = from.to_string();
        let (nhi_before, mut items): (Vec<CalendarItem>, Vec<CalendarItem>) = items
            .into_iter()
            .partition(|i| i.overdue && i.date < from_s);
        before.extend(nhi_before);
        before.sort_by(order);
        if let Some(n) = overdue_limit {
            before.truncate(n);
        }
        // Approval and exception items dated in the range get the same per-day cap as the NHI
        // items (which SQL already capped): the first `limit` of a day and kind, the rest counted.
        if let Some(limit) = per_day_limit {
            items.sort_by(order);
            let mut left_out: std::collections::BTreeMap<(String, String), i64> =
                Default::default();
            let mut run: (String, String, usize) = Default::default();
            items.retain(|i| {
                if i.entity_type == "nhi" {
                    return true;
                }
                if run.0 != i.date || run.1 != i.kind {
                    run = (i.date.clone(), i.kind.clone(), 0);
                }
                run.2 += 1;
                if run.2 <= limit {
                    return true;
                }
                *left_out
                    .entry((i.date.clone(), i.kind.clone()))
                    .or_default() += 1;
                false
            });
            more.extend(left_out.into_iter().map(|((date, kind), count)| DayCount {
                date,
                kind,
                count,
            }));
        }
        items.extend(before);
        items.sort_by(order);
        more.sort_by(|a, b| (&a.date, &a.kind).cmp(&(&b.date, &b.kind)));
        overdue_counts.retain(|(_, n)| *n > 0);
        overdue_counts.sort();
        Ok(CalendarPage {
            overdue_before: overdue_counts.iter().map(|(_, n)| n).sum(),
            overdue_by_kind: overdue_counts
                .into_iter()
                .map(|(kind, count)| KindCount { kind, count })
                .collect(),
            items,
            more,
        })
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
