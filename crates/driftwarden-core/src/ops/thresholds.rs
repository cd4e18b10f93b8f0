//! Thresholds: versioned limits on a metric. A new or changed threshold is `proposed`; an approval
//! (governance workflow) makes it `approved`. The approved version stays in force until a newer
//! version is approved.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use crate::domain::{check_finite, Direction, ThresholdStatus};
use crate::error::{CoreError, Result};
use crate::ops::models::{require_owner_or_admin, resolve_model};
use crate::registry::Registry;

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct SetThreshold {
    pub metric: String,
    pub breach: f64,
    pub warn: Option<f64>,
    /// `above` (default) or `below`.
    pub direction: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ThresholdView {
    pub id: i64,
    pub model_id: i64,
    pub metric: String,
    pub version: i64,
    pub breach: f64,
    pub warn: Option<f64>,
    pub direction: Direction,
    pub status: ThresholdStatus,
    pub proposed_by: String,
    pub proposed_at: String,
}

/// Metric names: letters, digits and `_ - . : /`, up to 200 characters (e.g. `psi`,
/// `drift:income`, `share_drifted_columns`).
pub fn metric_name_ok(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 200
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c))
}

pub fn check_metric(field: &str, s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(CoreError::invalid(field, "is required"));
    }
    if t.len() > 200
        || !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c))
    {
        return Err(CoreError::invalid(
            field,
            format!("{t:?} is not a metric name (letters, digits and _ - . : / only)"),
        ));
    }
    Ok(t.to_string())
}

const THRESHOLD_SELECT: &str =
    "SELECT t.id, t.model_id, t.metric, t.version, t.breach, t.warn, t.direction,
    t.status, m.email, t.proposed_at FROM thresholds t JOIN members m ON m.id = t.proposed_by";

fn threshold_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ThresholdView> {
    let dir: String = r.get(6)?;
    let status: String = r.get(7)?;
    Ok(ThresholdView {
        id: r.get(0)?,
        model_id: r.get(1)?,
        metric: r.get(2)?,
        version: r.get(3)?,
        breach: r.get(4)?,
        warn: r.get(5)?,
        direction: Direction::parse("direction", &dir).unwrap_or(Direction::Above),
        status: ThresholdStatus::parse("status", &status).unwrap_or(ThresholdStatus::Proposed),
        proposed_by: r.get(8)?,
        proposed_at: r.get(9)?,
    })
}

impl Registry {
    pub(crate) fn thresholds_of(&self, model_id: i64) -> Result<Vec<ThresholdView>> {
        let mut st = self.conn.prepare(&format!(
            "{THRESHOLD_SELECT} WHERE t.model_id = ?1 ORDER BY t.metric, t.version"
        ))?;
        let rows = st
            .query_map([model_id], threshold_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Every version of every threshold of a model.
    pub fn list_thresholds(&self, model: &str) -> Result<Vec<ThresholdView>> {
        let id = resolve_model(&self.conn, model)?;
        self.thresholds_of(id)
    }

    /// Proposes a new version of a model's threshold on `metric` (its accountable owner or an
    /// admin). A still-pending proposal for the same metric is withdrawn; an approved version stays
    /// in force until the new one is approved.
    pub fn set_threshold(&mut self, model: &str, input: &SetThreshold) -> Result<ThresholdView> {
        let model_id = resolve_model(&self.conn, model)?;
        require_owner_or_admin(self, model_id, "changing thresholds")?;
        let metric = check_metric("metric", &input.metric)?;
        let breach = check_finite("breach", input.breach)?;
        let warn = input.warn.map(|w| check_finite("warn", w)).transpose()?;
        let direction = match &input.direction {
            Some(d) => Direction::parse("direction", d)?,
            None => Direction::Above,
        };
        if let Some(w) = warn {
            let ok = match direction {
                Direction::Above => w < breach,
                Direction::Below => w > breach,
            };
            if !ok {
                return Err(CoreError::invalid(
                    "warn",
                    format!(
                        "the warn level must come before the breach level: {} {breach} for direction {direction}",
                        if direction == Direction::Above { "below" } else { "above" }
                    ),
                ));
            }
        }
        let id = self.write(|w| {
            let last: Option<i64> = w
                .query_row(
                    "SELECT max(version) FROM thresholds WHERE model_id = ?1 AND metric = ?2",
                    params![model_id, metric],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            let version = last.unwrap_or(0) + 1;
            let withdrawn = w.execute(
                "UPDATE thresholds SET status = 'withdrawn' WHERE model_id = ?1 AND metric = ?2 AND status = 'proposed'",
                params![model_id, metric],
            )?;
            w.execute(
                "INSERT INTO thresholds (model_id, metric, version, breach, warn, direction, status, proposed_by, proposed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'proposed', ?7, ?8)",
                params![model_id, metric, version, breach, warn, direction.as_str(), w.actor.id, w.now],
            )?;
            let id = w.last_insert_rowid();
            w.record(
                "threshold.propose",
                "threshold",
                id,
                json!({
                    "model_id": model_id, "metric": metric, "version": version, "breach": breach,
                    "warn": warn, "direction": direction, "withdrew_pending": withdrawn > 0,
                }),
            )?;
            Ok(id)
        })?;
        Ok(self.conn.query_row(
            &format!("{THRESHOLD_SELECT} WHERE t.id = ?1"),
            [id],
            threshold_row,
        )?)
    }
}
