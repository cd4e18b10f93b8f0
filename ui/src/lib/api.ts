// Typed wrappers over the desktop shell's Tauri commands (src-tauri/commands.rs). Every type here
// is generated from the Rust types by ts-rs (ui/src/lib/bindings, `cargo test` regenerates them).
// A failed command rejects with an `ApiError` whose `body` is the core's `ErrorBody`; branch on
// `body.code`, never on the message text.

import { Channel, invoke } from '@tauri-apps/api/core';
import type { AddMember } from './bindings/AddMember';
import type { AddMemberRequest } from './bindings/AddMemberRequest';
import type { AddModel } from './bindings/AddModel';
import type { AddNhi } from './bindings/AddNhi';
import type { ApprovalView } from './bindings/ApprovalView';
import type { ApproveModel } from './bindings/ApproveModel';
import type { AuditEventView } from './bindings/AuditEventView';
import type { CalendarPage } from './bindings/CalendarPage';
import type { CalendarQuery } from './bindings/CalendarQuery';
import type { ChangePassphraseRequest } from './bindings/ChangePassphraseRequest';
import type { CreateRegistryRequest } from './bindings/CreateRegistryRequest';
import type { CreateSampleRequest } from './bindings/CreateSampleRequest';
import type { DecideException } from './bindings/DecideException';
import type { DecisionRights } from './bindings/DecisionRights';
import type { DriftSeries } from './bindings/DriftSeries';
import type { ExceptionPage } from './bindings/ExceptionPage';
import type { ExceptionState } from './bindings/ExceptionState';
import type { ExceptionView } from './bindings/ExceptionView';
import type { GateItem } from './bindings/GateItem';
import type { HeadCheck } from './bindings/HeadCheck';
import type { Inbox } from './bindings/Inbox';
import type { InboxQuery } from './bindings/InboxQuery';
import type { IngestOptions } from './bindings/IngestOptions';
import type { IngestReport } from './bindings/IngestReport';
import type { MeasurementView } from './bindings/MeasurementView';
import type { ModelDetail } from './bindings/ModelDetail';
import type { ModelPage } from './bindings/ModelPage';
import type { ModelQuery } from './bindings/ModelQuery';
import type { ModelTimeline } from './bindings/ModelTimeline';
import type { NhiDetail } from './bindings/NhiDetail';
import type { NhiLinkView } from './bindings/NhiLinkView';
import type { NhiPage } from './bindings/NhiPage';
import type { NhiQuery } from './bindings/NhiQuery';
import type { NhiView } from './bindings/NhiView';
import type { Posture } from './bindings/Posture';
import type { PostureQuery } from './bindings/PostureQuery';
import type { Policy } from './bindings/Policy';
import type { Progress } from './bindings/Progress';
import type { SetDecisionRights } from './bindings/SetDecisionRights';
import type { SetThreshold } from './bindings/SetThreshold';
import type { SweepReport } from './bindings/SweepReport';
import type { ThresholdView } from './bindings/ThresholdView';
import type { VerifyReport } from './bindings/VerifyReport';
import type { MemberView } from './bindings/MemberView';
import type { ModelView } from './bindings/ModelView';
import type { OpenRegistryRequest } from './bindings/OpenRegistryRequest';
import type { SessionInfo } from './bindings/SessionInfo';
import type { DriftProgress } from './bindings/DriftProgress';
import type { DriftRequest } from './bindings/DriftRequest';
import type { DriftResult } from './bindings/DriftResult';
import type { ExportPackRequest } from './bindings/ExportPackRequest';
import type { PackExport } from './bindings/PackExport';
import type { PackProgress } from './bindings/PackProgress';
import type { PackScope } from './bindings/PackScope';
import type { PackVerification } from './bindings/PackVerification';
import { toApiError } from './errors';

export { ApiError } from './errors';

/** One command's round trip, recorded only while a measurement asks for it (`make startup`). */
interface CallTiming {
  command: string;
  start: number;
  ms: number;
}

declare global {
  interface Window {
    /** Set by the startup measurement (tests/e2e/startup.mjs): the commands' round trips. */
    __dwTimings?: CallTiming[];
  }
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  const start = performance.now();
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw toApiError(error);
  } finally {
    const timings = window.__dwTimings;
    if (timings && timings.length < 200) {
      timings.push({ command, start, ms: performance.now() - start });
    }
  }
}

/** Records a moment of a view's loading next to the commands' round trips (only while measured). */
export function markTiming(label: string): void {
  const timings = window.__dwTimings;
  if (timings && timings.length < 200) {
    timings.push({ command: label, start: performance.now(), ms: 0 });
  }
}

/** The folder proposed for a new registry (`DRIFTWARDEN_REGISTRY`, else the platform data folder). */
export function defaultRegistryDir(): Promise<string> {
  return call<string>('default_registry_dir');
}

/** Creates a registry with its first member (an admin) and unlocks it. */
export function registryCreate(request: CreateRegistryRequest): Promise<SessionInfo> {
  return call<SessionInfo>('registry_create', { request });
}

/** Unlocks an existing registry as one of its members. */
export function registryOpen(request: OpenRegistryRequest): Promise<SessionInfo> {
  return call<SessionInfo>('registry_open', { request });
}

/** Creates the "try it with sample data" registry (every sample member gets `passphrase`). */
export function registryCreateSample(dir: string, passphrase: string): Promise<SessionInfo> {
  const request: CreateSampleRequest = { dir, passphrase };
  return call<SessionInfo>('registry_create_sample', { request });
}

/** Closes the unlocked registry. */
export async function registryLock(): Promise<void> {
  await call<null>('registry_lock');
}

/** The unlocked registry's session, or `null` while locked. */
export function session(): Promise<SessionInfo | null> {
  return call<SessionInfo | null>('session');
}

/** One page of the model list, filtered and ordered (by name, then version) in the core. */
export function listModelsPage(query: ModelQuery): Promise<ModelPage> {
  return call<ModelPage>('list_models_page', { query });
}

export function listMembers(): Promise<MemberView[]> {
  return call<MemberView[]>('list_members');
}

// ---- Models, decision rights, thresholds, approvals ---------------------------------------------
// A model is named by `display_name` (NAME, or NAME@VERSION when several versions exist).

export function showModel(model: string): Promise<ModelDetail> {
  return call<ModelDetail>('show_model', { model });
}

export function addModel(input: AddModel): Promise<ModelView> {
  return call<ModelView>('add_model', { input });
}

export function setDecisionRights(model: string, input: SetDecisionRights): Promise<DecisionRights> {
  return call<DecisionRights>('set_decision_rights', { model, input });
}

export function setThreshold(model: string, input: SetThreshold): Promise<ThresholdView> {
  return call<ThresholdView>('set_threshold', { model, input });
}

/** The release gate; `until` (YYYY-MM-DD) is checked when given. */
export function approvalGate(model: string, until: string | null): Promise<GateItem[]> {
  return call<GateItem[]>('approval_gate', { model, until });
}

export function approveModel(model: string, input: ApproveModel): Promise<ApprovalView> {
  return call<ApprovalView>('approve_model', { model, input });
}

// ---- Measurements -------------------------------------------------------------------------------

/** Imports a measurement file; `onProgress` hears how far the import has read. */
export function ingestFile(
  path: string,
  options: IngestOptions,
  onProgress: (progress: Progress) => void,
): Promise<IngestReport> {
  const progress = new Channel<Progress>();
  progress.onmessage = onProgress;
  return call<IngestReport>('ingest_file', { path, options, progress });
}

/** Opens the system file dialog; `null` when cancelled. */
export function chooseMeasurementFile(): Promise<string | null> {
  return call<string | null>('choose_measurement_file');
}

export function listMeasurements(model: string, metric: string | null = null): Promise<MeasurementView[]> {
  return call<MeasurementView[]>('list_measurements', { model, metric });
}

/**
 * A metric's series for its drift chart, downsampled in the core (each bucket's lowest and highest
 * value, so spikes stay visible) to at most `maxPoints` (default 2,000).
 */
export function driftSeries(model: string, metric: string, maxPoints: number | null = null): Promise<DriftSeries> {
  return call<DriftSeries>('drift_series', { model, metric, maxPoints });
}

// ---- Exceptions ---------------------------------------------------------------------------------

export function listExceptions(
  state: ExceptionState | null = null,
  model: string | null = null,
): Promise<ExceptionView[]> {
  return call<ExceptionView[]>('list_exceptions', { filter: state, model });
}

/** One page of exceptions, overdue first, then soonest deadline; `state` (a state or `open`) and `model` filter in the core. */
export function listExceptionsPage(
  state: ExceptionState | 'open' | null,
  model: string | null,
  offset: number,
  limit: number,
): Promise<ExceptionPage> {
  return call<ExceptionPage>('list_exceptions_page', { filter: state, model, offset, limit });
}

export function showException(id: number): Promise<ExceptionView> {
  return call<ExceptionView>('show_exception', { id });
}

export function startValidation(id: number): Promise<ExceptionView> {
  return call<ExceptionView>('start_validation', { id });
}

export function validateException(id: number, confirm: boolean, reason: string): Promise<ExceptionView> {
  return call<ExceptionView>('validate_exception', { id, confirm, reason });
}

export function flagException(id: number, impact: string, note: string): Promise<ExceptionView> {
  return call<ExceptionView>('flag_exception', { id, impact, note });
}

export function decideException(id: number, input: DecideException): Promise<ExceptionView> {
  return call<ExceptionView>('decide_exception', { id, input });
}

export function cosignException(id: number): Promise<ExceptionView> {
  return call<ExceptionView>('cosign_exception', { id });
}

/** Runs the escalation sweep (deadlines, lapsed approvals). */
export function sweep(): Promise<SweepReport> {
  return call<SweepReport>('sweep');
}

// ---- Audit log ----------------------------------------------------------------------------------

/** Audit events, oldest first (the newest `limit` when given). */
export function auditLog(limit: number | null = null): Promise<AuditEventView[]> {
  return call<AuditEventView[]>('audit_log', { limit });
}

/** Audit events newest first: the `limit` (1..500) events before sequence `before` (the head when null). */
export function auditLogPage(before: number | null, limit: number): Promise<AuditEventView[]> {
  return call<AuditEventView[]>('audit_log_page', { before, limit });
}

/** Audit events of one record (entity: model, exception, threshold, nhi, member…). */
/** A model's decision timeline: its own, its thresholds' and its exceptions' events, oldest first, with the verified sign-offs they refer to. */
export function modelTimeline(model: string): Promise<ModelTimeline> {
  return call<ModelTimeline>('model_timeline', { model });
}

export function auditLogFor(entity: string, id: number | string): Promise<AuditEventView[]> {
  return call<AuditEventView[]>('audit_log_for', { entity, id: String(id) });
}

export function verifyLog(): Promise<VerifyReport> {
  return call<VerifyReport>('verify_log');
}

// ---- Members and policy -------------------------------------------------------------------------

/** Adds a member; `passphrase` is typed by the new member themselves. */
export function addMember(member: AddMember, passphrase: string): Promise<MemberView> {
  const request: AddMemberRequest = { member, passphrase };
  return call<MemberView>('add_member', { request });
}

export function offboardMember(email: string, reason: string): Promise<MemberView> {
  return call<MemberView>('offboard_member', { email, reason });
}

export function policy(): Promise<Policy> {
  return call<Policy>('policy');
}

export function setPolicy(key: string, value: number): Promise<Policy> {
  return call<Policy>('set_policy', { key, value });
}

// ---- NHIs ---------------------------------------------------------------------------------------

/** One page of the NHI inventory (by name, filtered), with how many match in all. */
export function listNhisPage(query: NhiQuery): Promise<NhiPage> {
  return call<NhiPage>('list_nhis_page', { query });
}

export function addNhi(input: AddNhi): Promise<NhiView> {
  return call<NhiView>('add_nhi', { input });
}

export function linkNhi(nhi: string, model: string, usage: string): Promise<NhiLinkView> {
  return call<NhiLinkView>('link_nhi', { nhi, model, usage });
}

export function rotateNhi(nhi: string, date: string): Promise<NhiView> {
  return call<NhiView>('rotate_nhi', { nhi, date });
}

export function revokeNhi(nhi: string, reason: string): Promise<NhiView> {
  return call<NhiView>('revoke_nhi', { nhi, reason });
}

/** An NHI with its blast radius: every model that depends on it, with its approval state. */
export function showNhi(nhi: string): Promise<NhiDetail> {
  return call<NhiDetail>('show_nhi', { nhi });
}

export function setNhiOwner(nhi: string, email: string): Promise<NhiView> {
  return call<NhiView>('set_nhi_owner', { nhi, email });
}

/** Accepts a finding as a risk until a date, with a reason (it lapses like an approval). */
export function acceptNhiFinding(nhi: string, finding: string, until: string, reason: string): Promise<NhiView> {
  return call<NhiView>('accept_nhi_finding', { nhi, finding, until, reason });
}

/**
 * Announces with a desktop notification each decision of mine that became overdue or due within a
 * day (once per session); resolves to how many were announced.
 */
export function notifyDue(): Promise<number> {
  return call<number>('notify_due');
}

/** Posture of one owner's models (or all), with the trend only when asked. */
export function nhiPostureWith(query: PostureQuery): Promise<Posture> {
  return call<Posture>('nhi_posture_with', { query });
}

// ---- Home and own passphrase ----------------------------------------------------------------------

/** What needs the signed-in member, overdue first; counts by state; lapsed approvals (the first `query.limit` of each, and how many in all). */
export function inbox(query: InboxQuery): Promise<Inbox> {
  return call<Inbox>('inbox', { query });
}

/** Changes the signed-in member's own passphrase. */
export async function changePassphrase(oldPassphrase: string, newPassphrase: string): Promise<void> {
  const request: ChangePassphraseRequest = { old_passphrase: oldPassphrase, new_passphrase: newPassphrase };
  await call<null>('change_passphrase', { request });
}

// ---- Review calendar, rollback detection ----------------------------------------------------------

/**
 * One calendar screen: the range's items, the most overdue before it (`overdue_limit`), and per
 * day the NHI items left out by `per_day_limit` (`more`).
 */
export function calendarQuery(query: CalendarQuery): Promise<CalendarPage> {
  return call<CalendarPage>('calendar_query', { query });
}

/** Verifies the chain against the head this member last verified on this computer. */
export function checkHead(): Promise<HeadCheck> {
  return call<HeadCheck>('check_head');
}

/** Saves the calendar as an .ics file where the person chooses; the path, or `null` if cancelled. */
export function exportCalendar(from: string, to: string, mine: boolean): Promise<string | null> {
  return call<string | null>('export_calendar', { from, to, mine });
}

// ---- Audit packs and drift from data (src-tauri/evidence.rs) --------------------------------------

/** Writes an audit pack of the registry into `out` (new or empty); `onProgress` hears each step. */
export function exportPack(
  scope: PackScope,
  out: string,
  onProgress: (progress: PackProgress) => void,
): Promise<PackExport> {
  const progress = new Channel<PackProgress>();
  progress.onmessage = onProgress;
  const request: ExportPackRequest = { scope, out };
  return call<PackExport>('export_pack', { request, progress });
}

/** Verifies a pack folder: every check, pass or fail (as `driftwarden verify DIR`). */
export function verifyPackDir(dir: string): Promise<PackVerification> {
  return call<PackVerification>('verify_pack_dir', { dir });
}

/** Computes drift between two CSVs, and records the scores to a model when asked. */
export function driftCompute(
  request: DriftRequest,
  onProgress: (progress: DriftProgress) => void,
): Promise<DriftResult> {
  const progress = new Channel<DriftProgress>();
  progress.onmessage = onProgress;
  return call<DriftResult>('drift_compute', { request, progress });
}

/** Opens the system folder dialog; `null` when cancelled. */
export function chooseFolder(title: string): Promise<string | null> {
  return call<string | null>('choose_folder', { title });
}

/** Opens the system file dialog for a CSV; `null` when cancelled. */
export function chooseCsvFile(title: string): Promise<string | null> {
  return call<string | null>('choose_csv_file', { title });
}
