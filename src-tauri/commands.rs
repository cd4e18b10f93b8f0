//! Tauri commands: each one is a short adapter over a core operation. Errors cross the boundary
//! as `ErrorBody { code, message, field }`; the UI branches on `code`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use driftwarden_core::{
    default_state_dir, parse_date, AddMember, AddModel, AddNhi, ApprovalView, ApproveModel,
    AuditEventView, CalendarPage, CalendarQuery, Clock, CoreError, CreateRegistry, DecideException,
    DecisionRights, DriftSeries, ErrorBody, ExceptionPage, ExceptionView, GateItem, HeadCheck,
    Inbox, InboxQuery, IngestOptions, IngestReport, MeasurementView, MemberView, ModelDetail,
    ModelPage, ModelQuery, ModelTimeline, ModelView, NhiDetail, NhiLinkView, NhiPage, NhiQuery,
    NhiView, Policy, Posture, PostureQuery, Progress, Registry, SessionInfo, SetDecisionRights,
    SetThreshold, SweepReport, SystemClock, ThresholdView, VerifyReport,
};
use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::State;
use tauri_plugin_dialog::DialogExt;
use ts_rs::TS;

use crate::state::AppState;

type CommandResult<T> = Result<T, ErrorBody>;

/// Input of `registry_create`.
// No `Debug`: it carries a passphrase.
#[derive(Deserialize, TS)]
#[ts(export)]
pub struct CreateRegistryRequest {
    /// The folder that will hold the registry.
    pub dir: String,
    pub registry: CreateRegistry,
    pub passphrase: String,
}

/// Input of `registry_open`.
// No `Debug`: it carries a passphrase.
#[derive(Deserialize, TS)]
#[ts(export)]
pub struct OpenRegistryRequest {
    pub dir: String,
    pub email: String,
    pub passphrase: String,
}

fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// Runs slow core work (key derivation) off the UI and IPC threads.
async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, CoreError> + Send + 'static,
) -> CommandResult<T> {
    match tauri::async_runtime::spawn_blocking(work).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(ErrorBody {
            code: "internal".to_string(),
            message: "the operation stopped unexpectedly".to_string(),
            field: None,
        }),
    }
}

/// The folder proposed on first run: `DRIFTWARDEN_REGISTRY`, else the platform data folder.
#[tauri::command]
pub fn default_registry_dir() -> String {
    std::env::var_os("DRIFTWARDEN_REGISTRY")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(driftwarden_core::default_registry_dir)
        .to_string_lossy()
        .into_owned()
}

#[tauri::command]
pub async fn registry_create(
    state: State<'_, AppState>,
    request: CreateRegistryRequest,
) -> CommandResult<SessionInfo> {
    let registry = off_thread(move || {
        Registry::create(
            Path::new(&request.dir),
            &request.registry,
            &request.passphrase,
            clock(),
        )
    })
    .await?;
    state.unlock(registry)
}

#[tauri::command]
pub async fn registry_open(
    state: State<'_, AppState>,
    request: OpenRegistryRequest,
) -> CommandResult<SessionInfo> {
    let registry = off_thread(move || {
        Registry::open(
            Path::new(&request.dir),
            &request.email,
            &request.passphrase,
            clock(),
        )
    })
    .await?;
    state.unlock(registry)
}

#[tauri::command]
pub fn registry_lock(state: State<'_, AppState>) {
    state.lock();
}

/// The unlocked registry's session, or `null` while locked.
#[tauri::command(async)]
pub fn session(state: State<'_, AppState>) -> CommandResult<Option<SessionInfo>> {
    state.session()
}

#[tauri::command(async)]
pub fn list_models(state: State<'_, AppState>) -> CommandResult<Vec<ModelView>> {
    state.with(Registry::list_models)
}

/// One page of the model list, filtered and ordered in the core (by name, then version).
#[tauri::command(async)]
pub fn list_models_page(state: State<'_, AppState>, query: ModelQuery) -> CommandResult<ModelPage> {
    state.with(|r| r.list_models_page(&query))
}

#[tauri::command(async)]
pub fn list_members(state: State<'_, AppState>) -> CommandResult<Vec<MemberView>> {
    state.with(Registry::list_members)
}

// ---- Models, decision rights, thresholds, approvals ----------------------------------------

#[tauri::command(async)]
pub fn show_model(state: State<'_, AppState>, model: String) -> CommandResult<ModelDetail> {
    state.with(|r| r.show_model(&model))
}

#[tauri::command(async)]
pub fn add_model(state: State<'_, AppState>, input: AddModel) -> CommandResult<ModelView> {
    state.with_mut(|r| r.add_model(&input))
}

#[tauri::command(async)]
pub fn set_decision_rights(
    state: State<'_, AppState>,
    model: String,
    input: SetDecisionRights,
) -> CommandResult<DecisionRights> {
    state.with_mut(|r| r.set_decision_rights(&model, &input))
}

#[tauri::command(async)]
pub fn set_threshold(
    state: State<'_, AppState>,
    model: String,
    input: SetThreshold,
) -> CommandResult<ThresholdView> {
    state.with_mut(|r| r.set_threshold(&model, &input))
}

#[tauri::command(async)]
pub fn approval_gate(
    state: State<'_, AppState>,
    model: String,
    until: Option<String>,
) -> CommandResult<Vec<GateItem>> {
    state.with(|r| r.approval_gate(&model, until.as_deref()))
}

#[tauri::command(async)]
pub fn approve_model(
    state: State<'_, AppState>,
    model: String,
    input: ApproveModel,
) -> CommandResult<ApprovalView> {
    state.with_mut(|r| r.approve_model(&model, &input))
}

// ---- Measurements ------------------------------------------------------------------------------

/// Imports a measurement file; progress goes to `progress` as the file is read.
#[tauri::command(async)]
pub fn ingest_file(
    state: State<'_, AppState>,
    path: String,
    options: IngestOptions,
    progress: Channel<Progress>,
) -> CommandResult<IngestReport> {
    let mut last = 0u64;
    state.with_mut(|r| {
        r.ingest_file(Path::new(&path), &options, &mut |p: Progress| {
            // At most about a hundred messages per file.
            let step = (p.total_bytes / 100).max(1);
            if p.bytes >= last + step || p.bytes >= p.total_bytes {
                last = p.bytes;
                let _ = progress.send(p);
            }
        })
    })
}

/// Which native dialog `pick_path` shows.
pub(crate) enum Pick {
    File,
    Folder,
    Save,
}

/// Shows a native file dialog without blocking the UI thread; the chosen path, or `None` when
/// cancelled.
pub(crate) async fn pick_path(
    dialog: tauri_plugin_dialog::FileDialogBuilder<tauri::Wry>,
    pick: Pick,
) -> Option<PathBuf> {
    let (tx, rx) = std::sync::mpsc::channel();
    let send = move |path: Option<tauri_plugin_dialog::FilePath>| {
        let _ = tx.send(path.and_then(|p| p.into_path().ok()));
    };
    match pick {
        Pick::File => dialog.pick_file(send),
        Pick::Folder => dialog.pick_folder(send),
        Pick::Save => dialog.save_file(send),
    }
    tauri::async_runtime::spawn_blocking(move || rx.recv().ok().flatten())
        .await
        .ok()
        .flatten()
}

/// Asks for a measurement file with the system's file dialog; `null` when cancelled.
#[tauri::command]
pub async fn choose_measurement_file(app: tauri::AppHandle) -> Option<String> {
    let dialog = app
        .dialog()
        .file()
        .set_title("Import measurements")
        .add_filter("Measurements (CSV, Evidently JSON)", &["csv", "json"]);
    pick_path(dialog, Pick::File)
        .await
        .map(|p| p.to_string_lossy().into_owned())
}

#[tauri::command(async)]
pub fn list_measurements(
    state: State<'_, AppState>,
    model: String,
    metric: Option<String>,
) -> CommandResult<Vec<MeasurementView>> {
    state.with(|r| r.list_measurements(&model, metric.as_deref()))
}

/// A metric's measurements for its drift chart, downsampled (min/max per bucket) to at most
/// `max_points` (the core's default, 2,000, when absent).
#[tauri::command(async)]
pub fn drift_series(
    state: State<'_, AppState>,
    model: String,
    metric: String,
    max_points: Option<usize>,
) -> CommandResult<DriftSeries> {
    state.with(|r| r.drift_series(&model, &metric, max_points))
}

// ---- Exceptions ------------------------------------------------------------------------------

#[tauri::command(async)]
pub fn list_exceptions(
    state: State<'_, AppState>,
    filter: Option<String>,
    model: Option<String>,
) -> CommandResult<Vec<ExceptionView>> {
    state.with(|r| r.list_exceptions(filter.as_deref(), model.as_deref()))
}

/// One page of exceptions, overdue first then by soonest deadline, optionally of one state (or
/// `open`: any but closed and dismissed) and one model.
#[tauri::command(async)]
pub fn list_exceptions_page(
    state: State<'_, AppState>,
    filter: Option<String>,
    model: Option<String>,
    offset: i64,
    limit: i64,
) -> CommandResult<ExceptionPage> {
    state.with(|r| r.list_exceptions_page(filter.as_deref(), model.as_deref(), offset, limit))
}

#[tauri::command(async)]
pub fn show_exception(state: State<'_, AppState>, id: i64) -> CommandResult<ExceptionView> {
    state.with(|r| r.show_exception(id))
}

#[tauri::command(async)]
pub fn start_validation(state: State<'_, AppState>, id: i64) -> CommandResult<ExceptionView> {
    state.with_mut(|r| r.start_validation(id))
}

#[tauri::command(async)]
pub fn validate_exception(
    state: State<'_, AppState>,
    id: i64,
    confirm: bool,
    reason: String,
) -> CommandResult<ExceptionView> {
    state.with_mut(|r| r.validate_exception(id, confirm, &reason))
}

#[tauri::command(async)]
pub fn flag_exception(
    state: State<'_, AppState>,
    id: i64,
    impact: String,
    note: String,
) -> CommandResult<ExceptionView> {
    state.with_mut(|r| r.flag_exception(id, &impact, &note))
}

#[tauri::command(async)]
pub fn decide_exception(
    state: State<'_, AppState>,
    id: i64,
    input: DecideException,
) -> CommandResult<ExceptionView> {
    state.with_mut(|r| r.decide_exception(id, &input))
}

#[tauri::command(async)]
pub fn cosign_exception(state: State<'_, AppState>, id: i64) -> CommandResult<ExceptionView> {
    state.with_mut(|r| r.cosign_exception(id))
}

#[tauri::command(async)]
pub fn sweep(state: State<'_, AppState>) -> CommandResult<SweepReport> {
    state.with_mut(Registry::sweep)
}

// ---- Audit log -------------------------------------------------------------------------------

#[tauri::command(async)]
pub fn audit_log(
    state: State<'_, AppState>,
    limit: Option<i64>,
) -> CommandResult<Vec<AuditEventView>> {
    state.with(|r| r.audit_log(limit))
}

/// One page of the audit log, newest first: the `limit` events before sequence `before`.
#[tauri::command(async)]
pub fn audit_log_page(
    state: State<'_, AppState>,
    before: Option<i64>,
    limit: i64,
) -> CommandResult<Vec<AuditEventView>> {
    state.with(|r| r.audit_log_page(before, limit))
}

/// A model's decision timeline (its own, its thresholds' and its exceptions' events, oldest
/// first) with the verified sign-offs they refer to.
#[tauri::command(async)]
pub fn model_timeline(state: State<'_, AppState>, model: String) -> CommandResult<ModelTimeline> {
    state.with(|r| r.model_timeline(&model))
}

#[tauri::command(async)]
pub fn audit_log_for(
    state: State<'_, AppState>,
    entity: String,
    id: String,
) -> CommandResult<Vec<AuditEventView>> {
    state.with(|r| r.audit_log_for(&entity, &id))
}

#[tauri::command(async)]
pub fn verify_log(state: State<'_, AppState>) -> CommandResult<VerifyReport> {
    state.with(Registry::verify_log)
}

// ---- Members and policy ------------------------------------------------------------------------

/// Input of `add_member`: the new member types their own passphrase.
// No `Debug`: it carries a passphrase.
#[derive(Deserialize, TS)]
#[ts(export)]
pub struct AddMemberRequest {
    pub member: AddMember,
    pub passphrase: String,
}

#[tauri::command(async)]
pub fn add_member(
    state: State<'_, AppState>,
    request: AddMemberRequest,
) -> CommandResult<MemberView> {
    state.with_mut(|r| r.add_member(&request.member, &request.passphrase))
}

#[tauri::command(async)]
pub fn offboard_member(
    state: State<'_, AppState>,
    email: String,
    reason: String,
) -> CommandResult<MemberView> {
    state.with_mut(|r| r.offboard_member(&email, &reason))
}

#[tauri::command(async)]
pub fn policy(state: State<'_, AppState>) -> CommandResult<Policy> {
    state.with(Registry::policy)
}

#[tauri::command(async)]
pub fn set_policy(state: State<'_, AppState>, key: String, value: i64) -> CommandResult<Policy> {
    state.with_mut(|r| r.set_policy(&key, value))
}

// ---- NHIs --------------------------------------------------------------------------------------

/// One page of the NHI inventory (by name), filtered, with how many match in all.
#[tauri::command(async)]
pub fn list_nhis_page(state: State<'_, AppState>, query: NhiQuery) -> CommandResult<NhiPage> {
    state.with(|r| r.list_nhis_page(&query))
}

#[tauri::command(async)]
pub fn add_nhi(state: State<'_, AppState>, input: AddNhi) -> CommandResult<NhiView> {
    state.with_mut(|r| r.add_nhi(&input))
}

#[tauri::command(async)]
pub fn link_nhi(
    state: State<'_, AppState>,
    nhi: String,
    model: String,
    usage: String,
) -> CommandResult<NhiLinkView> {
    state.with_mut(|r| r.link_nhi(&nhi, &model, &usage))
}

#[tauri::command(async)]
pub fn rotate_nhi(state: State<'_, AppState>, nhi: String, date: String) -> CommandResult<NhiView> {
    state.with_mut(|r| r.rotate_nhi(&nhi, &date))
}

#[tauri::command(async)]
pub fn revoke_nhi(
    state: State<'_, AppState>,
    nhi: String,
    reason: String,
) -> CommandResult<NhiView> {
    state.with_mut(|r| r.revoke_nhi(&nhi, &reason))
}

/// An NHI with its blast radius (every model that depends on it and that model's approval).
#[tauri::command(async)]
pub fn show_nhi(state: State<'_, AppState>, nhi: String) -> CommandResult<NhiDetail> {
    state.with(|r| r.show_nhi(&nhi))
}

#[tauri::command(async)]
pub fn set_nhi_owner(
    state: State<'_, AppState>,
    nhi: String,
    email: String,
) -> CommandResult<NhiView> {
    state.with_mut(|r| r.set_nhi_owner(&nhi, &email))
}

#[tauri::command(async)]
pub fn accept_nhi_finding(
    state: State<'_, AppState>,
    nhi: String,
    finding: String,
    until: String,
    reason: String,
) -> CommandResult<NhiView> {
    state.with_mut(|r| r.accept_nhi_finding(&nhi, &finding, &until, &reason))
}

/// Posture of the models one member owns (or all), with or without the 12-week trend.
#[tauri::command(async)]
pub fn nhi_posture_with(state: State<'_, AppState>, query: PostureQuery) -> CommandResult<Posture> {
    state.with(|r| r.nhi_posture_with(&query))
}

/// Decisions that fall due within this many days are announced.
const NOTIFY_WITHIN_DAYS: i64 = 1;

/// Announces, with a desktop notification, each of the signed-in member's decisions that became
/// overdue or due within a day since the registry was unlocked (each one once per session).
/// Returns how many were announced. A desktop without a notification service is not an error.
#[tauri::command(async)]
pub fn notify_due(app: tauri::AppHandle, state: State<'_, AppState>) -> CommandResult<u32> {
    use tauri_plugin_notification::NotificationExt;
    let inbox = state.with(Registry::inbox)?;
    let mut notified = state.notified_keys();
    let fresh: Vec<_> = inbox
        .due_within(NOTIFY_WITHIN_DAYS)
        .into_iter()
        .filter(|item| !notified.contains(&item.key()))
        .collect();
    if fresh.is_empty() {
        return Ok(0);
    }
    let overdue = fresh.iter().filter(|i| i.overdue).count();
    let title = match (fresh.len(), overdue) {
        (1, 1) => "A decision is overdue".to_string(),
        (1, _) => "A decision is due".to_string(),
        (n, 0) => format!("{n} decisions are due"),
        (n, o) => format!("{n} decisions are due ({o} overdue)"),
    };
    let body = fresh
        .iter()
        .map(|i| i.title.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    if let Err(error) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!(%error, "desktop notification not shown");
    }
    for item in &fresh {
        notified.insert(item.key());
    }
    Ok(fresh.len() as u32)
}

// ---- Home, sample registry, own passphrase ---------------------------------------------------

/// What needs the signed-in member: decisions overdue first, counts by state, lapsed approvals
/// (the first `query.limit` of each, with how many in all).
#[tauri::command(async)]
pub fn inbox(state: State<'_, AppState>, query: InboxQuery) -> CommandResult<Inbox> {
    state.with(|r| r.inbox_with(&query))
}

/// Input of `registry_create_sample`.
// No `Debug`: it carries a passphrase.
#[derive(Deserialize, TS)]
#[ts(export)]
pub struct CreateSampleRequest {
    /// The folder that will hold the sample registry.
    pub dir: String,
    /// The passphrase of every sample member.
    pub passphrase: String,
}

/// Creates the "try it with sample data" registry and unlocks it as its first member.
#[tauri::command]
pub async fn registry_create_sample(
    state: State<'_, AppState>,
    request: CreateSampleRequest,
) -> CommandResult<SessionInfo> {
    let registry = off_thread(move || {
        driftwarden_core::sample::create_sample(
            Path::new(&request.dir),
            &request.passphrase,
            clock(),
        )
    })
    .await?;
    state.unlock(registry)
}

/// Input of `change_passphrase`.
// No `Debug`: it carries passphrases.
#[derive(Deserialize, TS)]
#[ts(export)]
pub struct ChangePassphraseRequest {
    pub old_passphrase: String,
    pub new_passphrase: String,
}

/// Changes the signed-in member's own passphrase.
#[tauri::command(async)]
pub fn change_passphrase(
    state: State<'_, AppState>,
    request: ChangePassphraseRequest,
) -> CommandResult<()> {
    state.with_mut(|r| r.change_passphrase(&request.old_passphrase, &request.new_passphrase))
}

// ---- Review calendar, rollback detection -------------------------------------------------------

/// One calendar screen: a range's items, the most overdue from before it, per-day overflow.
#[tauri::command(async)]
pub fn calendar_query(
    state: State<'_, AppState>,
    query: CalendarQuery,
) -> CommandResult<CalendarPage> {
    state.with(|r| r.calendar_query(&query))
}

/// Verifies the audit chain and compares it with the head this member last verified on this
/// computer (a registry that went backwards or was rewritten is reported).
#[tauri::command(async)]
pub fn check_head(state: State<'_, AppState>) -> CommandResult<HeadCheck> {
    state.with(|r| r.check_head(&default_state_dir()))
}

/// Writes the review calendar (as `calendar` selects it) as an iCalendar file where the person
/// chooses in the system's save dialog. Returns the path written, or `null` when cancelled.
#[tauri::command]
pub async fn export_calendar(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    from: String,
    to: String,
    mine: bool,
) -> CommandResult<Option<String>> {
    let ics = state.with(|r| {
        let from = parse_date("from", &from)?;
        let to = parse_date("to", &to)?;
        let me = r.member_email().to_string();
        let items = r.calendar(from, to, mine.then_some(me.as_str()))?;
        r.calendar_ics(&items)
    })?;
    let dialog = app
        .dialog()
        .file()
        .set_title("Export the review calendar")
        .set_file_name("driftwarden-calendar.ics")
        .add_filter("iCalendar", &["ics"]);
    match pick_path(dialog, Pick::Save).await {
        None => Ok(None),
        Some(path) => {
            off_thread(move || {
                std::fs::write(&path, ics)
                    .map_err(|e| CoreError::Io(format!("writing {}: {e}", path.display())))?;
                Ok(Some(path.to_string_lossy().into_owned()))
            })
            .await
        }
    }
}
