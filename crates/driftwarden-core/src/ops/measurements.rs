//! Measurements in: CSV and Evidently report imports, streamed, one transaction per file, each
//! measurement evaluated against the model's approved thresholds as it is stored.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::clock::format_time;
use crate::domain::{Direction, ExceptionKind, ExceptionState};
use crate::error::{CoreError, Result};
use crate::ops::exceptions::{load_row, open_exception, set_state, Opening};
use crate::ops::models::resolve_model;
use crate::ops::thresholds::{check_metric, metric_name_ok};
use crate::policy::Policy;
use crate::registry::{Registry, Tx};
use crate::workflow::{self, Action};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum IngestFormat {
    Csv,
    Evidently,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct IngestOptions {
    pub format: IngestFormat,
    /// For Evidently reports: the model they measure (`NAME` or `NAME@VERSION`).
    pub model: Option<String>,
    /// For Evidently reports: RFC 3339 time of the measurement (defaults to the report's own
    /// timestamp if it has one, else now).
    pub observed_at: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export)]
pub struct IngestReport {
    pub import_id: i64,
    pub file: String,
    pub sha256: String,
    pub rows: i64,
    /// Measurements over a warn level (a notice, not an exception).
    pub notices: i64,
    pub breaches: i64,
    pub opened: Vec<i64>,
    pub rebreaches: Vec<i64>,
    pub recovered: Vec<i64>,
    pub breached_again: Vec<i64>,
}

/// One measurement given directly rather than in a file (e.g. computed by the drift engine).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NewMeasurement {
    pub metric: String,
    pub value: f64,
    pub segment: Option<String>,
}

/// A measurement of the whole dataset (no segment): `(metric, value)`.
impl From<(String, f64)> for NewMeasurement {
    fn from((metric, value): (String, f64)) -> Self {
        NewMeasurement {
            metric,
            value,
            segment: None,
        }
    }
}

/// Progress of a long import: bytes read of the total, and rows so far.
#[derive(Debug, Clone, Copy, Serialize, TS)]
#[ts(export)]
pub struct Progress {
    pub bytes: u64,
    pub total_bytes: u64,
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct MeasurementView {
    pub id: i64,
    pub model_id: i64,
    pub metric: String,
    pub value: f64,
    pub observed_at: String,
    pub segment: Option<String>,
    pub source: Option<String>,
    pub import_id: i64,
    /// none (no approved threshold), ok, warn, breach
    pub evaluation: String,
    pub threshold_id: Option<i64>,
    pub exception_id: Option<i64>,
}

/// Reads through, hashing and counting bytes.
struct Tap<R> {
    inner: R,
    hash: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

#[derive(Clone, Copy)]
struct Th {
    id: i64,
    breach: f64,
    warn: Option<f64>,
    direction: Direction,
}

impl Th {
    fn over(&self, level: f64, v: f64) -> bool {
        match self.direction {
            Direction::Above => v > level,
            Direction::Below => v < level,
        }
    }
}

/// The open breach exception of a (model, metric), with breach counters not yet written.
struct Open {
    id: i64,
    state: ExceptionState,
    last_breach_at: Option<String>,
    last_breach_value: Option<f64>,
    /// Breaching measurements attached in this import, written once at the end.
    pending_breaches: i64,
}

/// What the evaluator knows about one (model, metric): its number in `series` (once it has one),
/// the threshold in force and the open exception, loaded once per import and kept in step with
/// what it writes.
#[derive(Default)]
struct Series {
    id: Option<i64>,
    threshold: Option<Th>,
    open: Option<Open>,
}

/// The number of a (model, metric) series, given to it when it is first measured.
fn series_id(w: &Tx<'_>, model_id: i64, metric: &str) -> Result<i64> {
    let found = w
        .prepare_cached("SELECT id FROM series WHERE model_id = ?1 AND metric = ?2")?
        .query_row(params![model_id, metric], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    w.prepare_cached("INSERT INTO series (model_id, metric) VALUES (?1, ?2)")?
        .execute(params![model_id, metric])?;
    Ok(w.last_insert_rowid())
}

fn load_series(w: &Tx<'_>, model_id: i64, metric: &str) -> Result<Series> {
    let threshold = w
        .prepare_cached(
            // The approved version in force; a model never approved is still monitored, against its
            // latest proposed version (monitoring is never suppressed).
            "SELECT id, breach, warn, direction FROM thresholds WHERE model_id = ?1 AND metric = ?2
             AND status IN ('approved', 'proposed')
             ORDER BY status = 'approved' DESC, version DESC LIMIT 1",
        )?
        .query_row(params![model_id, metric], |r| threshold_row(r, 0))
        .optional()?;
    let open = w
        .prepare_cached(
            "SELECT id, state, last_breach_at, last_breach_value FROM exceptions WHERE model_id = ?1 AND metric = ?2
             AND kind = 'breach' AND state NOT IN ('dismissed', 'closed') ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![model_id, metric], |r| open_row(r, 0))
        .optional()?;
    Ok(Series {
        id: None,
        threshold,
        open,
    })
}

/// `id, breach, warn, direction` of a threshold, from column `at` on.
fn threshold_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Th> {
    Ok(Th {
        id: r.get(at)?,
        breach: r.get(at + 1)?,
        warn: r.get(at + 2)?,
        direction: Direction::parse("direction", &r.get::<_, String>(at + 3)?)
            .unwrap_or(Direction::Above),
    })
}

/// `id, state, last_breach_at, last_breach_value` of an open exception, from column `at` on.
fn open_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Open> {
    Ok(Open {
        id: r.get(at)?,
        state: ExceptionState::parse("state", &r.get::<_, String>(at + 1)?)
            .unwrap_or(ExceptionState::Opened),
        last_breach_at: r.get(at + 2)?,
        last_breach_value: r.get(at + 3)?,
        pending_breaches: 0,
    })
}

/// Series preloaded for a large import, by model: `(metric, series)`.
type Preloaded = HashMap<i64, Vec<(String, Series)>>;

/// Every series' number, threshold in force and open breach exception, in three scans, chosen as
/// `load_series` chooses them: for a large import, where one query pair per series costs more
/// (each reads and decrypts its own pages). A series not in the result has none of them.
fn preload_series(w: &Tx<'_>) -> Result<Preloaded> {
    fn slot(pre: &mut Preloaded, model_id: i64, metric: String) -> &mut Series {
        let v = pre.entry(model_id).or_default();
        let i = match v.iter().position(|(m, _)| *m == metric) {
            Some(i) => i,
            None => {
                v.push((metric, Series::default()));
                v.len() - 1
            }
        };
        &mut v[i].1
    }
    let mut pre = Preloaded::new();
    let mut st = w.prepare("SELECT model_id, metric, id FROM series")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        slot(&mut pre, r.get(0)?, r.get(1)?).id = Some(r.get(2)?);
    }
    // Ordered so that the first row of each (model, metric) is the one `load_series` takes.
    let mut st = w.prepare(
        "SELECT model_id, metric, id, breach, warn, direction FROM thresholds
         WHERE status IN ('approved', 'proposed')
         ORDER BY model_id, metric, status = 'approved' DESC, version DESC",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let s = slot(&mut pre, r.get(0)?, r.get(1)?);
        if s.threshold.is_none() {
            s.threshold = Some(threshold_row(r, 2)?);
        }
    }
    let mut st = w.prepare(
        "SELECT model_id, metric, id, state, last_breach_at, last_breach_value FROM exceptions
         WHERE kind = 'breach' AND metric IS NOT NULL AND state NOT IN ('dismissed', 'closed')
         ORDER BY model_id, metric, id DESC",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let s = slot(&mut pre, r.get(0)?, r.get(1)?);
        if s.open.is_none() {
            s.open = Some(open_row(r, 2)?);
        }
    }
    Ok(pre)
}

/// Rows waiting to be inserted, with their string buffers reused from batch to batch.
#[derive(Default)]
struct PendingRow {
    /// The order of insertion (see `CHUNK_ROWS`).
    model_id: i64,
    series_id: i64,
    value: f64,
    /// Seconds since 1970-01-01T00:00:00Z.
    at: i64,
    segment: Option<String>,
    source: Option<String>,
    evaluation: &'static str,
    threshold_id: Option<i64>,
    exception_id: Option<i64>,
}

const BATCH_ROWS: usize = 64;
/// Rows evaluated and buffered before they are inserted. Each chunk goes in ordered by model
/// (a stable sort: a model's rows keep their order, so their ids and every per-model listing
/// stay as the file had them): consecutive inserts then land in the same leaf of the series
/// index instead of a different one for nearly every row, which is what an import costs with
/// thousands of series.
const CHUNK_ROWS: usize = 65_536;
/// Page cache during an import, in KiB, at most (192 MiB; a quarter of the database). Every chunk touches one index leaf per series
/// and an import dirties pages as it goes; with 20,000 series and 1,000,000 rows (the scale
/// benchmark) 128 MiB re-read (and, encrypted, decrypted) ~75,000 evicted pages, 192 MiB none
/// of those; more only delays the spill of dirty pages to the WAL. SQLite allocates the pages
/// on demand (a small import stays small) and `db::restore_cache` gives them back afterwards.
const IMPORT_CACHE_KIB: i64 = 196_608;
/// `OR FAIL`: a row that broke a constraint would fail the statement without SQLite undoing the
/// rows before it, and so without the statement journal it otherwise keeps for a multi-row
/// insert (a copy of every page a statement touches first: ~10% of a large import). Nothing is
/// left half-done: any error fails the import, and its transaction or savepoint rolls back.
const INSERT_HEAD: &str =
    "INSERT OR FAIL INTO measurements (series_id, value, observed_at, segment, source,
    import_id, evaluation, threshold_id, exception_id) VALUES ";

#[cfg(not(test))]
fn chunk_rows() -> usize {
    CHUNK_ROWS
}

#[cfg(test)]
thread_local! {
    /// The unit tests import in small chunks, to cross many chunk boundaries.
    static TEST_CHUNK_ROWS: std::cell::Cell<usize> = const { std::cell::Cell::new(CHUNK_ROWS) };
}

#[cfg(test)]
fn chunk_rows() -> usize {
    TEST_CHUNK_ROWS.with(|c| c.get())
}

/// Inserts measurements `CHUNK_ROWS` at a time, ordered by model, `BATCH_ROWS` per prepared
/// multi-row statement: the per-statement cost of SQLite and of binding is paid once per batch
/// instead of once per row.
struct InsertBatch<'c> {
    many: rusqlite::Statement<'c>,
    one: rusqlite::Statement<'c>,
    import_id: i64,
    /// `rows[..len]` wait to be inserted; the rest are buffers to reuse.
    rows: Vec<PendingRow>,
    len: usize,
    /// The insertion order of `rows[..len]`.
    order: Vec<u32>,
}

fn reuse_opt(buf: &mut Option<String>, s: Option<&str>) {
    match (buf.as_mut(), s) {
        (Some(b), Some(s)) => {
            b.clear();
            b.push_str(s);
        }
        (_, s) => *buf = s.map(str::to_string),
    }
}

impl<'c> InsertBatch<'c> {
    fn new(conn: &'c rusqlite::Connection, import_id: i64) -> Result<Self> {
        let tuple = "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
        let many = conn.prepare(&format!(
            "{INSERT_HEAD}{}",
            vec![tuple; BATCH_ROWS].join(", ")
        ))?;
        let one = conn.prepare(&format!("{INSERT_HEAD}{tuple}"))?;
        Ok(InsertBatch {
            many,
            one,
            import_id,
            rows: Vec::new(),
            len: 0,
            order: Vec::new(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        model_id: i64,
        series_id: i64,
        value: f64,
        at: i64,
        segment: Option<&str>,
        source: Option<&str>,
        evaluation: &'static str,
        threshold_id: Option<i64>,
        exception_id: Option<i64>,
    ) -> Result<()> {
        if self.len == self.rows.len() {
            self.rows.push(PendingRow::default());
        }
        let r = &mut self.rows[self.len];
        r.model_id = model_id;
        r.series_id = series_id;
        r.value = value;
        r.at = at;
        reuse_opt(&mut r.segment, segment);
        reuse_opt(&mut r.source, source);
        r.evaluation = evaluation;
        r.threshold_id = threshold_id;
        r.exception_id = exception_id;
        self.len += 1;
        if self.len == chunk_rows() {
            self.flush()?;
        }
        Ok(())
    }

    /// Inserts the waiting rows, ordered by model.
    fn flush(&mut self) -> Result<()> {
        let rows = &self.rows[..self.len];
        self.order.clear();
        self.order.extend(0..self.len as u32);
        self.order.sort_by_key(|&i| rows[i as usize].model_id);
        let mut batches = self.order.chunks_exact(BATCH_ROWS);
        for batch in &mut batches {
            Self::bind_and_run(&mut self.many, self.import_id, rows, batch)?;
        }
        for &i in batches.remainder() {
            Self::bind_and_run(&mut self.one, self.import_id, rows, &[i])?;
        }
        self.len = 0;
        Ok(())
    }

    /// Binds `rows[i]` for each `i` of `which` to `st` (one row per tuple) and runs it.
    fn bind_and_run(
        st: &mut rusqlite::Statement<'_>,
        import_id: i64,
        rows: &[PendingRow],
        which: &[u32],
    ) -> Result<()> {
        for (i, &k) in which.iter().enumerate() {
            let r = &rows[k as usize];
            let b = i * 9;
            st.raw_bind_parameter(b + 1, r.series_id)?;
            st.raw_bind_parameter(b + 2, r.value)?;
            st.raw_bind_parameter(b + 3, r.at)?;
            st.raw_bind_parameter(b + 4, r.segment.as_deref())?;
            st.raw_bind_parameter(b + 5, r.source.as_deref())?;
            st.raw_bind_parameter(b + 6, import_id)?;
            st.raw_bind_parameter(b + 7, r.evaluation)?;
            st.raw_bind_parameter(b + 8, r.threshold_id)?;
            st.raw_bind_parameter(b + 9, r.exception_id)?;
        }
        st.raw_execute()?;
        Ok(())
    }

    /// Inserts what is left.
    fn finish(mut self) -> Result<()> {
        self.flush()
    }
}

/// Evaluates measurements in a transaction.
struct Evaluator<'p> {
    policy: &'p Policy,
    today: NaiveDate,
    /// The metric names met in this import, numbered (a handful; a series is found by number).
    metrics: HashMap<String, u32>,
    /// By (model id, metric number).
    series: HashMap<(i64, u32), Series>,
    /// Every series, loaded up front for a large import (else each is loaded when first met).
    preloaded: Option<Preloaded>,
    report: IngestReport,
}

impl Evaluator<'_> {
    /// Evaluates one measurement; returns (series id, evaluation, threshold id, exception id).
    fn evaluate(
        &mut self,
        w: &Tx<'_>,
        model_id: i64,
        metric: &str,
        value: f64,
        observed_at: &str,
    ) -> Result<(i64, &'static str, Option<i64>, Option<i64>)> {
        let metric_no = match self.metrics.get(metric) {
            Some(n) => *n,
            None => {
                let n = self.metrics.len() as u32;
                self.metrics.insert(metric.to_string(), n);
                n
            }
        };
        let series = match self.series.entry((model_id, metric_no)) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(match &mut self.preloaded {
                Some(pre) => pre
                    .get_mut(&model_id)
                    .and_then(|v| {
                        let i = v.iter().position(|(m, _)| m == metric)?;
                        Some(v.swap_remove(i).1)
                    })
                    .unwrap_or_default(),
                None => load_series(w, model_id, metric)?,
            }),
        };
        let sid = match series.id {
            Some(id) => id,
            None => *series.id.insert(series_id(w, model_id, metric)?),
        };
        let Some(th) = series.threshold else {
            return Ok((sid, "none", None, None));
        };
        let report = &mut self.report;
        if th.over(th.breach, value) {
            report.breaches += 1;
            if let Some(o) = &mut series.open {
                o.pending_breaches += 1;
                if o.last_breach_at.as_deref().is_none_or(|l| observed_at >= l) {
                    o.last_breach_at = Some(observed_at.to_string());
                    o.last_breach_value = Some(value);
                }
                if o.state == ExceptionState::Recovered {
                    let row = load_row(w, o.id)?;
                    let to = workflow::next(
                        row.state,
                        row.validation,
                        row.resume_state,
                        Action::BreachAgain,
                    )
                    .map_err(CoreError::Conflict)?;
                    set_state(w, o.id, to)?;
                    w.execute(
                        "UPDATE exceptions SET resume_state = NULL WHERE id = ?1",
                        [o.id],
                    )?;
                    w.record(
                        "exception.breach-again",
                        "exception",
                        o.id,
                        json!({ "from": row.state, "to": to, "value": value, "observed_at": observed_at }),
                    )?;
                    o.state = to;
                    report.breached_again.push(o.id);
                }
                return Ok((sid, "breach", Some(th.id), Some(o.id)));
            }
            let (id, rebreach) = open_exception(
                w,
                self.policy,
                self.today,
                &Opening {
                    model_id,
                    kind: ExceptionKind::Breach,
                    metric: Some(metric),
                    threshold_id: Some(th.id),
                    approval_id: None,
                    value: Some(value),
                    observed_at: Some(observed_at),
                },
            )?;
            report.opened.push(id);
            if rebreach {
                report.rebreaches.push(id);
            }
            // The opening measurement is already counted by `open_exception`.
            series.open = Some(Open {
                id,
                state: ExceptionState::Opened,
                last_breach_at: Some(observed_at.to_string()),
                last_breach_value: Some(value),
                pending_breaches: 0,
            });
            return Ok((sid, "breach", Some(th.id), Some(id)));
        }
        let warn = th.warn.is_some_and(|l| th.over(l, value));
        if warn {
            report.notices += 1;
        }
        if let Some(o) = &mut series.open {
            let later = o.last_breach_at.as_deref().is_none_or(|l| observed_at >= l);
            if later && !matches!(o.state, ExceptionState::Recovered | ExceptionState::Decided) {
                let row = load_row(w, o.id)?;
                let to =
                    workflow::next(row.state, row.validation, row.resume_state, Action::Recover)
                        .map_err(CoreError::Conflict)?;
                w.execute(
                    "UPDATE exceptions SET resume_state = ?1, recovered_at = ?2 WHERE id = ?3",
                    params![row.state.as_str(), observed_at, o.id],
                )?;
                set_state(w, o.id, to)?;
                w.record(
                    "exception.recover",
                    "exception",
                    o.id,
                    json!({ "from": row.state, "to": to, "value": value, "observed_at": observed_at,
                            "note": "back under the breach level; the exception stays open until a disposition is decided" }),
                )?;
                o.state = to;
                report.recovered.push(o.id);
            }
        }
        Ok((sid, if warn { "warn" } else { "ok" }, Some(th.id), None))
    }

    /// Writes the breach counters of the exceptions measurements were attached to.
    fn flush(&self, w: &Tx<'_>) -> Result<()> {
        for o in self.series.values().filter_map(|s| s.open.as_ref()) {
            if o.pending_breaches > 0 {
                w.execute(
                    "UPDATE exceptions SET breach_count = breach_count + ?1, last_breach_at = ?2,
                     last_breach_value = ?3 WHERE id = ?4",
                    params![
                        o.pending_breaches,
                        o.last_breach_at,
                        o.last_breach_value,
                        o.id
                    ],
                )?;
            }
        }
        Ok(())
    }
}

/// For a time already in the stored form `YYYY-MM-DDTHH:MM:SSZ`: the instant it names, or
/// `Some(None)` when it names none (a 30 February, an hour 24). `None` when it has another shape
/// (then the general RFC 3339 parser decides).
fn canonical_time(t: &str) -> Option<Option<NaiveDateTime>> {
    let b = t.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return None;
    };
    Some(NaiveDate::from_ymd_opt(y as i32, mo, d).and_then(|day| day.and_hms_opt(h, mi, s)))
}

/// A measurement's time as the database keeps it: seconds since 1970-01-01T00:00:00Z, from the
/// stored form (the times `record_series` is given; the other ways in get them from
/// `parse_observed` or `observed`).
fn stored_seconds(at: &str) -> Result<i64> {
    match canonical_time(at) {
        Some(Some(t)) => Ok(t.and_utc().timestamp()),
        _ => Err(CoreError::invalid(
            "observed_at",
            format!("{at:?} is not a time in the stored form YYYY-MM-DDTHH:MM:SSZ"),
        )),
    }
}

/// The stored form of a measurement's time, read as seconds since 1970 from column `col` of `r`
/// (see `stored_seconds`).
pub(crate) fn seconds_time(r: &rusqlite::Row<'_>, col: usize) -> rusqlite::Result<String> {
    let secs: i64 = r.get(col)?;
    DateTime::from_timestamp(secs, 0)
        .map(format_time)
        .ok_or(rusqlite::Error::IntegralValueOutOfRange(col, secs))
}

/// An instant as a measurement's time: the stored form and its seconds since 1970.
fn observed(t: DateTime<Utc>) -> (String, i64) {
    (format_time(t), t.timestamp())
}

/// Parses an RFC 3339 time into the stored form (UTC, whole seconds) and its seconds since 1970
/// (what the measurements table keeps). Times already in that form are only checked, not
/// rebuilt. `file` and `line` say where the time was read; line 0 means "not from a line of a
/// file" and an empty `file` means "given directly".
fn parse_observed<'a>(file: &str, line: u64, s: &'a str) -> Result<(Cow<'a, str>, i64)> {
    let t = s.trim();
    let bad = || {
        let place = match (file.is_empty(), line) {
            (true, _) => String::new(),
            (false, 0) => format!("{file}: "),
            (false, _) => format!("{file} line {line}: "),
        };
        CoreError::invalid(
            "observed_at",
            format!("{place}{t:?} is not an RFC 3339 time"),
        )
    };
    if let Some(instant) = canonical_time(t) {
        return match instant {
            Some(i) => Ok((Cow::Borrowed(t), i.and_utc().timestamp())),
            None => Err(bad()),
        };
    }
    let parsed = DateTime::parse_from_rfc3339(t).map_err(|_| bad())?;
    let (text, seconds) = observed(parsed.with_timezone(&Utc));
    Ok((Cow::Owned(text), seconds))
}

fn parse_value(file: &str, line: u64, s: &str) -> Result<f64> {
    let v: f64 = s.trim().parse().map_err(|_| {
        CoreError::invalid(
            "value",
            format!("{file} line {line}: {:?} is not a number", s.trim()),
        )
    })?;
    if !v.is_finite() {
        return Err(CoreError::invalid(
            "value",
            format!("{file} line {line}: {:?} is not a finite number", s.trim()),
        ));
    }
    Ok(v)
}

/// A measurement CSV (`model,version,metric,value,observed_at` and optionally `segment`,
/// `source`, in any order), read record by record. The header is read by [`MeasurementCsv::new`].
/// Every error names the file, the line and the field.
pub struct MeasurementCsv<R: Read> {
    file: String,
    rdr: csv::Reader<R>,
    record: csv::StringRecord,
    /// Records returned so far.
    rows: u64,
    c_model: usize,
    c_version: usize,
    c_metric: usize,
    c_value: usize,
    c_at: usize,
    c_segment: Option<usize>,
    c_source: Option<usize>,
}

/// One record of a measurement CSV: where it is and which model it names (trimmed).
pub struct MeasurementRecord<'a> {
    pub line: u64,
    pub model: &'a str,
    pub version: &'a str,
    file: &'a str,
    record: &'a csv::StringRecord,
    c_metric: usize,
    c_value: usize,
    c_at: usize,
    c_segment: Option<usize>,
    c_source: Option<usize>,
}

/// The checked fields of a measurement record.
pub struct MeasurementValues<'a> {
    pub metric: &'a str,
    pub value: f64,
    /// In the stored form (RFC 3339, UTC, whole seconds).
    pub observed_at: Cow<'a, str>,
    /// The same time in seconds since 1970 (what the measurements table keeps).
    pub observed_s: i64,
    pub segment: Option<&'a str>,
    pub source: Option<&'a str>,
}

impl<R: Read> MeasurementCsv<R> {
    /// Reads the header; `file` names the input in error messages.
    pub fn new(file: &str, reader: R) -> Result<Self> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(reader);
        let headers = rdr
            .headers()
            .map_err(|e| CoreError::invalid("header", format!("{file} line 1: {e}")))?
            .clone();
        let col = |name: &str| headers.iter().position(|h| h.trim() == name);
        let need = |name: &str| {
            col(name).ok_or_else(|| {
                CoreError::invalid(
                    "header",
                    format!("{file} line 1: missing column {name:?} (need model,version,metric,value,observed_at)"),
                )
            })
        };
        Ok(MeasurementCsv {
            file: file.to_string(),
            c_model: need("model")?,
            c_version: need("version")?,
            c_metric: need("metric")?,
            c_value: need("value")?,
            c_at: need("observed_at")?,
            c_segment: col("segment"),
            c_source: col("source"),
            rdr,
            record: csv::StringRecord::new(),
            rows: 0,
        })
    }

    /// The next record, `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<MeasurementRecord<'_>>> {
        let file = self.file.as_str();
        match self.rdr.read_record(&mut self.record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(self.rows + 2);
                return Err(CoreError::invalid(
                    "row",
                    format!("{file} line {line}: {e}"),
                ));
            }
        }
        let line = self
            .record
            .position()
            .map(|p| p.line())
            .unwrap_or(self.rows + 2);
        self.rows += 1;
        let record = &self.record;
        Ok(Some(MeasurementRecord {
            line,
            model: record.get(self.c_model).unwrap_or("").trim(),
            version: record.get(self.c_version).unwrap_or("").trim(),
            file,
            record,
            c_metric: self.c_metric,
            c_value: self.c_value,
            c_at: self.c_at,
            c_segment: self.c_segment,
            c_source: self.c_source,
        }))
    }

    /// The reader underneath (for progress and hashing).
    pub fn get_ref(&self) -> &R {
        self.rdr.get_ref()
    }
}

impl<'a> MeasurementRecord<'a> {
    /// The metric, value, time, segment and source, checked.
    pub fn values(&self) -> Result<MeasurementValues<'a>> {
        let (file, line, record) = (self.file, self.line, self.record);
        let metric = record.get(self.c_metric).unwrap_or("").trim();
        if !metric_name_ok(metric) {
            return Err(CoreError::invalid(
                "metric",
                format!("{file} line {line}: {metric:?} is not a metric name (letters, digits and _ - . : / only)"),
            ));
        }
        let value = parse_value(file, line, record.get(self.c_value).unwrap_or(""))?;
        let (observed_at, observed_s) =
            parse_observed(file, line, record.get(self.c_at).unwrap_or(""))?;
        let opt = |c: Option<usize>| {
            c.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        Ok(MeasurementValues {
            metric,
            value,
            observed_at,
            observed_s,
            segment: opt(self.c_segment),
            source: opt(self.c_source),
        })
    }
}

/// Records a reader thread checks and hands over at a time.
const PARSE_BLOCK_ROWS: usize = 4_096;
/// Text a block holds at most (then it is handed over with fewer rows): what the blocks in
/// flight hold stays small even when records carry long segments or sources.
const PARSE_BLOCK_TEXT: usize = 8 << 20;
/// Blocks read ahead of the rows being stored.
const PARSE_QUEUE: usize = 4;
/// Rows between two progress reports.
const PROGRESS_ROWS: u64 = 50_000;

/// Files from this size on (about 70,000 rows) have every series loaded up front.
const PRELOAD_BYTES: u64 = 4 << 20;

#[cfg(not(test))]
fn preload_for(file_bytes: u64) -> bool {
    file_bytes >= PRELOAD_BYTES
}

#[cfg(test)]
thread_local! {
    /// The unit tests choose whether an import preloads its series.
    static TEST_PRELOAD: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

#[cfg(test)]
fn preload_for(file_bytes: u64) -> bool {
    TEST_PRELOAD
        .with(|c| c.get())
        .unwrap_or(file_bytes >= PRELOAD_BYTES)
}

#[cfg(not(test))]
fn parse_block_rows() -> usize {
    PARSE_BLOCK_ROWS
}

#[cfg(test)]
thread_local! {
    /// The unit tests read in small blocks too, to cross many block boundaries.
    static TEST_BLOCK_ROWS: std::cell::Cell<usize> = const { std::cell::Cell::new(PARSE_BLOCK_ROWS) };
}

#[cfg(test)]
fn parse_block_rows() -> usize {
    TEST_BLOCK_ROWS.with(|c| c.get())
}

/// A checked record: its fields as ranges of its block's text.
struct ParsedRow {
    line: u64,
    /// The (model, version) pair's number in this file, in order of first appearance.
    model_no: u32,
    model: std::ops::Range<usize>,
    version: std::ops::Range<usize>,
    metric: std::ops::Range<usize>,
    value: f64,
    /// In the stored form.
    at: std::ops::Range<usize>,
    at_s: i64,
    segment: Option<std::ops::Range<usize>>,
    source: Option<std::ops::Range<usize>>,
}

/// How the reading ended, after a block's rows.
enum BlockEnd {
    /// The end of the file; its SHA-256.
    Done { sha: String },
    /// A record that could not be read or checked: the error, and, when the record named one,
    /// the line and the model and version it names (checked first, as the sequential path does).
    Failed {
        at: Option<(u64, String, String)>,
        error: CoreError,
    },
}

/// Checked records handed from the reader thread to the writer, reused from block to block.
#[derive(Default)]
struct Block {
    text: String,
    rows: Vec<ParsedRow>,
    /// Bytes of the file read when the block was handed over.
    bytes: u64,
    end: Option<BlockEnd>,
}

impl Block {
    fn push_text(&mut self, s: &str) -> std::ops::Range<usize> {
        let start = self.text.len();
        self.text.push_str(s);
        start..self.text.len()
    }
}

/// The reader thread of a CSV import: reads, checks and hands over blocks of records until the
/// end of the file, the first bad record, or the writer stops listening.
fn read_blocks<R: Read>(
    mut rdr: MeasurementCsv<&mut Tap<R>>,
    block_rows: usize,
    full: &std::sync::mpsc::SyncSender<Block>,
    free: &std::sync::mpsc::Receiver<Block>,
) {
    // (model, version) pairs numbered here, off the writer's thread: the writer finds a row's
    // model id by number. Keyed by `len(model):model version`, which no two pairs share.
    let mut model_nos: HashMap<String, u32> = HashMap::new();
    let mut key = String::new();
    loop {
        let mut block = free.try_recv().unwrap_or_default();
        block.text.clear();
        block.rows.clear();
        block.end = None;
        while block.rows.len() < block_rows && block.text.len() < PARSE_BLOCK_TEXT {
            let record = match rdr.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => {
                    let sha = hex::encode(rdr.get_ref().hash.clone().finalize());
                    block.end = Some(BlockEnd::Done { sha });
                    break;
                }
                Err(error) => {
                    block.end = Some(BlockEnd::Failed { at: None, error });
                    break;
                }
            };
            let v = match record.values() {
                Ok(v) => v,
                Err(error) => {
                    let at = Some((
                        record.line,
                        record.model.to_string(),
                        record.version.to_string(),
                    ));
                    block.end = Some(BlockEnd::Failed { at, error });
                    break;
                }
            };
            key.clear();
            let _ = write!(key, "{}:", record.model.len());
            key.push_str(record.model);
            key.push_str(record.version);
            let model_no = match model_nos.get(key.as_str()) {
                Some(n) => *n,
                None => {
                    let n = model_nos.len() as u32;
                    model_nos.insert(key.clone(), n);
                    n
                }
            };
            let row = ParsedRow {
                line: record.line,
                model_no,
                model: block.push_text(record.model),
                version: block.push_text(record.version),
                metric: block.push_text(v.metric),
                value: v.value,
                at: block.push_text(&v.observed_at),
                at_s: v.observed_s,
                segment: v.segment.map(|s| block.push_text(s)),
                source: v.source.map(|s| block.push_text(s)),
            };
            block.rows.push(row);
        }
        block.bytes = rdr.get_ref().bytes;
        let last = block.end.is_some();
        if full.send(block).is_err() || last {
            return;
        }
    }
}

/// What an import's parser calls for each measurement: (transaction, evaluator, model id, metric,
/// value, observed at in the stored form and in seconds since 1970, segment, source).
type Emit<'a> = dyn FnMut(
        &Tx<'_>,
        &mut Evaluator<'_>,
        i64,
        &str,
        f64,
        &str,
        i64,
        Option<&str>,
        Option<&str>,
    ) -> Result<()>
    + 'a;

impl Registry {
    /// Imports a measurement file in one transaction: any bad row aborts the whole import with
    /// the file, line and field, and nothing is stored. Any member may ingest.
    pub fn ingest_file(
        &mut self,
        path: &Path,
        opts: &IngestOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<IngestReport> {
        let file_name = path.display().to_string();
        let f = File::open(path)
            .map_err(|e| CoreError::invalid("file", format!("cannot open {file_name}: {e}")))?;
        let total = f.metadata().map(|m| m.len()).unwrap_or(0);
        let mut tap = Tap {
            inner: BufReader::with_capacity(1 << 20, f),
            hash: Sha256::new(),
            bytes: 0,
        };
        match opts.format {
            IngestFormat::Csv => self.ingest_csv(&file_name, &mut tap, total, progress),
            IngestFormat::Evidently => {
                let mut text = String::new();
                tap.read_to_string(&mut text).map_err(|e| {
                    CoreError::invalid("file", format!("{file_name} is not UTF-8 text: {e}"))
                })?;
                let model = opts.model.as_deref().ok_or_else(|| {
                    CoreError::invalid("model", "an Evidently report needs the model it measures (--model NAME --version V)")
                })?;
                let rows = evidently_measurements(&file_name, &text)?;
                let (observed, observed_s) = match (&opts.observed_at, &rows.timestamp) {
                    (Some(t), _) | (None, Some(t)) => {
                        let (text, seconds) = parse_observed(&file_name, 0, t)?;
                        (text.into_owned(), seconds)
                    }
                    (None, None) => observed(self.clock.now()),
                };
                let sha = hex::encode(tap.hash.clone().finalize());
                self.store(&file_name, "evidently", &sha, |w, ev, emit| {
                    let model_id = resolve_model(w, model)?;
                    for (metric, value) in &rows.measurements {
                        emit(
                            w,
                            ev,
                            model_id,
                            metric,
                            *value,
                            &observed,
                            observed_s,
                            None,
                            Some("evidently"),
                        )?;
                    }
                    Ok(())
                })
            }
        }
    }

    /// A CSV import in two stages on two threads: a reader thread reads the file (hashing it),
    /// splits and checks each record (metric, value, time) into blocks of `PARSE_BLOCK_ROWS`; this
    /// thread resolves the models, evaluates and stores the rows of each block in file order. A
    /// bad record reaches this thread as an error after the rows before it, with its model, so
    /// the error reported is the one the sequential reading would report (an unknown model before
    /// a bad field of the same line), and nothing is stored.
    fn ingest_csv<R: Read + Send>(
        &mut self,
        file: &str,
        tap: &mut Tap<R>,
        total: u64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<IngestReport> {
        let rdr = MeasurementCsv::new(file, &mut *tap)?;
        let block_rows = parse_block_rows();
        let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Block>(PARSE_QUEUE);
        let (free_tx, free_rx) = std::sync::mpsc::channel::<Block>();
        std::thread::scope(|scope| {
            scope.spawn(move || read_blocks(rdr, block_rows, &full_tx, &free_rx));
            let model_id = |w: &Tx<'_>, line: u64, name: &str, version: &str| -> Result<i64> {
                let id: i64 = w
                    .prepare_cached("SELECT id FROM models WHERE name = ?1 AND version = ?2")?
                    .query_row(params![name, version], |r| r.get(0))
                    .optional()?
                    .ok_or_else(|| {
                        CoreError::invalid(
                            "model",
                            format!(
                                "{file} line {line}: unknown model {name:?} version {version:?}"
                            ),
                        )
                    })?;
                Ok(id)
            };
            // By the reader's (model, version) number.
            let mut model_ids: Vec<Option<i64>> = Vec::new();
            // `full_rx` and `free_tx` move into the body: when it returns (an error included), the
            // reader thread's next send fails and it stops.
            self.store(file, "csv", "", move |w, ev, emit| {
                if preload_for(total) {
                    ev.preloaded = Some(preload_series(w)?);
                }
                let mut rows: u64 = 0;
                let mut next_progress: u64 = PROGRESS_ROWS;
                loop {
                    let Ok(block) = full_rx.recv() else {
                        // The reader stopped without an end: it panicked (the scope re-raises it).
                        return Err(CoreError::Io(format!("{file}: the reader stopped")));
                    };
                    for r in &block.rows {
                        let t = |range: &std::ops::Range<usize>| &block.text[range.clone()];
                        let opt = |range: &Option<std::ops::Range<usize>>| range.as_ref().map(t);
                        let no = r.model_no as usize;
                        let id = match model_ids.get(no) {
                            Some(Some(id)) => *id,
                            _ => {
                                let id = model_id(w, r.line, t(&r.model), t(&r.version))?;
                                if model_ids.len() <= no {
                                    model_ids.resize(no + 1, None);
                                }
                                model_ids[no] = Some(id);
                                id
                            }
                        };
                        emit(
                            w,
                            ev,
                            id,
                            t(&r.metric),
                            r.value,
                            t(&r.at),
                            r.at_s,
                            opt(&r.segment),
                            opt(&r.source),
                        )?;
                    }
                    rows += block.rows.len() as u64;
                    if rows >= next_progress {
                        progress(Progress {
                            bytes: block.bytes,
                            total_bytes: total,
                            rows,
                        });
                        next_progress = (rows / PROGRESS_ROWS + 1) * PROGRESS_ROWS;
                    }
                    match block.end {
                        None => {
                            let _ = free_tx.send(block);
                        }
                        Some(BlockEnd::Done { sha }) => {
                            progress(Progress {
                                bytes: block.bytes,
                                total_bytes: total,
                                rows,
                            });
                            w.execute(
                                "UPDATE imports SET sha256 = ?1 WHERE id = ?2",
                                params![sha, ev.report.import_id],
                            )?;
                            return Ok(());
                        }
                        Some(BlockEnd::Failed { at, error }) => {
                            // The sequential reading resolves a record's model before it checks its fields.
                            if let Some((line, name, version)) = at {
                                model_id(w, line, &name, &version)?;
                            }
                            return Err(error);
                        }
                    }
                }
            })
        })
    }

    /// One import transaction: `body` emits measurements; the import row, every measurement, every
    /// exception change and the import's audit event commit together.
    fn store(
        &mut self,
        file: &str,
        format: &str,
        sha: &str,
        body: impl FnOnce(&Tx<'_>, &mut Evaluator<'_>, &mut Emit<'_>) -> Result<()>,
    ) -> Result<IngestReport> {
        let policy = self.policy()?;
        let today = self.clock.now().date_naive();
        // An import appends to one index leaf per (model, metric) series: with thousands of
        // series the default page cache thrashes (every insert re-reads and decrypts a page).
        // A larger cache for the import, shrunk and given back to the system afterwards.
        // Sized to the database (a quarter of it, between the usual 64 MiB and 192 MiB): a
        // small registry's import needs no more than usual and keeps its memory low.
        let db_kib: i64 = self.conn.query_row(
            "SELECT page_count * page_size / 1024 FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )?;
        let cache_kib = (db_kib / 4).clamp(65_536, IMPORT_CACHE_KIB);
        let usual: i64 = self
            .conn
            .pragma_query_value(None, "cache_size", |r| r.get(0))?;
        self.conn
            .execute_batch(&format!("PRAGMA cache_size = -{cache_kib};"))?;
        // Every row an import writes references rows it found or wrote in its own transaction
        // (the model found by name, its import row, the thresholds and exceptions of the series
        // it loaded or opened), so SQLite's foreign-key lookups (up to four per measurement)
        // would check nothing new. Off for the import's transaction, on again afterwards (a
        // no-op inside a `batch`, whose transaction keeps them on).
        // The tests check every link afterwards (`assert_links_hold`: foreign_key_check).
        self.conn.execute_batch("PRAGMA foreign_keys = OFF;")?;
        let out = self.store_in_tx(file, format, sha, policy, today, body);
        if let Err(error) = self.conn.execute_batch("PRAGMA foreign_keys = ON;") {
            tracing::error!(%error, "foreign keys not switched on again after an import");
        }
        // The import has committed (or rolled back) by now: a failure to shrink the cache again
        // must not report it otherwise.
        let _ = crate::db::restore_cache(&self.conn, usual);
        out
    }

    fn store_in_tx(
        &mut self,
        file: &str,
        format: &str,
        sha: &str,
        policy: crate::policy::Policy,
        today: NaiveDate,
        body: impl FnOnce(&Tx<'_>, &mut Evaluator<'_>, &mut Emit<'_>) -> Result<()>,
    ) -> Result<IngestReport> {
        self.write(|w| {
            w.execute(
                "INSERT INTO imports (file, format, sha256, rows, imported_by, imported_at) VALUES (?1, ?2, ?3, 0, ?4, ?5)",
                params![file, format, sha, w.actor.id, w.now],
            )?;
            let import_id = w.last_insert_rowid();
            let mut ev = Evaluator {
                policy: &policy,
                today,
                metrics: HashMap::new(),
                series: HashMap::new(),
                preloaded: None,
                report: IngestReport { import_id, file: file.to_string(), ..Default::default() },
            };
            let mut count: i64 = 0;
            let mut batch = InsertBatch::new(w, import_id)?;
            let mut emit = |w: &Tx<'_>,
                            ev: &mut Evaluator<'_>,
                            model_id: i64,
                            metric: &str,
                            value: f64,
                            at: &str,
                            at_s: i64,
                            segment: Option<&str>,
                            source: Option<&str>|
             -> Result<()> {
                let (series_id, evaluation, th, ex) = ev.evaluate(w, model_id, metric, value, at)?;
                batch.push(model_id, series_id, value, at_s, segment, source, evaluation, th, ex)?;
                count += 1;
                Ok(())
            };
            body(w, &mut ev, &mut emit)?;
            batch.finish()?;
            ev.flush(w)?;
            let sha: String = w.query_row("SELECT sha256 FROM imports WHERE id = ?1", [import_id], |r| r.get(0))?;
            w.execute("UPDATE imports SET rows = ?1 WHERE id = ?2", params![count, import_id])?;
            let mut report = ev.report;
            report.rows = count;
            report.sha256 = sha;
            w.record(
                "measurements.import",
                "import",
                import_id,
                json!({
                    "file": file, "format": format, "sha256": report.sha256, "rows": count,
                    "breaches": report.breaches, "notices": report.notices, "opened": report.opened,
                    "recovered": report.recovered, "breached_again": report.breached_again,
                }),
            )?;
            Ok(report)
        })
    }

    /// Records measurements of one model given directly (the drift engine's results), through
    /// the same transaction, evaluation and audit path as a file import. `source` names where they
    /// came from (e.g. `drift:ref.csv→cur.csv`); `observed_at` defaults to now.
    pub fn record_measurements(
        &mut self,
        model: &str,
        observed_at: Option<&str>,
        source: &str,
        rows: &[NewMeasurement],
    ) -> Result<IngestReport> {
        let source = crate::domain::check_text("source", source, true, 500)?;
        let (at, at_s) = match observed_at {
            Some(t) => {
                let (text, seconds) = parse_observed("", 0, t)?;
                (text.into_owned(), seconds)
            }
            None => observed(self.clock.now()),
        };
        for (i, r) in rows.iter().enumerate() {
            if !metric_name_ok(&r.metric) {
                return Err(CoreError::invalid(
                    "metric",
                    format!("measurement {}: {:?} is not a metric name", i + 1, r.metric),
                ));
            }
            if !r.value.is_finite() {
                return Err(CoreError::invalid(
                    "value",
                    format!("measurement {} ({}): not a finite number", i + 1, r.metric),
                ));
            }
        }
        let sha = hex::encode(Sha256::digest(crate::canonical::canonical_bytes(&rows)));
        self.store(&source, "direct", &sha, |w, ev, emit| {
            let model_id = resolve_model(w, model)?;
            for r in rows {
                emit(
                    w,
                    ev,
                    model_id,
                    &r.metric,
                    r.value,
                    &at,
                    at_s,
                    r.segment.as_deref(),
                    Some(&source),
                )?;
            }
            Ok(())
        })
    }

    /// Records a series of measurements of one model, each with its own time (sample data,
    /// back-fills), as one import.
    pub(crate) fn record_series(
        &mut self,
        model: &str,
        source: &str,
        rows: &[(String, f64, String)],
    ) -> Result<IngestReport> {
        let sha = hex::encode(Sha256::digest(crate::canonical::canonical_bytes(&rows)));
        self.store(source, "direct", &sha, |w, ev, emit| {
            let model_id = resolve_model(w, model)?;
            for (metric, value, at) in rows {
                let at_s = stored_seconds(at)?;
                emit(
                    w,
                    ev,
                    model_id,
                    metric,
                    *value,
                    at,
                    at_s,
                    None,
                    Some(source),
                )?;
            }
            Ok(())
        })
    }

    /// Measurements of a model (optionally one metric), oldest first.
    pub fn list_measurements(
        &self,
        model: &str,
        metric: Option<&str>,
    ) -> Result<Vec<MeasurementView>> {
        let model_id = resolve_model(&self.conn, model)?;
        let mut st = self.conn.prepare(&format!(
            "{MEASUREMENT_SELECT} WHERE s.model_id = ?1 AND (?2 IS NULL OR s.metric = ?2)
             ORDER BY m.observed_at, m.id"
        ))?;
        let rows = st
            .query_map(params![model_id, metric], measurement_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

/// The columns `measurement_row` reads (`m` the measurement, `s` its series).
pub(crate) const MEASUREMENT_SELECT: &str =
    "SELECT m.id, s.model_id, s.metric, m.value, m.observed_at, m.segment, m.source, m.import_id,
     m.evaluation, m.threshold_id, m.exception_id
     FROM measurements m JOIN series s ON s.id = m.series_id";

/// One stored measurement, from a row of `MEASUREMENT_SELECT`.
pub(crate) fn measurement_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MeasurementView> {
    Ok(MeasurementView {
        id: r.get(0)?,
        model_id: r.get(1)?,
        metric: r.get(2)?,
        value: r.get(3)?,
        observed_at: seconds_time(r, 4)?,
        segment: r.get(5)?,
        source: r.get(6)?,
        import_id: r.get(7)?,
        evaluation: r.get(8)?,
        threshold_id: r.get(9)?,
        exception_id: r.get(10)?,
    })
}

/// What an Evidently report yields: `(metric, value)` pairs and the report's timestamp, if any.
#[derive(Debug, Clone)]
pub struct EvidentlyReport {
    pub measurements: Vec<(String, f64)>,
    pub timestamp: Option<String>,
}

/// The drift measurements in an Evidently 0.7 report or snapshot JSON: `drift:<column>` for each
/// `ValueDrift`, `share_drifted_columns` and `drifted_columns_count` for `DriftedColumnsCount`;
/// plus the report's timestamp when it has one.
pub fn evidently_measurements(file: &str, text: &str) -> Result<EvidentlyReport> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        CoreError::invalid("file", format!("{file} line {}: not JSON: {e}", e.line()))
    })?;
    let metrics = doc
        .get("metrics")
        .or_else(|| doc.get("snapshot").and_then(|s| s.get("metrics")))
        .or_else(|| doc.get("metric_results"))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            CoreError::invalid(
                "metrics",
                format!("{file}: no \"metrics\" array (is this an Evidently 0.7 report?)"),
            )
        })?;
    let timestamp = doc.get("timestamp").and_then(Value::as_str).map(|t| {
        // Snapshots carry a naive ISO time; treat it as UTC.
        if t.ends_with('Z') || t.contains('+') {
            t.to_string()
        } else {
            format!("{t}Z")
        }
    });
    let mut out = Vec::new();
    for (i, m) in metrics.iter().enumerate() {
        let kind = m
            .pointer("/config/type")
            .and_then(Value::as_str)
            .unwrap_or("");
        let value = m.get("value");
        if kind.ends_with(":ValueDrift") {
            let column = m
                .pointer("/config/column")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    CoreError::invalid(
                        "metrics",
                        format!("{file}: metrics[{i}] (ValueDrift) has no config.column"),
                    )
                })?;
            let v = value.and_then(Value::as_f64).ok_or_else(|| {
                CoreError::invalid(
                    "metrics",
                    format!("{file}: metrics[{i}] (ValueDrift {column}) has no numeric value"),
                )
            })?;
            out.push((check_metric("metric", &format!("drift:{column}"))?, v));
        } else if kind.ends_with(":DriftedColumnsCount") {
            let share = value.and_then(|v| v.get("share")).and_then(Value::as_f64);
            let count = value.and_then(|v| v.get("count")).and_then(Value::as_f64);
            match (share, count) {
                (Some(s), Some(c)) => {
                    out.push(("share_drifted_columns".to_string(), s));
                    out.push(("drifted_columns_count".to_string(), c));
                }
                _ => {
                    return Err(CoreError::invalid(
                        "metrics",
                        format!(
                            "{file}: metrics[{i}] (DriftedColumnsCount) has no count and share"
                        ),
                    ))
                }
            }
        }
    }
    if out.is_empty() {
        return Err(CoreError::invalid(
            "metrics",
            format!("{file}: no drift metrics (ValueDrift, DriftedColumnsCount) found"),
        ));
    }
    Ok(EvidentlyReport {
        measurements: out,
        timestamp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AddModel, CreateRegistry, FixedClock, SetThreshold};
    use chrono::TimeZone;
    use std::sync::Arc;

    /// A registry with three models, each with thresholds on `psi` and `drift_share`.
    fn registry(dir: &Path) -> Registry {
        let clock = Arc::new(FixedClock(
            Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
        ));
        let mut reg = Registry::create(
            dir,
            &CreateRegistry {
                org: "Acme".into(),
                email: "ana@acme.test".into(),
                name: "Ana".into(),
                roles: vec![],
            },
            "ana's long passphrase",
            clock,
        )
        .unwrap();
        for m in ["m0", "m1", "m2"] {
            reg.add_model(&AddModel {
                name: m.into(),
                version: "1.0".into(),
                owner: "ana@acme.test".into(),
                intended_use: "Scoring".into(),
                business_function: "Lending".into(),
                risk_tier: "high".into(),
                deployment_mode: None,
                regulated: false,
            })
            .unwrap();
            for (metric, breach, warn) in [("psi", 0.25, Some(0.1)), ("drift_share", 0.5, None)] {
                reg.set_threshold(
                    m,
                    &SetThreshold {
                        metric: metric.into(),
                        breach,
                        warn,
                        direction: None,
                    },
                )
                .unwrap();
            }
        }
        reg
    }

    fn csv_opts() -> IngestOptions {
        IngestOptions {
            format: IngestFormat::Csv,
            model: None,
            observed_at: None,
        }
    }

    /// How an import is run: rows per insert chunk, records per reader block, whether the
    /// series are loaded up front.
    #[derive(Clone, Copy, Debug)]
    struct Way {
        chunk: usize,
        block: usize,
        preload: bool,
    }

    /// The way that does one thing at a time: one row per chunk and per block, each series
    /// loaded when first met.
    const ONE_BY_ONE: Way = Way {
        chunk: 1,
        block: 1,
        preload: false,
    };

    fn ingest_as(reg: &mut Registry, csv: &Path, way: Way) -> Result<IngestReport> {
        TEST_CHUNK_ROWS.with(|c| c.set(way.chunk));
        TEST_BLOCK_ROWS.with(|c| c.set(way.block));
        TEST_PRELOAD.with(|c| c.set(Some(way.preload)));
        let report = reg.ingest_file(csv, &csv_opts(), &mut |_| {});
        TEST_CHUNK_ROWS.with(|c| c.set(CHUNK_ROWS));
        TEST_BLOCK_ROWS.with(|c| c.set(PARSE_BLOCK_ROWS));
        TEST_PRELOAD.with(|c| c.set(None));
        report
    }

    /// What an import leaves: its report, each model's measurements in listing order (ids left
    /// out: they number rows across models), the exceptions and the audit events it wrote.
    /// `first`, if given, is imported before (the plain way), so that `csv` meets exceptions
    /// already open or recovered and threshold versions already superseded by newer proposals.
    fn import(dir: &Path, first: Option<&Path>, csv: &Path, way: Way) -> Vec<Value> {
        let mut reg = registry(dir);
        if let Some(first) = first {
            reg.ingest_file(first, &csv_opts(), &mut |_| {}).unwrap();
            let propose = |reg: &mut Registry, m: &str, metric: &str, breach: f64| {
                let th = SetThreshold {
                    metric: metric.into(),
                    breach,
                    warn: Some(breach / 2.0),
                    direction: None,
                };
                reg.set_threshold(m, &th).unwrap();
            };
            // Versions to choose from (set in the database: an approval needs a second
            // member): m1's psi has an approved version 1 and a newer proposal, which the
            // series does not follow yet; m2's drift_share has two pending proposals, of which
            // the series follows the newer.
            let set = |reg: &Registry, sql: &str| reg.conn.execute_batch(sql).unwrap();
            set(
                &reg,
                "UPDATE thresholds SET status = 'approved' WHERE metric = 'psi' AND version = 1
                       AND model_id = (SELECT id FROM models WHERE name = 'm1')",
            );
            propose(&mut reg, "m1", "psi", 0.35);
            propose(&mut reg, "m2", "drift_share", 0.2);
            propose(&mut reg, "m2", "drift_share", 0.45);
            set(&reg, "UPDATE thresholds SET status = 'proposed' WHERE metric = 'drift_share' AND version = 2
                       AND model_id = (SELECT id FROM models WHERE name = 'm2')");
        }
        let before = reg.verify_log().unwrap().events;
        let report = ingest_as(&mut reg, csv, way).unwrap();
        assert!(report.breaches > 0 && !report.recovered.is_empty());
        // Without an earlier import, this one opens the exceptions; after one, it meets them.
        assert_eq!(report.opened.is_empty(), first.is_some());
        if first.is_some() {
            assert!(!report.breached_again.is_empty());
        }
        let mut out = vec![serde_json::to_value(&report).unwrap()];
        for m in ["m0", "m1", "m2"] {
            let rows = reg.list_measurements(m, None).unwrap();
            // Within a model, ids still follow the file's order.
            let mut by_id = rows.clone();
            by_id.sort_by_key(|r| r.id);
            let line = |r: &MeasurementView| r.value.to_bits();
            let file_order: Vec<u64> = by_id.iter().map(line).collect();
            out.push(json!(file_order));
            for r in rows {
                let mut v = serde_json::to_value(&r).unwrap();
                v.as_object_mut().unwrap().remove("id");
                out.push(v);
            }
        }
        out.push(serde_json::to_value(reg.list_exceptions(None, None).unwrap()).unwrap());
        for e in reg
            .audit_log(None)
            .unwrap()
            .into_iter()
            .skip(before as usize)
        {
            out.push(json!([e.operation, e.entity_id, e.payload]));
        }
        assert!(reg.verify_log().unwrap().ok);
        assert_links_hold(&reg);
        out
    }

    /// Foreign keys are on, and every row's references resolve (the import runs without
    /// SQLite's per-row foreign-key lookups).
    fn assert_links_hold(reg: &Registry) {
        let on: i64 = reg
            .conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(on, 1, "foreign keys are on again");
        let broken: Vec<(String, i64, String)> = reg
            .conn
            .prepare("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(broken.is_empty(), "{broken:?}");
    }

    /// Measurement times are kept as seconds since 1970 and read back in the stored form: every
    /// time that form can name comes back unchanged, and one it cannot name is refused.
    #[test]
    fn a_stored_time_survives_its_seconds() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let back = |secs: i64| -> String {
            conn.query_row("SELECT ?1", [secs], |r| seconds_time(r, 0))
                .unwrap()
        };
        for t in [
            "0000-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:00:00Z",
            "2024-02-29T12:34:56Z",
            "2026-11-20T09:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            let secs = stored_seconds(t).unwrap();
            assert_eq!(back(secs), t);
            // The same instant as chrono counts it.
            assert_eq!(
                secs,
                DateTime::parse_from_rfc3339(t).unwrap().timestamp(),
                "{t}"
            );
        }
        assert_eq!(stored_seconds("1970-01-01T00:00:00Z").unwrap(), 0);
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-11-20T24:00:00Z",
            "2026-11-20T09:00:60Z",
            "2026-11-20T09:00:00+01:00",
            "2026-11-20 09:00:00Z",
        ] {
            let err = stored_seconds(bad).unwrap_err().to_string();
            assert!(err.contains("observed_at") && err.contains(bad), "{err}");
        }
        let err = conn
            .query_row("SELECT ?1", [i64::MAX], |r| seconds_time(r, 0))
            .unwrap_err();
        assert!(
            matches!(err, rusqlite::Error::IntegralValueOutOfRange(0, _)),
            "{err}"
        );
    }

    #[test]
    fn foreign_keys_are_on_again_after_an_import() {
        let tmp = tempfile::tempdir().unwrap();
        let mut reg = registry(&tmp.path().join("r"));
        let csv = tmp.path().join("m.csv");
        std::fs::write(&csv, series_csv(0, 300)).unwrap();
        reg.ingest_file(&csv, &csv_opts(), &mut |_| {}).unwrap();
        assert_links_hold(&reg);
        std::fs::write(
            &csv,
            "model,version,metric,value,observed_at\nnope,1.0,psi,0.1,2026-10-01T00:00:00Z\n",
        )
        .unwrap();
        assert!(reg.ingest_file(&csv, &csv_opts(), &mut |_| {}).is_err());
        assert_links_hold(&reg);
        // And they hold: a measurement of a series that does not exist is refused.
        let err = reg
            .conn
            .execute(
                "INSERT INTO measurements (series_id, value, observed_at, import_id, evaluation)
                 VALUES (999, 0.1, 1790812800, 1, 'none')",
                [],
            )
            .unwrap_err();
        assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
    }

    #[test]
    fn an_import_gives_its_larger_page_cache_back_whether_it_commits_or_fails() {
        let tmp = tempfile::tempdir().unwrap();
        let mut reg = registry(&tmp.path().join("r"));
        let cache = |reg: &Registry| -> i64 {
            reg.conn
                .pragma_query_value(None, "cache_size", |r| r.get(0))
                .unwrap()
        };
        assert_eq!(cache(&reg), -65_536);
        let head = "model,version,metric,value,observed_at\n";
        let opts = csv_opts();
        let good = tmp.path().join("good.csv");
        std::fs::write(
            &good,
            format!("{head}m0,1.0,psi,0.05,2026-10-01T00:00:00Z\n"),
        )
        .unwrap();
        assert_eq!(reg.ingest_file(&good, &opts, &mut |_| {}).unwrap().rows, 1);
        assert_eq!(cache(&reg), -65_536);
        let bad = tmp.path().join("bad.csv");
        std::fs::write(
            &bad,
            format!("{head}m1,1.0,psi,0.05,2026-10-01T00:00:00Z\nm1,1.0,psi,high,2026-10-01T00:01:00Z\n"),
        )
        .unwrap();
        let err = reg
            .ingest_file(&bad, &opts, &mut |_| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        assert_eq!(cache(&reg), -65_536);
        assert!(reg.list_measurements("m1", None).unwrap().is_empty());
        assert_eq!(reg.list_measurements("m0", None).unwrap().len(), 1);
        // The desktop's smaller cache is what an import gives back to, not the default.
        reg.set_page_cache_mib(16).unwrap();
        assert_eq!(cache(&reg), -16_384);
        std::fs::write(
            &good,
            format!("{head}m0,1.0,psi,0.06,2026-10-02T00:00:00Z\n"),
        )
        .unwrap();
        reg.ingest_file(&good, &opts, &mut |_| {}).unwrap();
        assert_eq!(cache(&reg), -16_384);
        assert!(reg.set_page_cache_mib(0).is_err() && reg.set_page_cache_mib(2048).is_err());
        assert_eq!(cache(&reg), -16_384);
    }

    #[test]
    fn an_import_in_chunks_ordered_by_model_stores_what_one_in_file_order_does() {
        let tmp = tempfile::tempdir().unwrap();
        let csv = tmp.path().join("m.csv");
        let mut text = String::from("model,version,metric,value,observed_at\n");
        let values = [0.05, 0.3, 0.12, 0.02, 0.4, 0.6, 0.2, 0.01, 0.7];
        for r in 0..500usize {
            // Two metrics of a model often share a time (ties broken by id in listings); values
            // cross warn and breach levels, so exceptions open, recover and breach again.
            let (m, metric) = (
                r % 3,
                if (r / 3) % 2 == 0 {
                    "psi"
                } else {
                    "drift_share"
                },
            );
            let minute = r / 6;
            let v = values[(r * 7 + r / 11) % values.len()] + r as f64 * 1e-6;
            text.push_str(&format!(
                "m{m},1.0,{metric},{v},2026-10-{:02}T{:02}:{:02}:00Z\n",
                1 + minute / 60,
                minute % 60 / 3,
                minute % 60
            ));
        }
        std::fs::write(&csv, text).unwrap();
        let one_by_one = import(&tmp.path().join("a"), None, &csv, ONE_BY_ONE);
        for chunk in [7, 64, 129, 10_000] {
            let way = Way {
                chunk,
                ..ONE_BY_ONE
            };
            let chunked = import(&tmp.path().join(format!("c{chunk}")), None, &csv, way);
            assert_eq!(chunked.len(), one_by_one.len());
            for (a, b) in chunked.iter().zip(&one_by_one) {
                assert_eq!(a, b, "chunks of {chunk}");
            }
        }
    }

    /// Measurements crossing warn and breach levels: `rows` records from record `from` on.
    fn series_csv(from: usize, rows: usize) -> String {
        let mut text = String::from("model,version,metric,value,observed_at,segment,source\n");
        let values = [0.05, 0.3, 0.12, 0.02, 0.4, 0.6, 0.2, 0.01, 0.7, 0.33];
        for r in from..from + rows {
            let metric = if (r / 3) % 2 == 0 {
                "psi"
            } else {
                "drift_share"
            };
            let v = values[(r * 7 + r / 11) % values.len()] + r as f64 * 1e-6;
            let minute = r / 6;
            let segment = if r % 5 == 0 { "" } else { "eu" };
            text.push_str(&format!(
                "m{},1.0,{metric},{v},2026-10-{:02}T{:02}:{:02}:00Z,{segment},s{}\n",
                r % 3,
                1 + minute / 1440,
                minute % 1440 / 60,
                minute % 60,
                r % 4
            ));
        }
        text
    }

    #[test]
    fn a_pipelined_import_stores_evaluates_and_audits_what_the_one_by_one_import_does() {
        let tmp = tempfile::tempdir().unwrap();
        let (first, csv) = (tmp.path().join("first.csv"), tmp.path().join("m.csv"));
        std::fs::write(&first, series_csv(0, 300)).unwrap();
        std::fs::write(&csv, series_csv(300, 700)).unwrap();
        let one_by_one = import(&tmp.path().join("a"), Some(&first), &csv, ONE_BY_ONE);
        // The import meets exceptions opened by the first one.
        assert!(one_by_one
            .iter()
            .any(|e| e[0] == "exception.breach-again" || e[0] == "exception.recover"));
        for (i, way) in [
            Way {
                chunk: 1,
                block: 1,
                preload: true,
            },
            Way {
                chunk: 7,
                block: 3,
                preload: false,
            },
            Way {
                chunk: 64,
                block: 1_000,
                preload: true,
            },
            Way {
                chunk: 129,
                block: 64,
                preload: false,
            },
            Way {
                chunk: CHUNK_ROWS,
                block: PARSE_BLOCK_ROWS,
                preload: true,
            },
        ]
        .into_iter()
        .enumerate()
        {
            let got = import(&tmp.path().join(format!("w{i}")), Some(&first), &csv, way);
            assert_eq!(got.len(), one_by_one.len(), "{way:?}");
            for (a, b) in got.iter().zip(&one_by_one) {
                assert_eq!(a, b, "{way:?}");
            }
        }
    }

    /// Everything an import could change: measurements, exceptions, the audit log.
    fn state(reg: &Registry) -> (i64, Value, i64) {
        let n: i64 = reg
            .conn
            .query_row("SELECT count(*) FROM measurements", [], |r| r.get(0))
            .unwrap();
        let exceptions = serde_json::to_value(reg.list_exceptions(None, None).unwrap()).unwrap();
        (n, exceptions, reg.verify_log().unwrap().events)
    }

    #[test]
    fn a_bad_record_half_way_through_a_pipelined_import_names_its_line_and_field_and_changes_nothing(
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let mut reg = registry(&tmp.path().join("r"));
        let first = tmp.path().join("first.csv");
        std::fs::write(&first, series_csv(0, 200)).unwrap();
        reg.ingest_file(&first, &csv_opts(), &mut |_| {}).unwrap();
        let good = series_csv(200, 3_000);
        let lines: Vec<&str> = good.lines().collect();
        // Line numbers count the header as line 1.
        let with = |changes: &[(usize, &str)]| -> String {
            let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
            for (line, text) in changes {
                l[line - 1] = text.to_string();
            }
            l.join("\n") + "\n"
        };
        let cases: Vec<(String, &str, &str)> = vec![
            (
                with(&[(1_500, "m1,1.0,psi,high,2026-10-05T00:00:00Z,,")]),
                "value",
                "line 1500",
            ),
            (
                with(&[(1_500, "m1,1.0,psi,0.1,yesterday,,")]),
                "observed_at",
                "line 1500",
            ),
            (
                with(&[(1_500, "m1,1.0,bad metric,0.1,2026-10-05T00:00:00Z,,")]),
                "metric",
                "line 1500",
            ),
            (with(&[(1_500, "m1,1.0,psi,0.1")]), "row", "line 1500"),
            (
                with(&[(2_999, "m9,1.0,psi,0.1,2026-10-05T00:00:00Z,,")]),
                "model",
                "line 2999",
            ),
            // The sequential reading resolves a line's model before it checks its fields, and
            // reports the earlier line first.
            (
                with(&[(1_500, "m9,1.0,psi,high,2026-10-05T00:00:00Z,,")]),
                "model",
                "line 1500",
            ),
            (
                with(&[
                    (1_499, "m9,1.0,psi,0.1,2026-10-05T00:00:00Z,,"),
                    (1_500, "m1,1.0,psi,high,2026-10-05T00:00:00Z,,"),
                ]),
                "model",
                "line 1499",
            ),
        ];
        let before = state(&reg);
        let bad = tmp.path().join("bad.csv");
        for (text, field, line) in &cases {
            std::fs::write(&bad, text).unwrap();
            for way in [
                Way {
                    chunk: 64,
                    block: 100,
                    preload: true,
                },
                Way {
                    chunk: CHUNK_ROWS,
                    block: PARSE_BLOCK_ROWS,
                    preload: false,
                },
                ONE_BY_ONE,
            ] {
                let err = ingest_as(&mut reg, &bad, way).unwrap_err();
                let msg = err.to_string();
                assert!(
                    msg.starts_with(&format!("{field}: {}", bad.display()))
                        && msg.contains(&format!("{line}:")),
                    "{way:?}: {msg}"
                );
                assert_eq!(state(&reg), before, "{way:?}: {msg}");
            }
        }
        // The same file without the bad line goes in whole.
        std::fs::write(&bad, &good).unwrap();
        let report = ingest_as(
            &mut reg,
            &bad,
            Way {
                chunk: 64,
                block: 100,
                preload: true,
            },
        )
        .unwrap();
        assert_eq!(report.rows, 3_000);
        assert_eq!(state(&reg).0, before.0 + 3_000);
    }
}
