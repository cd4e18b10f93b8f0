//! The data of an audit pack: every table in scope, the audit-log extract with the hashes that
//! link it, verified sign-offs and the executive summary. The pack crate renders and signs it;
//! this module decides what is in scope and who may export (compliance or admin).

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use ed25519_dalek::Signer;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::audit::AuditEventView;
use crate::domain::{parse_date, ExceptionState, Role};
use crate::error::{CoreError, Result};
use crate::ops::approvals::ApprovalView;
use crate::ops::exceptions::ExceptionView;
use crate::ops::measurements::{measurement_row, MeasurementView, MEASUREMENT_SELECT};
use crate::ops::members::MemberView;
use crate::ops::models::{resolve_model, ModelView};
use crate::ops::nhis::{NhiLinkView, NhiView, Posture};
use crate::ops::thresholds::ThresholdView;
use crate::registry::Registry;
use crate::signing::SignoffView;

/// What a pack covers: a period (by dates, inclusive) and optionally one model.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PackScope {
    pub from: Option<String>,
    pub to: Option<String>,
    pub model: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ModelRights {
    pub model_id: i64,
    pub model: String,
    pub alert_recipients: Vec<String>,
    pub validator: Option<String>,
    pub rollback: Option<String>,
    pub approver: Option<String>,
}

/// One line of the audit-log extract: a full event, or a run of events outside the scope
/// represented by the hashes that link it, so the extract verifies on its own.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "lowercase")]
#[ts(export)]
pub enum AuditEntry {
    Event(AuditEventView),
    Gap {
        first_seq: i64,
        last_seq: i64,
        /// The hash before `first_seq`.
        prev_hash: String,
        /// The hash of `last_seq`.
        hash: String,
    },
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AuditChain {
    pub verified: bool,
    pub events_total: i64,
    pub head: String,
    pub first_bad_seq: Option<i64>,
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PackSummaryData {
    /// Approval status → number of models in scope.
    pub models_by_status: BTreeMap<String, i64>,
    pub exceptions_opened: i64,
    pub exceptions_closed: i64,
    pub exceptions_overdue: i64,
    pub exceptions_open: i64,
    /// Median days from opening to the decided disposition, over dispositions in the period.
    pub median_days_to_disposition: Option<f64>,
    pub approvals_lapsed: i64,
    pub rotation_compliance_pct: Option<f64>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PackData {
    pub format: String,
    pub registry_id: String,
    pub org: String,
    pub exported_by: MemberView,
    pub exported_at: String,
    pub scope: PackScope,
    pub members: Vec<MemberView>,
    pub models: Vec<ModelView>,
    pub decision_rights: Vec<ModelRights>,
    pub thresholds: Vec<ThresholdView>,
    pub approvals: Vec<ApprovalView>,
    pub measurements: Vec<MeasurementView>,
    pub exceptions: Vec<ExceptionView>,
    pub signoffs: Vec<SignoffView>,
    pub nhis: Vec<NhiView>,
    pub links: Vec<NhiLinkView>,
    pub posture: Posture,
    pub audit: Vec<AuditEntry>,
    pub audit_chain: AuditChain,
    pub summary: PackSummaryData,
}

fn day_of(ts: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(ts.get(..10)?, "%Y-%m-%d").ok()
}

/// The period of `scope`, checked: (first day, last day), inclusive.
fn period(scope: &PackScope) -> Result<(Option<NaiveDate>, Option<NaiveDate>)> {
    let from = scope
        .from
        .as_deref()
        .map(|d| parse_date("from", d))
        .transpose()?;
    let to = scope
        .to
        .as_deref()
        .map(|d| parse_date("to", d))
        .transpose()?;
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            return Err(CoreError::invalid("to", "is before from"));
        }
    }
    Ok((from, to))
}

/// Whether a timestamp falls in the period (one without a readable day does).
fn in_period(from: Option<NaiveDate>, to: Option<NaiveDate>, ts: &str) -> bool {
    let Some(d) = day_of(ts) else { return true };
    from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

impl Registry {
    /// Signs `bytes` with the signed-in member's Ed25519 key (pack manifests).
    pub fn sign_with_my_key(&self, bytes: &[u8]) -> [u8; 64] {
        self.keys.signing.sign(bytes).to_bytes()
    }

    /// The signed-in member's Ed25519 public key.
    pub fn my_public_key(&self) -> [u8; 32] {
        self.keys.signing.verifying_key().to_bytes()
    }

    /// Everything an audit pack holds for `scope` (compliance or admin only), every measurement
    /// and the whole log extract in memory. Fine for small registries and tests; a pack of a big
    /// registry takes [`Registry::pack_outline`] and streams the rest.
    pub fn pack_data(&self, scope: &PackScope) -> Result<PackData> {
        let mut data = self.pack_outline(scope)?;
        let mut measurements = Vec::new();
        self.pack_measurements(&data, &mut |m| {
            measurements.push(m);
            Ok(())
        })?;
        let mut audit = Vec::new();
        self.pack_audit(&data, &mut |e| {
            audit.push(e);
            Ok(())
        })?;
        data.measurements = measurements;
        data.audit = audit;
        Ok(data)
    }

    /// What an audit pack holds for `scope` (compliance or admin only) except the two tables that
    /// grow without bound: `measurements` and `audit` are left empty, to be streamed with
    /// [`Registry::pack_measurements`] and [`Registry::pack_audit`].
    pub fn pack_outline(&self, scope: &PackScope) -> Result<PackData> {
        self.actor
            .require_any(&[Role::Compliance, Role::Admin], "exporting an audit pack")?;
        let (from, to) = period(scope)?;
        let in_period = |ts: &str| in_period(from, to, ts);
        let model_id = scope
            .model
            .as_deref()
            .map(|m| resolve_model(&self.conn, m))
            .transpose()?;
        let today = self.clock.now().date_naive();

        let models: Vec<ModelView> = self
            .list_models()?
            .into_iter()
            .filter(|m| model_id.is_none_or(|id| m.id == id))
            .collect();
        let model_ids: HashSet<i64> = models.iter().map(|m| m.id).collect();
        let mut decision_rights = Vec::new();
        let mut thresholds = Vec::new();
        let mut approvals = Vec::new();
        for m in &models {
            let r = self.decision_rights(m.id)?;
            decision_rights.push(ModelRights {
                model_id: m.id,
                model: m.display_name.clone(),
                alert_recipients: r.alert_recipients,
                validator: r.validator,
                rollback: r.rollback,
                approver: r.approver,
            });
            thresholds.extend(self.thresholds_of(m.id)?);
            approvals.extend(
                self.list_approvals(&format!("{}@{}", m.name, m.version))?
                    .into_iter()
                    .filter(|a| {
                        // Approvals in force at some point of the period.
                        let starts = day_of(&a.approved_at);
                        let ends = NaiveDate::parse_from_str(&a.expires_on, "%Y-%m-%d").ok();
                        to.is_none_or(|t| starts.is_none_or(|s| s <= t))
                            && from.is_none_or(|f| ends.is_none_or(|e| e >= f))
                    }),
            );
        }
        approvals.sort_by_key(|a| a.id);
        // One model's pack reads that model's exceptions only, not every exception.
        let scoped_model = match model_id {
            Some(_) => models.first().map(|m| format!("{}@{}", m.name, m.version)),
            None => None,
        };
        let mut exceptions = Vec::new();
        for e in self
            .list_exceptions(None, scoped_model.as_deref())?
            .into_iter()
            .rev()
        {
            if !model_ids.contains(&e.model_id) {
                continue;
            }
            // Exceptions alive at some point of the period.
            let opened = day_of(&e.opened_at);
            let closed = e.closed_at.as_deref().and_then(day_of);
            if to.is_some_and(|t| opened.is_some_and(|o| o > t))
                || from.is_some_and(|f| closed.is_some_and(|c| c < f))
            {
                continue;
            }
            exceptions.push(self.show_exception(e.id)?);
        }
        let signoffs: Vec<SignoffView> = approvals
            .iter()
            .flat_map(|a| a.signoffs.iter().cloned())
            .chain(exceptions.iter().flat_map(|e| e.signoffs.iter().cloned()))
            .collect();
        let all_links = {
            let mut v = Vec::new();
            for m in &models {
                v.extend(self.nhi_links_of_model(m.id)?);
            }
            v
        };
        let nhis: Vec<NhiView> = if model_id.is_none() {
            self.list_nhis()?
        } else {
            // One model's pack reads the identities it is linked to, not every NHI.
            let mut names: Vec<&str> = all_links.iter().map(|l| l.nhi.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            let mut v = Vec::with_capacity(names.len());
            for n in names {
                v.push(self.show_nhi(n)?.nhi);
            }
            v
        };
        let report = self.verify_log()?;
        let audit_chain = AuditChain {
            verified: report.ok,
            events_total: report.events,
            head: report.head,
            first_bad_seq: report.first_bad_seq,
            problem: report.problem,
        };
        let measurements = Vec::new();
        let audit = Vec::new();

        let posture = self.nhi_posture()?;
        let mut models_by_status = BTreeMap::new();
        for m in &models {
            *models_by_status
                .entry(m.approval_status.to_string())
                .or_insert(0) += 1;
        }
        let opened_in = |e: &ExceptionView| in_period(&e.opened_at);
        let days_to_disposition: Vec<f64> = exceptions
            .iter()
            .filter_map(|e| {
                let decided = e.decided_at.as_deref()?;
                if !in_period(decided) {
                    return None;
                }
                let o = chrono::DateTime::parse_from_rfc3339(&e.opened_at).ok()?;
                let d = chrono::DateTime::parse_from_rfc3339(decided).ok()?;
                Some(((d - o).num_seconds() as f64 / 86400.0 * 10.0).round() / 10.0)
            })
            .collect();
        let summary = PackSummaryData {
            models_by_status,
            exceptions_opened: exceptions.iter().filter(|e| opened_in(e)).count() as i64,
            exceptions_closed: exceptions
                .iter()
                .filter(|e| {
                    e.closed_at.as_deref().is_some_and(in_period)
                        && e.state == ExceptionState::Closed
                })
                .count() as i64,
            exceptions_overdue: exceptions.iter().filter(|e| e.overdue).count() as i64,
            exceptions_open: exceptions.iter().filter(|e| !e.state.is_final()).count() as i64,
            median_days_to_disposition: median(days_to_disposition),
            approvals_lapsed: approvals.iter().filter(|a| a.status == "lapsed").count() as i64
                + approvals
                    .iter()
                    .filter(|a| a.status == "active")
                    .filter(|a| {
                        NaiveDate::parse_from_str(&a.expires_on, "%Y-%m-%d")
                            .is_ok_and(|e| e <= today)
                    })
                    .count() as i64,
            rotation_compliance_pct: posture.rotation_compliance_pct,
        };
        let org: String =
            self.conn
                .query_row("SELECT value FROM meta WHERE key = 'org'", [], |r| r.get(0))?;
        Ok(PackData {
            format: "driftwarden-pack-v1".into(),
            registry_id: self.registry_id.clone(),
            org,
            exported_by: self.member_by_id(self.actor.id)?,
            exported_at: crate::clock::format_time(self.clock.now()),
            scope: scope.clone(),
            members: self.list_members()?,
            models,
            decision_rights,
            thresholds,
            approvals,
            measurements,
            exceptions,
            signoffs,
            nhis,
            links: all_links,
            posture,
            audit,
            audit_chain,
            summary,
        })
    }

    /// Streams the measurements of a pack outlined by [`Registry::pack_outline`]: model by model
    /// in the outline's order, each model's in time order; only those in the period. Nothing is
    /// collected: `f` gets one row at a time straight from the cursor.
    pub fn pack_measurements(
        &self,
        data: &PackData,
        f: &mut dyn FnMut(MeasurementView) -> Result<()>,
    ) -> Result<()> {
        self.actor
            .require_any(&[Role::Compliance, Role::Admin], "exporting an audit pack")?;
        let (from, to) = period(&data.scope)?;
        let mut st = self.conn.prepare(&format!(
            "{MEASUREMENT_SELECT} WHERE s.model_id = ?1 ORDER BY m.observed_at, m.id"
        ))?;
        for m in &data.models {
            let mut rows = st.query([m.id])?;
            while let Some(r) = rows.next()? {
                let row = measurement_row(r)?;
                if in_period(from, to, &row.observed_at) {
                    f(row)?;
                }
            }
        }
        Ok(())
    }

    /// Streams the audit-log extract of a pack outlined by [`Registry::pack_outline`], in
    /// sequence order: the events of the records in scope and in the period in full, and each run
    /// of other events as one gap carrying the hashes that link the chain. Events outside the
    /// scope are not parsed, and nothing is collected.
    pub fn pack_audit(
        &self,
        data: &PackData,
        f: &mut dyn FnMut(AuditEntry) -> Result<()>,
    ) -> Result<()> {
        self.actor
            .require_any(&[Role::Compliance, Role::Admin], "exporting an audit pack")?;
        let (from, to) = period(&data.scope)?;
        let scoped = data.scope.model.is_some();
        let exception_ids: HashSet<String> =
            data.exceptions.iter().map(|e| e.id.to_string()).collect();
        let threshold_ids: HashSet<String> =
            data.thresholds.iter().map(|t| t.id.to_string()).collect();
        let nhi_ids: HashSet<String> = data.nhis.iter().map(|n| n.id.to_string()).collect();
        let model_keys: HashSet<String> = data.models.iter().map(|m| m.id.to_string()).collect();
        let relevant = |at: &str, entity_type: &str, entity_id: &str| -> bool {
            if !in_period(from, to, at) {
                return false;
            }
            if !scoped {
                return true;
            }
            match entity_type {
                "model" => model_keys.contains(entity_id),
                "exception" => exception_ids.contains(entity_id),
                "threshold" => threshold_ids.contains(entity_id),
                "nhi" => nhi_ids.contains(entity_id),
                "member" | "registry" | "import" => true,
                _ => false,
            }
        };
        let mut gap: Option<(i64, i64, String, String)> = None;
        let mut st = self.conn.prepare(
            "SELECT seq, at, entity_type, entity_id, prev_hash, hash, actor, operation, payload
             FROM audit_events ORDER BY seq",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let at = r.get_ref(1)?.as_str().unwrap_or("");
            let entity_type = r.get_ref(2)?.as_str().unwrap_or("");
            let entity_id = r.get_ref(3)?.as_str().unwrap_or("");
            if relevant(at, entity_type, entity_id) {
                if let Some((first_seq, last_seq, prev_hash, hash)) = gap.take() {
                    f(AuditEntry::Gap {
                        first_seq,
                        last_seq,
                        prev_hash,
                        hash,
                    })?;
                }
                let text: String = r.get(8)?;
                f(AuditEntry::Event(AuditEventView {
                    id: seq,
                    seq,
                    at: r.get(1)?,
                    actor: r.get(6)?,
                    operation: r.get(7)?,
                    entity_type: r.get(2)?,
                    entity_id: r.get(3)?,
                    payload: serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
                    prev_hash: r.get(4)?,
                    hash: r.get(5)?,
                }))?;
            } else {
                let hash: String = r.get(5)?;
                gap = Some(match gap.take() {
                    Some((first, _, prev, _)) => (first, seq, prev, hash),
                    None => (seq, seq, r.get(4)?, hash),
                });
            }
        }
        if let Some((first_seq, last_seq, prev_hash, hash)) = gap {
            f(AuditEntry::Gap {
                first_seq,
                last_seq,
                prev_hash,
                hash,
            })?;
        }
        Ok(())
    }
}
