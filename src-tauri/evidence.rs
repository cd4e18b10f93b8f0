//! Evidence commands: audit packs (`driftwarden-pack`) and drift from data (`driftwarden-drift`).
//! Adapters only, as the CLI's `pack`, `verify` and `drift`: the core decides what is in scope,
//! who may export and how recorded scores are evaluated; the pack crate writes and verifies the
//! folder; the drift engine computes the scores and says what is recorded.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use driftwarden_core::{CoreError, ErrorBody, IngestReport, NewMeasurement, PackScope};
use driftwarden_drift::{
    drift_files_with_progress, record_source, ColumnDrift, DriftError, DriftOptions, DriftReport,
    Method,
};
use driftwarden_pack::{verify_pack, write_pack_with, Manifest, MANIFEST};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager};
use tauri_plugin_dialog::DialogExt;
use ts_rs::TS;

use crate::commands::{pick_path, Pick};
use crate::state::AppState;

type CommandResult<T> = Result<T, ErrorBody>;

/// Runs `work` on a blocking thread with the window's state (packs and drift take seconds).
async fn blocking<T: Send + 'static>(
    app: AppHandle,
    work: impl FnOnce(&AppState) -> CommandResult<T> + Send + 'static,
) -> CommandResult<T> {
    tauri::async_runtime::spawn_blocking(move || work(app.state::<AppState>().inner()))
        .await
        .unwrap_or_else(|_| {
            Err(ErrorBody {
                code: "internal".to_string(),
                message: "the operation stopped unexpectedly".to_string(),
                field: None,
            })
        })
}

// ---- Native dialogs ----------------------------------------------------------------------------

/// Asks for a folder (the pack's destination, or a pack to verify); `null` when cancelled.
#[tauri::command]
pub async fn choose_folder(app: AppHandle, title: String) -> Option<String> {
    pick_path(app.dialog().file().set_title(title), Pick::Folder)
        .await
        .map(|p| p.to_string_lossy().into_owned())
}

/// Asks for a CSV file (a drift sample); `null` when cancelled.
#[tauri::command]
pub async fn choose_csv_file(app: AppHandle, title: String) -> Option<String> {
    let dialog = app
        .dialog()
        .file()
        .set_title(title)
        .add_filter("CSV with a header row", &["csv"]);
    pick_path(dialog, Pick::File)
        .await
        .map(|p| p.to_string_lossy().into_owned())
}

// ---- Audit packs -------------------------------------------------------------------------------

/// Input of `export_pack`.
#[derive(Debug, Deserialize, TS)]
#[ts(export)]
pub struct ExportPackRequest {
    /// Period (`YYYY-MM-DD`, inclusive) and optionally one model (`NAME` or `NAME@VERSION`).
    pub scope: PackScope,
    /// The folder to write the pack into (new, or empty).
    pub out: String,
}

/// A step of `export_pack`: `collecting`, `tables`, `audit log`, `report`, `manifest` (hashing
/// and signing), `done`.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PackProgress {
    pub stage: String,
    pub percent: u32,
}

/// One file of a written pack, as its manifest lists it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PackFile {
    pub path: String,
    pub size: u64,
}

/// What `export_pack` wrote.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PackExport {
    pub dir: String,
    /// Files in the manifest (the manifest and its signature come on top).
    pub files: Vec<PackFile>,
    pub bytes: u64,
    pub models: usize,
    pub exceptions: usize,
    pub signoffs: usize,
    pub measurements: usize,
    pub audit_events: usize,
    pub audit_gaps: usize,
    pub report_pages: usize,
    /// Whether the registry's audit chain verified when the pack was made.
    pub chain_verified: bool,
    pub signed_by: String,
    /// The signing key's minisign key id (its fingerprint, as `minisign` prints it).
    pub key_id: String,
    pub manifest_sha256: String,
}

/// Writes an audit pack of the unlocked registry as the signed-in member (compliance or admin),
/// reporting each step to `progress`.
#[tauri::command]
pub async fn export_pack(
    app: AppHandle,
    request: ExportPackRequest,
    progress: Channel<PackProgress>,
) -> CommandResult<PackExport> {
    let out = PathBuf::from(request.out.trim());
    if out.as_os_str().is_empty() {
        return Err(CoreError::invalid("out", "choose a folder for the pack").into());
    }
    if out.is_relative() {
        return Err(CoreError::invalid("out", "give the folder as a full path").into());
    }
    blocking(app, move |state| {
        state.with(|reg| {
            let send = |stage: &str, percent: u32| {
                let _ = progress.send(PackProgress {
                    stage: stage.to_string(),
                    percent,
                });
            };
            send("collecting", 0);
            // The outline only: measurements and the log extract are streamed from the registry.
            let data = reg.pack_outline(&request.scope)?;
            let summary = write_pack_with(
                &data,
                reg,
                &|bytes| reg.sign_with_my_key(bytes),
                &out,
                &mut |stage, pct| send(stage, pct),
            )?;
            let manifest_path = summary.dir.join(MANIFEST);
            let manifest: Manifest = std::fs::read(&manifest_path)
                .map_err(|e| CoreError::Io(format!("{}: {e}", manifest_path.display())))
                .and_then(|bytes| {
                    serde_json::from_slice(&bytes)
                        .map_err(|e| CoreError::Io(format!("{}: {e}", manifest_path.display())))
                })?;
            Ok(PackExport {
                dir: summary.dir.to_string_lossy().into_owned(),
                files: manifest
                    .files
                    .into_iter()
                    .map(|f| PackFile {
                        path: f.path,
                        size: f.size,
                    })
                    .collect(),
                bytes: summary.bytes,
                models: summary.models,
                exceptions: summary.exceptions,
                signoffs: summary.signoffs,
                measurements: summary.measurements,
                audit_events: summary.audit_events,
                audit_gaps: summary.audit_gaps,
                report_pages: summary.report_pages,
                chain_verified: data.audit_chain.verified,
                signed_by: data.exported_by.email.clone(),
                key_id: summary.key_id,
                manifest_sha256: summary.manifest_sha256,
            })
        })
    })
    .await
}

/// One check of `verify_pack_dir`.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PackCheck {
    /// What was checked: `manifest signature`, `file report.pdf`, `audit log`, …
    pub name: String,
    pub ok: bool,
    pub detail: String,
    /// The file at fault, when the check failed because of one.
    pub file: Option<String>,
}

/// The result of verifying a pack: one line per check; `ok` when every check passes.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PackVerification {
    pub dir: String,
    pub ok: bool,
    pub checks: Vec<PackCheck>,
}

/// Verifies a pack folder as `driftwarden verify` does (no registry needed).
#[tauri::command]
pub async fn verify_pack_dir(app: AppHandle, dir: String) -> CommandResult<PackVerification> {
    blocking(app, move |_| {
        let path = PathBuf::from(dir.trim());
        if !path.is_dir() {
            return Err(ErrorBody::from(CoreError::NotFound(format!(
                "pack folder {}",
                path.display()
            ))));
        }
        let outcome = verify_pack(&path);
        Ok(PackVerification {
            dir: path.to_string_lossy().into_owned(),
            ok: outcome.ok,
            checks: outcome
                .checks
                .into_iter()
                .map(|c| PackCheck {
                    name: c.name,
                    ok: c.ok,
                    detail: c.detail,
                    file: c.file,
                })
                .collect(),
        })
    })
    .await
}

// ---- Drift from data ---------------------------------------------------------------------------

/// Input of `drift_compute`.
#[derive(Debug, Deserialize, TS)]
#[ts(export)]
pub struct DriftRequest {
    /// Reference (baseline) CSV with a header row.
    pub reference: String,
    /// Current (production) CSV with the reference's columns.
    pub current: String,
    /// `auto`, `psi`, `ks`, `wasserstein`, `js` or `chisq`.
    pub method: String,
    /// The model to record the scores to (`NAME` or `NAME@VERSION`), when `record`.
    pub model: Option<String>,
    /// Store the scores as measurements of `model` (evaluated against its thresholds).
    pub record: bool,
    /// With `record`: when the data was observed (RFC 3339; default now).
    pub observed_at: Option<String>,
}

/// Progress of `drift_compute`: bytes read of both files, then columns computed.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DriftProgress {
    pub bytes_read: u64,
    pub total_bytes: u64,
    pub columns_done: usize,
    pub columns_total: usize,
}

/// One column's drift.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DriftColumnView {
    pub name: String,
    /// `numeric` or `categorical`.
    pub kind: String,
    /// Evidently's name of the test: `ks`, `wasserstein`, `jensenshannon`, `chisquare`, `z`, `psi`.
    pub method: String,
    /// Evidently's display name, e.g. `Wasserstein distance (normed)`.
    pub method_label: String,
    /// `null` when the test has no finite score (chi-square on a single category).
    pub score: Option<f64>,
    pub threshold: f64,
    /// True for p-value tests (drift when the score is below the threshold).
    pub pvalue: bool,
    /// The drift rule, e.g. `score >= threshold`.
    pub rule: String,
    pub drifted: bool,
    pub n_reference: u64,
    pub n_current: u64,
    pub missing_reference: u64,
    pub missing_current: u64,
    pub n_unique: usize,
}

/// The result of `drift_compute`.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DriftResult {
    pub reference: String,
    pub current: String,
    pub columns: Vec<DriftColumnView>,
    pub rows_reference: u64,
    pub rows_current: u64,
    pub number_drifted: usize,
    pub share_drifted: f64,
    /// The dataset drifts when the share reaches this.
    pub drift_share: f64,
    pub dataset_drifted: bool,
    /// The model the scores were recorded to, and the import's report.
    pub recorded_model: Option<String>,
    pub recorded: Option<IngestReport>,
    /// Metrics not recorded because their score is not finite.
    pub not_recorded: Vec<String>,
}

fn drift_error(e: DriftError) -> CoreError {
    CoreError::invalid(e.field(), e.to_string())
}

fn column_view(c: &ColumnDrift) -> DriftColumnView {
    DriftColumnView {
        name: c.name.clone(),
        kind: c.kind.as_str().to_string(),
        method: c.method.name().to_string(),
        method_label: c.method.display_name().to_string(),
        score: c.score.is_finite().then_some(c.score),
        threshold: c.threshold,
        pvalue: c.method.is_pvalue(),
        rule: c.method.rule().to_string(),
        drifted: c.drifted,
        n_reference: c.n_reference,
        n_current: c.n_current,
        missing_reference: c.missing_reference,
        missing_current: c.missing_current,
        n_unique: c.n_unique,
    }
}

fn path_arg(field: &str, value: &str) -> Result<PathBuf, CoreError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(CoreError::invalid(field, "choose a CSV file"));
    }
    Ok(PathBuf::from(value))
}

/// Computes drift between two CSVs with the drift engine, reporting progress to `progress`; with
/// `record`, stores the scores as measurements of the model through the core's ingestion path
/// (as `driftwarden drift --record`), so thresholds and exceptions apply.
#[tauri::command]
pub async fn drift_compute(
    app: AppHandle,
    request: DriftRequest,
    progress: Channel<DriftProgress>,
) -> CommandResult<DriftResult> {
    let method: Method = request
        .method
        .parse()
        .map_err(|e: String| CoreError::invalid("method", e))?;
    let reference = path_arg("reference", &request.reference)?;
    let current = path_arg("current", &request.current)?;
    let model = request
        .model
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    if request.record && model.is_none() {
        return Err(CoreError::invalid("model", "choose the model to record the scores to").into());
    }
    let observed_at = request
        .observed_at
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let record = request.record;
    blocking(app, move |state| {
        let opts = DriftOptions {
            method,
            ..DriftOptions::default()
        };
        // At most about a hundred messages while reading, and one per column.
        let last_percent = AtomicU64::new(u64::MAX);
        let report: DriftReport = drift_files_with_progress(
            &reference,
            &current,
            &opts,
            &|p: driftwarden_drift::Progress| {
                let pct = p
                    .bytes_read
                    .saturating_mul(100)
                    .checked_div(p.total_bytes)
                    .unwrap_or(0);
                let key = pct + 1000 * p.columns_done as u64;
                if last_percent.swap(key, Ordering::Relaxed) != key {
                    let _ = progress.send(DriftProgress {
                        bytes_read: p.bytes_read,
                        total_bytes: p.total_bytes,
                        columns_done: p.columns_done,
                        columns_total: p.columns_total,
                    });
                }
            },
        )
        .map_err(drift_error)?;

        let (recorded, not_recorded) = match (&model, record) {
            (Some(model), true) => {
                let scores = report.scores_to_record();
                let rows: Vec<NewMeasurement> =
                    scores.rows.into_iter().map(NewMeasurement::from).collect();
                let source = record_source(&reference, &current);
                let r = state.with_mut(|reg| {
                    reg.record_measurements(model, observed_at.as_deref(), &source, &rows)
                })?;
                (Some(r), scores.skipped)
            }
            _ => (None, Vec::new()),
        };
        Ok(DriftResult {
            reference: display(&reference),
            current: display(&current),
            columns: report.columns.iter().map(column_view).collect(),
            rows_reference: report.rows_reference,
            rows_current: report.rows_current,
            number_drifted: report.number_drifted,
            share_drifted: report.share_drifted,
            drift_share: report.drift_share,
            dataset_drifted: report.dataset_drifted,
            recorded_model: recorded.as_ref().and(model.clone()),
            recorded,
            not_recorded,
        })
    })
    .await
}

fn display(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}
