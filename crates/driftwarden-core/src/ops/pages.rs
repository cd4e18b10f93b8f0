//! Reads sized for large registries: pages of models, exceptions and audit events, and drift
//! series downsampled for display. What a screen shows at once, never the whole table.

use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::audit::AuditEventView;
use crate::domain::{DeploymentMode, ExceptionState, ModelStatus, RiskTier};
use crate::error::{CoreError, Result};
use crate::ops::exceptions::{ex_row, ExceptionView, EX_SELECT};
use crate::ops::models::{finish, model_row, resolve_model, ModelView, MODEL_SELECT};
use crate::registry::Registry;

/// Largest page any paged read returns.
pub const MAX_PAGE: i64 = 500;
/// Default number of points of a displayed drift series.
pub const CHART_POINTS: usize = 2000;

fn page_bounds(offset: i64, limit: i64) -> Result<(i64, i64)> {
    if offset < 0 {
        return Err(CoreError::invalid("offset", "must not be negative"));
    }
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(CoreError::invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    Ok((offset, limit))
}

/// Filters and page of the model list; absent filters match everything.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct ModelQuery {
    /// high, medium, low
    pub risk_tier: Option<String>,
    /// active, paused, rolled-back, retired
    pub status: Option<String>,
    /// production, shadow, canary
    pub deployment_mode: Option<String>,
    /// The accountable owner's email.
    pub owner: Option<String>,
    /// Part of the name (case-insensitive).
    pub search: Option<String>,
    #[serde(default)]
    pub offset: i64,
    /// 1..=500
    pub limit: i64,
}

/// One page of models, by name and version, and how many match in all.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ModelPage {
    pub total: i64,
    pub offset: i64,
    pub items: Vec<ModelView>,
}

/// One page of exceptions, newest first, and how many match in all.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ExceptionPage {
    pub total: i64,
    pub offset: i64,
    pub items: Vec<ExceptionView>,
}

/// One point of a displayed drift series.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ChartPoint {
    pub observed_at: String,
    pub value: f64,
    /// none, ok, warn, breach
    pub evaluation: String,
}

/// A metric's series for a chart: every point when there are at most `max_points`, else the
/// first and last points and, per time-ordered bucket, its lowest and highest value (so every
/// spike, breach and dip stays visible).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DriftSeries {
    pub metric: String,
    /// Measurements stored for this metric.
    pub total: i64,
    pub downsampled: bool,
    pub points: Vec<ChartPoint>,
}

/// Which of `n` points min/max bucket downsampling keeps for at most `max` points (`max` ≥ 4):
/// the first, the last, and each bucket's lowest and highest value.
fn min_max_keep(n: usize, max: usize, value: impl Fn(usize) -> f64) -> Vec<bool> {
    let max = max.max(4);
    if n <= max {
        return vec![true; n];
    }
    let buckets = (max - 2) / 2;
    let inner = n - 2;
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    for b in 0..buckets {
        let start = 1 + b * inner / buckets;
        let end = 1 + (b + 1) * inner / buckets;
        if start >= end {
            continue;
        }
        let (mut lo, mut hi) = (start, start);
        let (mut lo_v, mut hi_v) = (value(start), value(start));
        for i in start + 1..end {
            let v = value(i);
            if v < lo_v {
                (lo, lo_v) = (i, v);
            }
            if v > hi_v {
                (hi, hi_v) = (i, v);
            }
        }
        keep[lo] = true;
        keep[hi] = true;
    }
    keep
}

/// Min/max bucket downsampling to at most `max` points (`max` ≥ 4), in time order. Keeps the
/// first and last point; each bucket contributes its minimum and its maximum.
pub fn downsample_min_max(points: Vec<ChartPoint>, max: usize) -> Vec<ChartPoint> {
    let keep = min_max_keep(points.len(), max, |i| points[i].value);
    points
        .into_iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(p))
        .collect()
}

impl Registry {
    /// A page of the model list, filtered in the database.
    pub fn list_models_page(&self, q: &ModelQuery) -> Result<ModelPage> {
        let (offset, limit) = page_bounds(q.offset, q.limit)?;
        let tier = q
            .risk_tier
            .as_deref()
            .map(|t| RiskTier::parse("risk_tier", t))
            .transpose()?;
        let status = q
            .status
            .as_deref()
            .map(|t| ModelStatus::parse("status", t))
            .transpose()?;
        let mode = q
            .deployment_mode
            .as_deref()
            .map(|t| DeploymentMode::parse("deployment_mode", t))
            .transpose()?;
        let owner = q.owner.as_deref().map(|o| o.trim().to_lowercase());
        let search = q
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                format!(
                    "%{}%",
                    s.replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                )
            });
        let filter = "(?1 IS NULL OR m.risk_tier = ?1) AND (?2 IS NULL OR m.status = ?2)
             AND (?3 IS NULL OR m.deployment_mode = ?3) AND (?4 IS NULL OR o.email = ?4)
             AND (?5 IS NULL OR m.name LIKE ?5 ESCAPE '\\')";
        let (tier, status, mode) = (
            tier.map(|t| t.as_str()),
            status.map(|s| s.as_str()),
            mode.map(|m| m.as_str()),
        );
        let total: i64 = self.conn.query_row(
            &format!(
                "SELECT count(*) FROM models m JOIN members o ON o.id = m.owner_id WHERE {filter}"
            ),
            params![tier, status, mode, owner, search],
            |r| r.get(0),
        )?;
        let today = self.clock.now().date_naive();
        let mut st = self.conn.prepare_cached(&format!(
            "{MODEL_SELECT} WHERE {filter} ORDER BY m.name, m.version LIMIT ?6 OFFSET ?7"
        ))?;
        let items = st
            .query_map(
                params![tier, status, mode, owner, search, limit, offset],
                model_row,
            )?
            .map(|r| r.map(|v| finish(v, today)))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ModelPage {
            total,
            offset,
            items,
        })
    }

    /// A page of exceptions, newest first, optionally by state and model.
    pub fn list_exceptions_page(
        &self,
        state: Option<&str>,
        model: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<ExceptionPage> {
        let (offset, limit) = page_bounds(offset, limit)?;
        let state = state
            .map(|s| ExceptionState::parse("state", s))
            .transpose()?;
        let model_id = model.map(|m| resolve_model(&self.conn, m)).transpose()?;
        let filter = "(?1 IS NULL OR e.state = ?1) AND (?2 IS NULL OR e.model_id = ?2)";
        let total: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM exceptions e WHERE {filter}"),
            params![state.map(|s| s.as_str()), model_id],
            |r| r.get(0),
        )?;
        let mut st = self.conn.prepare_cached(&format!(
            "{EX_SELECT} WHERE {filter} ORDER BY e.id DESC LIMIT ?3 OFFSET ?4"
        ))?;
        let mut items = st
            .query_map(
                params![state.map(|s| s.as_str()), model_id, limit, offset],
                ex_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for v in &mut items {
            self.fill_exception(v)?;
        }
        Ok(ExceptionPage {
            total,
            offset,
            items,
        })
    }

    /// A page of the audit log, newest first: the `limit` events before sequence `before`
    /// (from the head when absent). Pass the smallest `seq` of a page to get the next one.
    pub fn audit_log_page(&self, before: Option<i64>, limit: i64) -> Result<Vec<AuditEventView>> {
        let (_, limit) = page_bounds(0, limit)?;
        crate::audit::page(&self.conn, before, limit)
    }

    /// A metric's series of a model for its drift chart, downsampled to at most `max_points`
    /// (default `CHART_POINTS`).
    pub fn drift_series(
        &self,
        model: &str,
        metric: &str,
        max_points: Option<usize>,
    ) -> Result<DriftSeries> {
        let model_id = resolve_model(&self.conn, model)?;
        let max = max_points.unwrap_or(CHART_POINTS).max(4);
        // Pass 1, from the index alone (model_id, metric, observed_at, id, value): ids and
        // values in time order. Pass 2 reads only the points kept.
        let mut st = self.conn.prepare_cached(
            "SELECT id, value FROM measurements WHERE model_id = ?1 AND metric = ?2
             ORDER BY observed_at, id",
        )?;
        let series = st
            .query_map(params![model_id, metric], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let keep = min_max_keep(series.len(), max, |i| series[i].1);
        let mut one = self.conn.prepare_cached(
            "SELECT observed_at, value, evaluation FROM measurements WHERE id = ?1",
        )?;
        let mut points = Vec::with_capacity(max.min(series.len()));
        for ((id, _), k) in series.iter().zip(keep) {
            if k {
                points.push(one.query_row([id], |r| {
                    Ok(ChartPoint {
                        observed_at: r.get(0)?,
                        value: r.get(1)?,
                        evaluation: r.get(2)?,
                    })
                })?);
            }
        }
        Ok(DriftSeries {
            metric: metric.to_string(),
            total: series.len() as i64,
            downsampled: points.len() < series.len(),
            points,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[f64]) -> Vec<ChartPoint> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| ChartPoint {
                observed_at: format!("2026-01-01T00:00:{i:02}Z"),
                value: *v,
                // The index, so the test can find each point's place.
                evaluation: i.to_string(),
            })
            .collect()
    }

    #[test]
    fn short_series_are_untouched() {
        let s = series(&[1.0, 2.0, 3.0]);
        assert_eq!(downsample_min_max(s.clone(), 10), s);
    }

    #[test]
    fn long_series_keep_ends_spikes_and_order() {
        let mut values: Vec<f64> = (0..100_000)
            .map(|i| (i as f64 * 0.01).sin() * 0.1)
            .collect();
        values[31_337] = 9.0; // a breach spike
        values[77_777] = -9.0; // a dip
        let pts = series(&values);
        let out = downsample_min_max(pts.clone(), 2000);
        assert!(out.len() <= 2000 && out.len() > 1000, "{}", out.len());
        assert_eq!(out.first(), pts.first());
        assert_eq!(out.last(), pts.last());
        assert!(out.iter().any(|p| p.value == 9.0));
        assert!(out.iter().any(|p| p.value == -9.0));
        // Still in time order.
        let idx: Vec<usize> = out.iter().map(|p| p.evaluation.parse().unwrap()).collect();
        assert!(idx.windows(2).all(|w| w[0] < w[1]));
    }
}
