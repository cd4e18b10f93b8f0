//! `driftwarden drift`: drift between a reference and a current CSV, computed by the drift
//! engine (`driftwarden-drift`), printed as a table or JSON, and optionally recorded as
//! measurements of a model through the core's ingestion path (so thresholds and exceptions
//! apply). Parsing and printing only: the metrics live in the engine, the rules in the core.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use driftwarden_core::{CoreError, IngestReport, NewMeasurement, Registry};
use driftwarden_drift::{
    drift_files_with_progress, record_source, ColumnDrift, DriftError, DriftOptions, DriftReport,
    Method,
};

use crate::output::Table;

#[derive(Args)]
pub struct DriftArgs {
    /// Reference (baseline) CSV with a header row
    #[arg(long, value_name = "REF.csv")]
    pub reference: PathBuf,
    /// Current (production) CSV with the reference's columns
    #[arg(long, value_name = "CUR.csv")]
    pub current: PathBuf,
    /// auto (Evidently's choice per column), psi, ks, wasserstein, js or chisq; a method that
    /// does not apply to a column's type (ks/wasserstein: numeric, chisq: categorical) leaves
    /// that column on auto
    #[arg(long, default_value = "auto", value_name = "METHOD")]
    pub method: String,
    /// Treat this column as categorical (repeatable)
    #[arg(long = "categorical", value_name = "COL")]
    pub categorical: Vec<String>,
    /// Treat this column as numeric (repeatable)
    #[arg(long = "numeric", value_name = "COL")]
    pub numeric: Vec<String>,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    /// With --record: the model measured
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// With --record: the model version
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    /// Store the scores as measurements of the model (`<method>:<column>` and
    /// `share_drifted_columns`), evaluated against its thresholds
    #[arg(long)]
    pub record: bool,
    /// With --record: when the data was observed (RFC 3339; default now)
    #[arg(long, value_name = "RFC3339")]
    pub observed_at: Option<String>,
}

/// Runs the command. `open` opens the registry; it is called only with `--record`.
pub fn run(
    args: &DriftArgs,
    open: &dyn Fn() -> Result<Registry, CoreError>,
) -> Result<(), CoreError> {
    let method: Method = args
        .method
        .parse()
        .map_err(|e: String| CoreError::invalid("method", e))?;
    let model_ref = match (&args.model, &args.version) {
        (Some(m), Some(v)) => Some(format!("{m}@{v}")),
        (Some(m), None) => Some(m.clone()),
        (None, Some(_)) => {
            return Err(CoreError::invalid(
                "version",
                "--version needs --model NAME",
            ))
        }
        (None, None) => None,
    };
    if args.record && model_ref.is_none() {
        return Err(CoreError::invalid(
            "model",
            "--record needs --model NAME (and --version V)",
        ));
    }
    let opts = DriftOptions {
        method,
        categorical: args.categorical.clone(),
        numeric: args.numeric.clone(),
        ..DriftOptions::default()
    };

    let show = std::io::stderr().is_terminal();
    let progress = |p: driftwarden_drift::Progress| {
        if !show {
            return;
        }
        if p.columns_done == 0 && p.total_bytes > 0 {
            eprint!("\rreading: {:>3}%   ", p.bytes_read * 100 / p.total_bytes);
        } else if p.columns_done > 0 {
            eprint!(
                "\rcomputing: {}/{} columns",
                p.columns_done, p.columns_total
            );
        }
    };
    let report = drift_files_with_progress(&args.reference, &args.current, &opts, &progress)
        .map_err(drift_error)?;
    if show {
        eprint!("\r{:40}\r", "");
    }

    let recorded = match (&model_ref, args.record) {
        (Some(model), true) => {
            let mut reg = open()?;
            let (rows, skipped) = measurements(&report);
            let source = record_source(&args.reference, &args.current);
            let r = reg.record_measurements(model, args.observed_at.as_deref(), &source, &rows)?;
            Some((model.clone(), r, skipped))
        }
        _ => None,
    };

    if args.json {
        let out = JsonReport {
            report: &report,
            recorded: recorded.as_ref().map(|(_, r, _)| r),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("drift results serialise")
        );
    } else {
        print_table(&report);
        if let Some((model, r, skipped)) = &recorded {
            println!(
                "Recorded {} measurements for {model} (import {}): {} over breach, {} notices; opened {:?}, recovered {:?}, re-breaches {:?}",
                r.rows, r.import_id, r.breaches, r.notices, r.opened, r.recovered, r.rebreaches
            );
            if !skipped.is_empty() {
                println!("Not recorded (no finite score): {}", skipped.join(", "));
            }
        }
    }
    Ok(())
}

fn drift_error(e: DriftError) -> CoreError {
    CoreError::invalid(e.field(), e.to_string())
}

/// The scores to record (the drift engine decides which: `DriftReport::scores_to_record`), as
/// the core's measurement input.
fn measurements(report: &DriftReport) -> (Vec<NewMeasurement>, Vec<String>) {
    let scores = report.scores_to_record();
    let rows = scores.rows.into_iter().map(NewMeasurement::from).collect();
    (rows, scores.skipped)
}

fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else if x == 0.0 {
        "0".into()
    } else if x.abs() >= 1e-4 && x.abs() < 1e6 {
        format!("{x:.6}")
    } else {
        format!("{x:.4e}")
    }
}

fn print_table(report: &DriftReport) {
    let mut t = Table::new(&[
        "COLUMN",
        "KIND",
        "METHOD",
        "SCORE",
        "THRESHOLD",
        "DRIFTED",
        "MISSING REF",
        "MISSING CUR",
    ]);
    for c in &report.columns {
        t.row(vec![
            c.name.clone(),
            c.kind.as_str().into(),
            c.method.name().into(),
            fmt_num(c.score),
            c.threshold.to_string(),
            if c.drifted { "yes" } else { "no" }.into(),
            c.missing_reference.to_string(),
            c.missing_current.to_string(),
        ]);
    }
    t.print();
    println!(
        "Drift in {} of {} columns (share {}); the dataset drifts at a share of {} or more: {}",
        report.number_drifted,
        report.columns.len(),
        report.share_drifted,
        report.drift_share,
        if report.dataset_drifted {
            "dataset drift"
        } else {
            "no dataset drift"
        }
    );
}

/// `{"columns": {NAME: {...}}, "share_drifted": x, "dataset_drifted": b}` (+ `"recorded"`, the
/// ingest report, with `--record`). Columns stay in the reference's header order.
struct JsonReport<'a> {
    report: &'a DriftReport,
    recorded: Option<&'a IngestReport>,
}

struct JsonColumns<'a>(&'a [ColumnDrift]);

#[derive(Serialize)]
struct JsonColumn {
    kind: &'static str,
    method: &'static str,
    score: f64,
    threshold: f64,
    drifted: bool,
    missing_reference: u64,
    missing_current: u64,
    metrics: JsonMetrics,
}

#[derive(Serialize)]
struct JsonMetrics {
    #[serde(skip_serializing_if = "Option::is_none")]
    ks_stat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ks_pvalue: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wasserstein: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wasserstein_norm: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    psi: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    psi_q10ref: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jensenshannon: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chisquare_pvalue: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    z_pvalue: Option<f64>,
}

impl Serialize for JsonColumns<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for c in self.0 {
            let m = &c.metrics;
            map.serialize_entry(
                &c.name,
                &JsonColumn {
                    kind: c.kind.as_str(),
                    method: c.method.name(),
                    score: c.score,
                    threshold: c.threshold,
                    drifted: c.drifted,
                    missing_reference: c.missing_reference,
                    missing_current: c.missing_current,
                    metrics: JsonMetrics {
                        ks_stat: m.ks_stat,
                        ks_pvalue: m.ks_pvalue,
                        wasserstein: m.wasserstein,
                        wasserstein_norm: m.wasserstein_norm,
                        psi: m.psi,
                        psi_q10ref: m.psi_q10ref,
                        jensenshannon: m.jensenshannon,
                        chisquare_pvalue: m.chisquare_pvalue,
                        z_pvalue: m.z_pvalue,
                    },
                },
            )?;
        }
        map.end()
    }
}

impl Serialize for JsonReport<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("columns", &JsonColumns(&self.report.columns))?;
        map.serialize_entry("share_drifted", &self.report.share_drifted)?;
        map.serialize_entry("dataset_drifted", &self.report.dataset_drifted)?;
        if let Some(r) = self.recorded {
            map.serialize_entry("recorded", r)?;
        }
        map.end()
    }
}
