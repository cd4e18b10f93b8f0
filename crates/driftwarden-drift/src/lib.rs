//! Driftwarden's drift engine: per-column drift between a reference and a current CSV, with the
//! metric definitions, automatic test selection and default thresholds of Evidently 0.7.23's
//! `DataDriftPreset` (`../shared/reference/frameworks.md` §5). Pure computation: no storage, no
//! dependency on the registry; the CLI and the desktop app record the results as measurements.
//!
//! Both files are streamed once, in parallel; then every column is computed in parallel (its
//! two samples sorted, one merge for KS, Wasserstein and the distinct values, binary searches
//! for the histogram bins).
//!
//! ```no_run
//! use driftwarden_drift::{drift_files, DriftOptions};
//! let report = drift_files("ref.csv".as_ref(), "cur.csv".as_ref(), &DriftOptions::default())?;
//! for c in &report.columns {
//!     println!("{} {} {} {}", c.name, c.method.name(), c.score, c.drifted);
//! }
//! # Ok::<(), driftwarden_drift::DriftError>(())
//! ```

mod error;
mod ks;
pub mod metrics;
mod reader;

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

pub use error::{DriftError, Side};
pub use ks::{kolmogn_sf, ks_2samp_pvalue, smirnov_sf};

use reader::{Acc, Counts, FileData, Input, Plan};

/// How a column's values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    Numeric,
    Categorical,
}

impl ColumnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::Numeric => "numeric",
            ColumnKind::Categorical => "categorical",
        }
    }
}

/// The method asked for: Evidently's automatic choice, or one method for every column it applies
/// to (`ks` and `wasserstein` apply to numeric columns, `chisq` to categorical ones, `psi` and
/// `js` to both; a column the method does not apply to keeps the automatic choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    #[default]
    Auto,
    Psi,
    Ks,
    Wasserstein,
    JensenShannon,
    ChiSquare,
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "auto" => Method::Auto,
            "psi" => Method::Psi,
            "ks" => Method::Ks,
            "wasserstein" => Method::Wasserstein,
            "js" | "jensenshannon" => Method::JensenShannon,
            "chisq" | "chisquare" => Method::ChiSquare,
            other => {
                return Err(format!(
                    "unknown method {other:?}; expected auto, psi, ks, wasserstein, js or chisq"
                ))
            }
        })
    }
}

/// A drift test, named as in Evidently's registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StatTest {
    #[serde(rename = "ks")]
    Ks,
    #[serde(rename = "wasserstein")]
    Wasserstein,
    #[serde(rename = "jensenshannon")]
    JensenShannon,
    #[serde(rename = "chisquare")]
    ChiSquare,
    #[serde(rename = "z")]
    Z,
    #[serde(rename = "psi")]
    Psi,
}

impl StatTest {
    /// Evidently's registry name.
    pub fn name(self) -> &'static str {
        match self {
            StatTest::Ks => "ks",
            StatTest::Wasserstein => "wasserstein",
            StatTest::JensenShannon => "jensenshannon",
            StatTest::ChiSquare => "chisquare",
            StatTest::Z => "z",
            StatTest::Psi => "psi",
        }
    }

    /// Evidently's display name.
    pub fn display_name(self) -> &'static str {
        match self {
            StatTest::Ks => "K-S p_value",
            StatTest::Wasserstein => "Wasserstein distance (normed)",
            StatTest::JensenShannon => "Jensen-Shannon distance",
            StatTest::ChiSquare => "chi-square p_value",
            StatTest::Z => "Z-test p_value",
            StatTest::Psi => "PSI",
        }
    }

    /// Evidently's default threshold.
    pub fn default_threshold(self) -> f64 {
        match self {
            StatTest::Ks | StatTest::ChiSquare | StatTest::Z => 0.05,
            StatTest::Wasserstein | StatTest::JensenShannon | StatTest::Psi => 0.1,
        }
    }

    /// The score is a p-value (drift when it is small) rather than a distance.
    pub fn is_pvalue(self) -> bool {
        matches!(self, StatTest::Ks | StatTest::ChiSquare | StatTest::Z)
    }

    /// Evidently's drift rule: distances drift at `score >= threshold`, `ks` at
    /// `p <= threshold`, `chisquare` and `z` at `p < threshold`. A NaN score never drifts.
    pub fn drifted(self, score: f64, threshold: f64) -> bool {
        match self {
            StatTest::Ks => score <= threshold,
            StatTest::ChiSquare | StatTest::Z => score < threshold,
            StatTest::Wasserstein | StatTest::JensenShannon | StatTest::Psi => score >= threshold,
        }
    }

    /// The rule as text, e.g. `score >= threshold`.
    pub fn rule(self) -> &'static str {
        match self {
            StatTest::Ks => "score <= threshold",
            StatTest::ChiSquare | StatTest::Z => "score < threshold",
            _ => "score >= threshold",
        }
    }
}

/// Options of a drift run.
#[derive(Debug, Clone)]
pub struct DriftOptions {
    pub method: Method,
    /// Columns to treat as categorical whatever their values look like.
    pub categorical: Vec<String>,
    /// Columns to treat as numeric (a value that is not a number is then an error).
    pub numeric: Vec<String>,
    /// The dataset drifts when the share of drifted columns is at least this (Evidently: 0.5).
    pub drift_share: f64,
    /// Logarithm base of the Jensen–Shannon distance: None = natural log (Evidently's choice,
    /// which its 0.1 threshold assumes), Some(2.0) = base 2 (range [0, 1]).
    pub js_base: Option<f64>,
}

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            method: Method::Auto,
            categorical: Vec::new(),
            numeric: Vec::new(),
            drift_share: 0.5,
            js_base: None,
        }
    }
}

/// Every metric computed for a column; `None` where it does not apply.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ColumnMetrics {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ks_stat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ks_pvalue: Option<f64>,
    /// Wasserstein-1 distance in the data's units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasserstein: Option<f64>,
    /// Wasserstein-1 / max(std(reference), 0.001): Evidently's `wasserstein` score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasserstein_norm: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psi: Option<f64>,
    /// PSI on reference deciles (credit-risk practice; numeric columns only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psi_q10ref: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jensenshannon: Option<f64>,
    /// May be +∞ (a category absent from the reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chisquare_stat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chisquare_pvalue: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub z_pvalue: Option<f64>,
    /// Number of PSI/JS bins of a numeric column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hist_n_bins: Option<usize>,
    /// Categories of reference ∪ current (categorical columns).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_categories: Option<usize>,
}

/// The drift result of one column.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnDrift {
    pub name: String,
    pub kind: ColumnKind,
    pub method: StatTest,
    pub score: f64,
    pub threshold: f64,
    pub drifted: bool,
    /// Values compared (missing ones excluded).
    pub n_reference: u64,
    pub n_current: u64,
    pub missing_reference: u64,
    pub missing_current: u64,
    /// Distinct values of reference ∪ current.
    pub n_unique: usize,
    pub metrics: ColumnMetrics,
}

/// The result of a drift run: one entry per reference column, in header order.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    pub columns: Vec<ColumnDrift>,
    pub rows_reference: u64,
    pub rows_current: u64,
    pub number_drifted: usize,
    pub share_drifted: f64,
    pub drift_share: f64,
    pub dataset_drifted: bool,
}

/// The scores of a run as measurements to record (`--record` in the CLI, "record" in the app):
/// `<method>:<column>` = each column's score under its selected method, then
/// `share_drifted_columns`. A column without a finite score (chi-square on a single category)
/// is left out and named in `skipped`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoresToRecord {
    /// (metric, value) pairs, in column order, the share last.
    pub rows: Vec<(String, f64)>,
    pub skipped: Vec<String>,
}

/// The metric name of the dataset-level share of drifted columns.
pub const SHARE_DRIFTED_METRIC: &str = "share_drifted_columns";

impl DriftReport {
    /// What recording this run stores (see [`ScoresToRecord`]).
    pub fn scores_to_record(&self) -> ScoresToRecord {
        let mut rows = Vec::with_capacity(self.columns.len() + 1);
        let mut skipped = Vec::new();
        for c in &self.columns {
            let metric = format!("{}:{}", c.method.name(), c.name);
            if c.score.is_finite() {
                rows.push((metric, c.score));
            } else {
                skipped.push(metric);
            }
        }
        rows.push((SHARE_DRIFTED_METRIC.to_string(), self.share_drifted));
        ScoresToRecord { rows, skipped }
    }
}

/// The `source` recorded with drift measurements: `drift:<reference file>→<current file>`.
pub fn record_source(reference: &Path, current: &Path) -> String {
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string())
    };
    format!("drift:{}→{}", name(reference), name(current))
}

/// Progress of a run, for a progress bar.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Progress {
    pub bytes_read: u64,
    pub total_bytes: u64,
    pub columns_done: usize,
    pub columns_total: usize,
}

/// Drift of every reference column between two CSV files.
pub fn drift_files(
    reference: &Path,
    current: &Path,
    opts: &DriftOptions,
) -> Result<DriftReport, DriftError> {
    drift_files_with_progress(reference, current, opts, &|_| {})
}

/// As [`drift_files`], calling `progress` now and then (from worker threads).
pub fn drift_files_with_progress(
    reference: &Path,
    current: &Path,
    opts: &DriftOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<DriftReport, DriftError> {
    let rin = Input {
        side: Side::Reference,
        path: reference,
        file: reference.display().to_string(),
    };
    let cin = Input {
        side: Side::Current,
        path: current,
        file: current.display().to_string(),
    };
    let rhead = rin.header()?;
    let chead = cin.header()?;
    for name in opts.categorical.iter().chain(&opts.numeric) {
        if !rhead.contains(name) {
            return Err(DriftError::UnknownColumn {
                file: rin.file.clone(),
                column: name.clone(),
            });
        }
    }
    if let Some(both) = opts.categorical.iter().find(|c| opts.numeric.contains(c)) {
        return Err(DriftError::ConflictingOverride {
            column: both.clone(),
        });
    }
    let mut cur_slot: Vec<Option<usize>> = vec![None; chead.len()];
    for (slot, name) in rhead.iter().enumerate() {
        match chead.iter().position(|c| c == name) {
            Some(fi) => cur_slot[fi] = Some(slot),
            None => {
                return Err(DriftError::MissingColumn {
                    side: Side::Current,
                    file: cin.file.clone(),
                    column: name.clone(),
                })
            }
        }
    }
    let ref_slot: Vec<Option<usize>> = (0..rhead.len()).map(Some).collect();
    let plans: Vec<Plan> = rhead
        .iter()
        .map(|name| {
            if opts.categorical.contains(name) {
                Plan::Categorical
            } else if opts.numeric.contains(name) {
                Plan::Numeric
            } else {
                Plan::Infer
            }
        })
        .collect();

    let total = rin.size() + cin.size();
    let counter = AtomicU64::new(0);
    let done = AtomicUsize::new(0);
    let ncols = rhead.len();
    let report = |columns_done: usize| {
        progress(Progress {
            bytes_read: counter.load(Ordering::Relaxed).min(total),
            total_bytes: total,
            columns_done,
            columns_total: ncols,
        })
    };
    let tick = || report(0);
    let (r, c) = rayon::join(
        || rin.read(&rhead, &ref_slot, &plans, &counter, &tick),
        || cin.read(&chead, &cur_slot, &plans, &counter, &tick),
    );
    let (mut rdata, mut cdata) = (r?, c?);

    // Decide each column's kind; re-read (as text) what was read as numbers in a column that
    // turned out categorical.
    let kinds: Vec<ColumnKind> = (0..ncols)
        .map(|s| {
            let numeric = |d: &FileData| matches!(d.cols[s].acc, Acc::Numeric { .. });
            match plans[s] {
                Plan::Numeric => ColumnKind::Numeric,
                Plan::Categorical => ColumnKind::Categorical,
                _ if numeric(&rdata) && numeric(&cdata) => ColumnKind::Numeric,
                _ => ColumnKind::Categorical,
            }
        })
        .collect();
    let reread = |d: &FileData| -> Vec<Plan> {
        (0..ncols)
            .map(|s| {
                let text = matches!(d.cols[s].acc, Acc::Categorical(_));
                if kinds[s] == ColumnKind::Categorical && !text {
                    Plan::Categorical
                } else {
                    Plan::Skip
                }
            })
            .collect()
    };
    let (rplan, cplan) = (reread(&rdata), reread(&cdata));
    let needed = |p: &[Plan]| p.iter().any(|p| *p != Plan::Skip);
    let (r2, c2) = rayon::join(
        || needed(&rplan).then(|| rin.read(&rhead, &ref_slot, &rplan, &counter, &tick)),
        || needed(&cplan).then(|| cin.read(&chead, &cur_slot, &cplan, &counter, &tick)),
    );
    for (data, again, plan) in [(&mut rdata, r2, &rplan), (&mut cdata, c2, &cplan)] {
        if let Some(again) = again {
            let again = again?;
            for (s, col) in again.cols.into_iter().enumerate() {
                if plan[s] != Plan::Skip {
                    data.cols[s] = col;
                }
            }
        }
    }

    let (rows_reference, rows_current) = (rdata.rows, cdata.rows);
    let inputs: Vec<ColumnInput> = rdata
        .cols
        .into_iter()
        .zip(cdata.cols)
        .enumerate()
        .map(|(s, (rc, cc))| {
            let int_dtype = rc.int_dtype() && cc.int_dtype();
            ColumnInput {
                name: rhead[s].clone(),
                kind: kinds[s],
                reference: sample(rc.acc),
                current: sample(cc.acc),
                missing_reference: rc.missing,
                missing_current: cc.missing,
                int_dtype,
            }
        })
        .collect();
    for c in &inputs {
        for (side, file, sample, missing) in [
            (
                Side::Reference,
                &rin.file,
                &c.reference,
                c.missing_reference,
            ),
            (Side::Current, &cin.file, &c.current, c.missing_current),
        ] {
            if sample.len() == 0 {
                return Err(DriftError::EmptyColumn {
                    side,
                    file: file.clone(),
                    column: c.name.clone(),
                    missing,
                });
            }
        }
    }
    let columns: Vec<ColumnDrift> = inputs
        .into_par_iter()
        .map(|c| {
            let out = compute_column(c, opts);
            report(done.fetch_add(1, Ordering::Relaxed) + 1);
            out
        })
        .collect();
    let number_drifted = columns.iter().filter(|c| c.drifted).count();
    let share_drifted = number_drifted as f64 / columns.len() as f64;
    Ok(DriftReport {
        columns,
        rows_reference,
        rows_current,
        number_drifted,
        share_drifted,
        drift_share: opts.drift_share,
        dataset_drifted: share_drifted >= opts.drift_share,
    })
}

enum Sample {
    Numeric(Vec<f64>),
    Categorical(Counts),
}

impl Sample {
    fn len(&self) -> u64 {
        match self {
            Sample::Numeric(v) => v.len() as u64,
            Sample::Categorical(c) => c.values().sum(),
        }
    }
}

fn sample(acc: Acc) -> Sample {
    match acc {
        Acc::Numeric { values, .. } => Sample::Numeric(values),
        Acc::Categorical(c) => Sample::Categorical(c),
        // Every demoted column has been re-read; a skipped one is never computed.
        Acc::Demoted | Acc::Skipped => Sample::Numeric(Vec::new()),
    }
}

struct ColumnInput {
    name: String,
    kind: ColumnKind,
    reference: Sample,
    current: Sample,
    missing_reference: u64,
    missing_current: u64,
    int_dtype: bool,
}

/// Evidently's `_get_default_stattest`: by column type, the number of reference values (after
/// dropping missing ones) and the distinct values of reference ∪ current.
pub fn auto_method(kind: ColumnKind, n_reference: u64, n_unique: usize) -> StatTest {
    match (kind, n_reference > 1000) {
        (ColumnKind::Numeric, true) if n_unique <= 5 => StatTest::JensenShannon,
        (ColumnKind::Numeric, true) => StatTest::Wasserstein,
        (ColumnKind::Numeric, false) if n_unique <= 2 => StatTest::Z,
        (ColumnKind::Numeric, false) if n_unique <= 5 => StatTest::ChiSquare,
        (ColumnKind::Numeric, false) => StatTest::Ks,
        (ColumnKind::Categorical, true) => StatTest::JensenShannon,
        (ColumnKind::Categorical, false) if n_unique <= 2 => StatTest::Z,
        (ColumnKind::Categorical, false) => StatTest::ChiSquare,
    }
}

/// The test used for a column: the asked method where it applies to the column's kind
/// (Evidently's `allowed_feature_types`), else the automatic choice.
pub fn choose_method(
    method: Method,
    kind: ColumnKind,
    n_reference: u64,
    n_unique: usize,
) -> StatTest {
    let numeric = kind == ColumnKind::Numeric;
    match method {
        Method::Psi => StatTest::Psi,
        Method::JensenShannon => StatTest::JensenShannon,
        Method::Ks if numeric => StatTest::Ks,
        Method::Wasserstein if numeric => StatTest::Wasserstein,
        Method::ChiSquare if !numeric => StatTest::ChiSquare,
        _ => auto_method(kind, n_reference, n_unique),
    }
}

fn compute_column(c: ColumnInput, opts: &DriftOptions) -> ColumnDrift {
    let (n_reference, n_current) = (c.reference.len(), c.current.len());
    let mut m = ColumnMetrics::default();
    let (method, n_unique, pairs, same_single) = match (c.kind, c.reference, c.current) {
        (ColumnKind::Numeric, Sample::Numeric(mut a), Sample::Numeric(mut b)) => {
            a.sort_unstable_by(f64::total_cmp);
            b.sort_unstable_by(f64::total_cmp);
            let r = metrics::numeric(&a, &b, c.int_dtype, opts.js_base);
            m.ks_stat = Some(r.ks_stat);
            m.ks_pvalue = Some(r.ks_pvalue);
            m.wasserstein = Some(r.wasserstein);
            m.wasserstein_norm = Some(r.wasserstein_norm);
            m.psi = Some(r.psi);
            m.psi_q10ref = Some(r.psi_q10ref);
            m.jensenshannon = Some(r.jensenshannon);
            m.hist_n_bins = Some(r.hist_n_bins);
            let method = choose_method(opts.method, c.kind, n_reference, r.n_unique);
            let same_single = r.n_unique == 1;
            (method, r.n_unique, r.value_counts, same_single)
        }
        (_, Sample::Categorical(rc), Sample::Categorical(cc)) => {
            let mut keys: Vec<(&[u8], u64, u64)> = rc
                .iter()
                .map(|(k, &n)| (&k[..], n, cc.get(k).copied().unwrap_or(0)))
                .collect();
            keys.extend(
                cc.iter()
                    .filter(|(k, _)| !rc.contains_key(*k))
                    .map(|(k, &n)| (&k[..], 0, n)),
            );
            keys.sort_unstable_by(|x, y| x.0.cmp(y.0));
            let pairs: Vec<(u64, u64)> = keys.iter().map(|&(_, r, c)| (r, c)).collect();
            let (nf, mf) = (n_reference as f64, n_current as f64);
            let rp: Vec<f64> = pairs.iter().map(|p| p.0 as f64 / nf).collect();
            let cp: Vec<f64> = pairs.iter().map(|p| p.1 as f64 / mf).collect();
            m.psi = Some(metrics::psi(&rp, &cp));
            m.jensenshannon = Some(metrics::jensen_shannon(&rp, &cp, opts.js_base));
            let (stat, p) = metrics::chisquare(&pairs, n_reference, n_current);
            m.chisquare_stat = Some(stat);
            m.chisquare_pvalue = Some(p);
            m.n_categories = Some(pairs.len());
            let k = pairs.len();
            let method = choose_method(opts.method, ColumnKind::Categorical, n_reference, k);
            (method, k, Some(pairs), k == 1)
        }
        // The kinds were decided from the accumulators, so they always agree.
        _ => unreachable!("column kind and samples disagree"),
    };
    // Tests on the distinct values of a numeric column, where chosen (they need the counts,
    // which exist for the few distinct values these tests are chosen for).
    if let Some(pairs) = &pairs {
        if method == StatTest::ChiSquare && m.chisquare_pvalue.is_none() {
            let (stat, p) = metrics::chisquare(pairs, n_reference, n_current);
            m.chisquare_stat = Some(stat);
            m.chisquare_pvalue = Some(p);
        }
        if n_unique <= 2 {
            let (r0, c0) = pairs[0];
            m.z_pvalue = Some(metrics::z_test(
                same_single,
                n_reference - r0,
                n_reference,
                n_current - c0,
                n_current,
            ));
        }
    }
    let score = match method {
        StatTest::Ks => m.ks_pvalue,
        StatTest::Wasserstein => m.wasserstein_norm,
        StatTest::JensenShannon => m.jensenshannon,
        StatTest::ChiSquare => m.chisquare_pvalue,
        StatTest::Z => m.z_pvalue,
        StatTest::Psi => m.psi,
    }
    .unwrap_or(f64::NAN);
    let threshold = method.default_threshold();
    ColumnDrift {
        name: c.name,
        kind: c.kind,
        method,
        score,
        threshold,
        drifted: method.drifted(score, threshold),
        n_reference,
        n_current,
        missing_reference: c.missing_reference,
        missing_current: c.missing_current,
        n_unique,
        metrics: m,
    }
}
