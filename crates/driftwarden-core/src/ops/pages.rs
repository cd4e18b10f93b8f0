//! Reads sized for large registries: pages of models, exceptions and audit events, and drift
//! series downsampled for display. What a screen shows at once, never the whole table.

use rusqlite::params;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::audit::AuditEventView;
use crate::domain::{ApprovalStatus, DeploymentMode, ExceptionState, ModelStatus, RiskTier};
use crate::error::{CoreError, Result};
use crate::ops::exceptions::{ex_row, ExceptionView, EX_SELECT};
use crate::ops::measurements::seconds_time;
use crate::ops::models::{finish, model_row, resolve_model, ModelView, MODEL_SELECT};
use crate::registry::Registry;

/// Largest page any paged read returns.
pub const MAX_PAGE: i64 = 500;
/// Default number of points of a displayed drift series.
pub const CHART_POINTS: usize = 2000;

/// An optional cap on how many items a read lists (`field` names it in the error): 0..=`MAX_PAGE`,
/// or `None` for all of them.
pub(crate) fn item_limit(field: &str, v: Option<i64>) -> Result<Option<usize>> {
    match v {
        None => Ok(None),
        Some(n) if (0..=MAX_PAGE).contains(&n) => Ok(Some(n as usize)),
        Some(_) => Err(CoreError::invalid(
            field,
            format!("must be between 0 and {MAX_PAGE}"),
        )),
    }
}

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
    /// approved, pending, lapsed, retired: the approval state as of the registry's today (see
    /// `ModelView::approval_status`).
    #[serde(default)]
    pub approval_status: Option<String>,
    /// Part of the name, business function, owner email or intended use (case-insensitive for
    /// ASCII; `%` and `_` match themselves).
    pub search: Option<String>,
    /// The column to order by (name when absent); ties are broken by id.
    #[serde(default)]
    pub sort: Option<ModelSort>,
    /// Ascending when absent.
    #[serde(default)]
    pub direction: Option<SortDirection>,
    #[serde(default)]
    pub offset: i64,
    /// 1..=500
    pub limit: i64,
}

/// What the model list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ModelSort {
    /// Name, then version.
    #[default]
    Name,
    /// The accountable owner's email.
    Owner,
    /// high, medium, low.
    RiskTier,
    /// active, paused, rolled-back, retired.
    Status,
    /// canary, production, shadow (alphabetical).
    DeploymentMode,
    /// approved, lapsed, pending, retired (alphabetical), as of today.
    ApprovalStatus,
    /// The latest approval's expiry; models never approved come first ascending.
    ApprovalExpiry,
    /// When the model was registered.
    Registered,
}

/// Ascending or descending; descending is the exact reverse of ascending (ties included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

/// The approval state of `m` as of `?1` (today, `YYYY-MM-DD`) from its latest approval `la`:
/// the same rule as `ops::models::finish`.
const APPROVAL_STATUS_SQL: &str = "(CASE WHEN m.status = 'retired' THEN 'retired'
    WHEN la.status = 'active' AND la.expires_on > ?1 THEN 'approved'
    WHEN la.status IN ('active', 'lapsed') THEN 'lapsed' ELSE 'pending' END)";

/// Each model's latest approval `la` (none: NULL columns), for filtering and ordering.
const LATEST_APPROVAL_JOIN: &str = " LEFT JOIN approvals la
    ON la.id = (SELECT max(a.id) FROM approvals a WHERE a.model_id = m.id)";

/// A `LIKE` pattern matching `s` anywhere, with `\`, `%` and `_` escaped (use `ESCAPE '\'`).
fn contains_pattern(s: &str) -> String {
    format!(
        "%{}%",
        s.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

/// One page of models in the order asked for, and how many match in all.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ModelPage {
    pub total: i64,
    pub offset: i64,
    pub items: Vec<ModelView>,
}

/// One page of exceptions, overdue first, then by soonest next deadline, then newest; and how
/// many match in all.
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
    /// A page of the model list, filtered and ordered in the database.
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
        let approval = q
            .approval_status
            .as_deref()
            .map(|t| ApprovalStatus::parse("approval_status", t))
            .transpose()?;
        let owner = q.owner.as_deref().map(|o| o.trim().to_lowercase());
        let search = q
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(contains_pattern);
        let today = self.clock.now().date_naive();
        let today_s = today.format("%Y-%m-%d").to_string();
        // Only the conditions and joins this query needs: the model count on Home (no filter)
        // reads the models alone, not every model's owner and latest approval. `?1` is today.
        let mut args: Vec<Value> = vec![Value::Text(today_s)];
        let mut conds: Vec<String> = vec!["?1 IS NOT NULL".into()];
        let mut cond = |sql: &str, v: String| {
            args.push(Value::Text(v));
            conds.push(sql.replace('#', &format!("?{}", args.len())));
        };
        if let Some(t) = tier {
            cond("m.risk_tier = #", t.as_str().into());
        }
        if let Some(st) = status {
            cond("m.status = #", st.as_str().into());
        }
        if let Some(md) = mode {
            cond("m.deployment_mode = #", md.as_str().into());
        }
        if let Some(o) = owner {
            cond("o.email = #", o);
        }
        if let Some(p) = search {
            cond(
                "(m.name LIKE # ESCAPE '\\' OR m.business_function LIKE # ESCAPE '\\'
                  OR o.email LIKE # ESCAPE '\\' OR m.intended_use LIKE # ESCAPE '\\')",
                p,
            );
        }
        if let Some(a) = approval {
            cond(&format!("{APPROVAL_STATUS_SQL} = #"), a.as_str().into());
        }
        let filter = conds.join(" AND ");
        let dir = match q.direction.unwrap_or_default() {
            SortDirection::Asc => "ASC",
            SortDirection::Desc => "DESC",
        };
        let sort = q.sort.unwrap_or_default();
        let key = match sort {
            ModelSort::Name => format!("m.name {dir}, m.version {dir}"),
            ModelSort::Owner => format!("o.email {dir}"),
            ModelSort::RiskTier => {
                format!("CASE m.risk_tier WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END {dir}")
            }
            ModelSort::Status => format!(
                "CASE m.status WHEN 'active' THEN 0 WHEN 'paused' THEN 1
                 WHEN 'rolled-back' THEN 2 ELSE 3 END {dir}"
            ),
            ModelSort::DeploymentMode => format!("m.deployment_mode {dir}"),
            ModelSort::ApprovalStatus => format!("{APPROVAL_STATUS_SQL} {dir}"),
            ModelSort::ApprovalExpiry => format!("la.expires_on {dir}"),
            ModelSort::Registered => format!("m.created_at {dir}"),
        };
        let from = |ordered: bool| {
            let owners = q.owner.is_some()
                || q.search.as_deref().is_some_and(|s| !s.trim().is_empty())
                || (ordered && sort == ModelSort::Owner);
            let approvals = approval.is_some()
                || (ordered
                    && matches!(sort, ModelSort::ApprovalStatus | ModelSort::ApprovalExpiry));
            let mut from = String::from("FROM models m");
            if owners {
                from.push_str(" JOIN members o ON o.id = m.owner_id");
            }
            if approvals {
                from.push_str(LATEST_APPROVAL_JOIN);
            }
            from
        };
        let total: i64 = self
            .conn
            .prepare_cached(&format!("SELECT count(*) {} WHERE {filter}", from(false)))?
            .query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
        // The page's ids first (no per-row subqueries but the latest approval), then the rows.
        let n = args.len();
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT m.id {} WHERE {filter} ORDER BY {key}, m.id {dir} LIMIT ?{} OFFSET ?{}",
            from(true),
            n + 1,
            n + 2
        ))?;
        args.push(Value::Integer(limit));
        args.push(Value::Integer(offset));
        let ids = st
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                r.get::<_, i64>(0)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut one = self
            .conn
            .prepare_cached(&format!("{MODEL_SELECT} WHERE m.id = ?1"))?;
        let items = ids
            .iter()
            .map(|id| one.query_row([id], model_row).map(|v| finish(v, today)))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ModelPage {
            total,
            offset,
            items,
        })
    }

    /// A page of exceptions, optionally of one state (or `open`: any but closed and dismissed)
    /// and one model; overdue first, then by soonest next deadline (the one `overdue` checks),
    /// then newest.
    pub fn list_exceptions_page(
        &self,
        state: Option<&str>,
        model: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<ExceptionPage> {
        let (offset, limit) = page_bounds(offset, limit)?;
        let mut clauses: Vec<String> = Vec::new();
        match state.map(str::trim) {
            None | Some("") => {}
            Some(s) if s.eq_ignore_ascii_case("open") => {
                let open: Vec<String> = ExceptionState::ALL
                    .iter()
                    .filter(|s| !s.is_final())
                    .map(|s| format!("'{}'", s.as_str()))
                    .collect();
                clauses.push(format!("e.state IN ({})", open.join(", ")));
            }
            Some(s) => {
                let st = ExceptionState::parse("state", s).map_err(|_| {
                    CoreError::invalid(
                        "state",
                        format!(
                            "unknown value {s:?}; expected open or one of: {}",
                            ExceptionState::ALL
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?;
                clauses.push(format!("e.state = '{}'", st.as_str()));
            }
        }
        // Values are bound (numbered in `args`); the state names above come from the enum.
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(m) = model {
            args.push(resolve_model(&self.conn, m)?.into());
            clauses.push(format!("e.model_id = ?{}", args.len()));
        }
        let filter = if clauses.is_empty() {
            "1".to_string()
        } else {
            clauses.join(" AND ")
        };
        let total: i64 = self
            .conn
            .prepare_cached(&format!("SELECT count(*) FROM exceptions e WHERE {filter}"))?
            .query_row(rusqlite::params_from_iter(&args), |r| r.get(0))?;
        // The deadline `overdue` checks in each state (none once decided). An exception is
        // overdue exactly when that date is before today, so soonest deadline first puts the
        // overdue ones first, most overdue on top, whatever today is.
        let due = "(CASE WHEN e.state IN ('opened', 'validating') THEN e.validate_by
            WHEN e.state IN ('confirmed', 'escalated', 'recovered') THEN e.decide_by END)";
        let (lim, off) = (args.len() + 1, args.len() + 2);
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT e.id FROM exceptions e WHERE {filter}
             ORDER BY {due} IS NULL, {due}, e.id DESC LIMIT ?{lim} OFFSET ?{off}"
        ))?;
        args.extend([limit.into(), offset.into()]);
        let ids = st
            .query_map(rusqlite::params_from_iter(&args), |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut one = self
            .conn
            .prepare_cached(&format!("{EX_SELECT} WHERE e.id = ?1"))?;
        let mut items = ids
            .iter()
            .map(|id| one.query_row([id], ex_row))
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
        // Pass 1, from the index alone (series_id, observed_at, id, value): ids and values in
        // time order. Pass 2 reads only the points kept.
        let mut st = self.conn.prepare_cached(
            "SELECT m.id, m.value FROM series s JOIN measurements m ON m.series_id = s.id
             WHERE s.model_id = ?1 AND s.metric = ?2 ORDER BY m.observed_at, m.id",
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
                        observed_at: seconds_time(r, 0)?,
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
