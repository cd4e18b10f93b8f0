//! `report.pdf`: the data is shaped here into one JSON document (`data.json`), and the layout is
//! `templates/report.typ`, compiled by typst offline with the fonts in `fonts/` only.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Timelike};
use driftwarden_core::{
    AuditEntry, AuditEventView, Direction, ExceptionView, MeasurementView, PackData,
    ThresholdStatus, ThresholdView,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

use crate::auditlog::Extract;
use crate::mapping::MappingRow;
use crate::minisign::{key_id, key_id_hex};
use crate::PackError;

const TEMPLATE: &str = include_str!("../templates/report.typ");
const FONTS: &[&[u8]] = &[
    include_bytes!("../fonts/Lato-Regular.ttf"),
    include_bytes!("../fonts/Lato-Bold.ttf"),
    include_bytes!("../fonts/Lato-Italic.ttf"),
    include_bytes!("../fonts/Lato-BoldItalic.ttf"),
    include_bytes!("../fonts/NotoMono-Regular.ttf"),
];
/// Points per chart series at most; longer series keep each bucket's low and high.
const MAX_POINTS: usize = 240;
/// One model per page up to this many models; beyond, sections run on.
const PAGE_PER_MODEL_UP_TO: usize = 100;

pub struct Rendered {
    pub pdf: Vec<u8>,
    pub pages: usize,
}

/// Series of one model: (metric, segment) → (unix time, value).
type Series = BTreeMap<(String, Option<String>), Vec<(i64, f64)>>;

/// What the report keeps of the streamed rows: bounded by the models and exceptions in scope,
/// not by the number of measurements or events. Measurements arrive model by model; each
/// model's series become its charts (at most [`MAX_POINTS`] points each) when the next model
/// starts, and only while the report has a section with charts per model.
pub struct Gather {
    charts_per_model: bool,
    exception_ids: HashSet<String>,
    thresholds: HashMap<i64, Vec<ThresholdView>>,
    events_of: HashMap<String, Vec<AuditEventView>>,
    current: Option<(i64, Series)>,
    charts: HashMap<i64, Vec<Value>>,
    /// model id → (measurements, over the breach level)
    counts: HashMap<i64, (usize, usize)>,
}

impl Gather {
    pub fn new(d: &PackData) -> Self {
        let mut thresholds: HashMap<i64, Vec<ThresholdView>> = HashMap::new();
        for t in &d.thresholds {
            thresholds.entry(t.model_id).or_default().push(t.clone());
        }
        Gather {
            charts_per_model: d.models.len() <= PAGE_PER_MODEL_UP_TO,
            exception_ids: d.exceptions.iter().map(|e| e.id.to_string()).collect(),
            thresholds,
            events_of: HashMap::new(),
            current: None,
            charts: HashMap::new(),
            counts: HashMap::new(),
        }
    }

    pub fn audit(&mut self, e: &AuditEntry) {
        if let AuditEntry::Event(ev) = e {
            if ev.entity_type == "exception" && self.exception_ids.contains(&ev.entity_id) {
                self.events_of
                    .entry(ev.entity_id.clone())
                    .or_default()
                    .push(ev.clone());
            }
        }
    }

    pub fn measurement(&mut self, m: &MeasurementView) {
        let c = self.counts.entry(m.model_id).or_default();
        c.0 += 1;
        if m.evaluation == "breach" {
            c.1 += 1;
        }
        if !self.charts_per_model {
            return;
        }
        if self
            .current
            .as_ref()
            .is_none_or(|(id, _)| *id != m.model_id)
        {
            self.flush();
            self.current = Some((m.model_id, Series::new()));
        }
        let Ok(t) = DateTime::parse_from_rfc3339(&m.observed_at) else {
            return;
        };
        if !m.value.is_finite() {
            return;
        }
        if let Some((_, series)) = self.current.as_mut() {
            series
                .entry((m.metric.clone(), m.segment.clone()))
                .or_default()
                .push((t.timestamp(), m.value));
        }
    }

    fn flush(&mut self) {
        if let Some((id, series)) = self.current.take() {
            let mut ts: Vec<&ThresholdView> = self
                .thresholds
                .get(&id)
                .map(|v| v.iter().collect())
                .unwrap_or_default();
            ts.sort_by(|a, b| a.metric.cmp(&b.metric).then(a.version.cmp(&b.version)));
            let c = charts(series, &ts);
            self.charts.entry(id).or_default().extend(c);
        }
    }
}

pub fn render(
    d: &PackData,
    mapping: &[MappingRow],
    public_key: &[u8; 32],
    extract: &Extract,
    mut gather: Gather,
    measurements: usize,
) -> Result<Rendered, PackError> {
    gather.flush();
    let data = report_data(d, mapping, public_key, extract, gather, measurements);
    let json = serde_json::to_vec(&data).map_err(|e| PackError::Data(e.to_string()))?;
    compile(json, &d.exported_at)
}

// ---------------------------------------------------------------------------------------------
// Formatting

/// `2026-11-01T09:00:00Z` → `2026-11-01 09:00 UTC`.
fn when(ts: &str) -> String {
    match DateTime::parse_from_rfc3339(ts) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M UTC")
            .to_string(),
        Err(_) => ts.to_string(),
    }
}

fn day(ts: &str) -> String {
    ts.get(..10).unwrap_or(ts).to_string()
}

/// A metric value: up to four decimals, trailing zeros trimmed.
fn val(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let s = if x.abs() >= 1000.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.4}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn opt_s(s: &Option<String>) -> Value {
    match s {
        Some(s) if !s.is_empty() => Value::String(s.clone()),
        _ => Value::Null,
    }
}

// ---------------------------------------------------------------------------------------------
// Shaping the data

fn report_data(
    d: &PackData,
    mapping: &[MappingRow],
    public_key: &[u8; 32],
    extract: &Extract,
    mut gather: Gather,
    measurement_count: usize,
) -> Value {
    let names: HashMap<&str, &str> = d
        .members
        .iter()
        .map(|m| (m.email.as_str(), m.name.as_str()))
        .collect();
    let who = |email: &str| -> Value {
        json!({ "name": names.get(email).copied().unwrap_or(email), "email": email })
    };

    let events_of: HashMap<&str, Vec<&AuditEventView>> = gather
        .events_of
        .iter()
        .map(|(k, v)| (k.as_str(), v.iter().collect()))
        .collect();
    let mut thresholds: HashMap<i64, Vec<&ThresholdView>> = HashMap::new();
    for t in &d.thresholds {
        thresholds.entry(t.model_id).or_default().push(t);
    }
    let mut exceptions: HashMap<i64, Vec<&ExceptionView>> = HashMap::new();
    for e in &d.exceptions {
        exceptions.entry(e.model_id).or_default().push(e);
    }
    let nhi_by_id: HashMap<i64, &driftwarden_core::NhiView> =
        d.nhis.iter().map(|n| (n.id, n)).collect();

    // Up to PAGE_PER_MODEL_UP_TO models, a section each. Beyond, the report summarises: a line
    // for each model that needs attention (exceptions in scope, or no approval in force), the
    // others counted, every exception and disposition in tables; the measurements and the
    // decision paths event by event are in the CSV files and the log extract. So the report is
    // bounded by the exceptions in scope, whatever the number of models, measurements or events.
    let sections_for_all = d.models.len() <= PAGE_PER_MODEL_UP_TO;
    let mut model_table: Vec<Value> = Vec::new();
    let mut others = (0usize, 0usize, 0usize);
    let mut dispositions: Vec<Value> = Vec::new();
    if !sections_for_all {
        for m in &d.models {
            let (n, b) = gather.counts.get(&m.id).copied().unwrap_or_default();
            let exs = exceptions.get(&m.id).map_or(0, Vec::len);
            let attention = exs > 0 || m.approval_status.to_string() != "approved";
            if !attention {
                others.0 += 1;
                others.1 += n;
                others.2 += b;
                continue;
            }
            model_table.push(json!({
                "name": m.display_name,
                "approval_status": m.approval_status.to_string(),
                "risk_tier": m.risk_tier.to_string(),
                "owner": names.get(m.owner.as_str()).copied().unwrap_or(m.owner.as_str()),
                "measurements": n,
                "breaches": b,
                "exceptions": exs,
            }));
        }
        for e in d.exceptions.iter().filter(|e| e.disposition.is_some()) {
            dispositions.push(json!({
                "id": e.id,
                "model": e.model,
                "disposition": e.disposition.map(|x| x.to_string()),
                "disposition_text": e.disposition.map(|x| x.describe()),
                "rationale": e.rationale,
                "follow_up": e.follow_up,
                "decided_by": e.decided_by.as_deref().map(who),
                "decided_at": e.decided_at.as_deref().map(when),
                "cosigned_by": e.cosigned_by.as_deref().map(who),
                "signature": signature_word(e.signoffs.iter().map(|s| s.valid)),
            }));
        }
    }
    let models: Vec<Value> = d
        .models
        .iter()
        .filter(|_| sections_for_all)
        .map(|m| {
            let rights = d.decision_rights.iter().find(|r| r.model_id == m.id);
            let opt_who = |e: &Option<String>| e.as_deref().map(who).unwrap_or(Value::Null);
            let mut ts: Vec<&ThresholdView> = thresholds.get(&m.id).cloned().unwrap_or_default();
            ts.sort_by(|a, b| a.metric.cmp(&b.metric).then(a.version.cmp(&b.version)));
            let approvals: Vec<Value> = d
                .approvals
                .iter()
                .filter(|a| a.model_id == m.id)
                .map(|a| {
                    json!({
                        "approver": who(&a.approver),
                        "approved_at": when(&a.approved_at),
                        "expires_on": a.expires_on,
                        "status": a.status,
                        "note": opt_s(&a.note),
                        "signature": signature_word(a.signoffs.iter().map(|s| s.valid)),
                    })
                })
                .collect();
            let exs: Vec<Value> = exceptions
                .get(&m.id)
                .map(|v| v.iter().map(|e| exception(e, &events_of, &who)).collect())
                .unwrap_or_default();
            let nhis: Vec<Value> = d
                .links
                .iter()
                .filter(|l| l.model_id == m.id)
                .map(|l| {
                    let n = nhi_by_id.get(&l.nhi_id);
                    json!({
                        "name": l.nhi,
                        "usage": l.usage,
                        "kind": n.map(|n| n.kind.to_string()),
                        "system": n.map(|n| n.system.clone()),
                        "owner": n.map(|n| who(&n.owner)),
                        "status": n.map(|n| n.status.to_string()),
                        "rotation_due": n.map(|n| n.rotation_due.clone()),
                        "expires": n.and_then(|n| n.expires.clone()),
                        "findings": n.map(|n| n.findings.iter().map(|f| json!({
                            "owasp": f.owasp, "title": f.title, "detail": f.detail,
                            "accepted": f.accepted.as_ref().map(|a| format!("accepted by {} until {}: {}", a.by, a.until, a.reason)),
                        })).collect::<Vec<_>>()).unwrap_or_default(),
                    })
                })
                .collect();
            json!({
                "name": m.name,
                "display_name": m.display_name,
                "version": m.version,
                "status": m.status.to_string(),
                "approval_status": m.approval_status.to_string(),
                "approval_expires_on": opt_s(&m.approval_expires_on),
                "owner": who(&m.owner),
                "risk_tier": m.risk_tier.to_string(),
                "deployment_mode": m.deployment_mode.to_string(),
                "regulated": m.regulated,
                "intended_use": m.intended_use,
                "business_function": m.business_function,
                "rights": {
                    "alert_recipients": rights.map(|r| r.alert_recipients.iter().map(|e| who(e)).collect::<Vec<_>>()).unwrap_or_default(),
                    "validator": rights.map(|r| opt_who(&r.validator)).unwrap_or(Value::Null),
                    "rollback": rights.map(|r| opt_who(&r.rollback)).unwrap_or(Value::Null),
                    "approver": rights.map(|r| opt_who(&r.approver)).unwrap_or(Value::Null),
                },
                "thresholds": ts.iter().map(|t| json!({
                    "metric": t.metric, "version": t.version, "warn": t.warn.map(val),
                    "breach": val(t.breach), "direction": t.direction.to_string(),
                    "status": t.status.to_string(), "proposed_by": who(&t.proposed_by),
                })).collect::<Vec<_>>(),
                "approvals": approvals,
                "charts": gather.charts.remove(&m.id).unwrap_or_default(),
                "drift_note": drift_note(gather.counts.get(&m.id).copied()),
                "exceptions": exs,
                "nhis": nhis,
            })
        })
        .collect();

    let s = &d.summary;
    let valid = d.signoffs.iter().filter(|x| x.valid).count();
    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    for e in &d.exceptions {
        *states.entry(e.state.to_string()).or_default() += 1;
    }
    let open_findings: usize = d
        .posture
        .open_findings
        .iter()
        .map(|f| f.count as usize)
        .sum();
    let id = key_id(public_key);
    let fingerprint = hex::encode(Sha256::digest(public_key));
    let period = match (&d.scope.from, &d.scope.to) {
        (None, None) => "Entire history".to_string(),
        (Some(f), None) => format!("From {f}"),
        (None, Some(t)) => format!("Up to {t}"),
        (Some(f), Some(t)) => format!("{f} to {t}"),
    };
    let mut frameworks: Vec<Value> = Vec::new();
    for r in mapping {
        if frameworks.last().and_then(|f| f["name"].as_str()) != Some(r.framework) {
            frameworks.push(json!({ "name": r.framework, "rows": [] }));
        }
        let last = frameworks.last_mut().expect("pushed above");
        last["rows"].as_array_mut().expect("an array").push(json!({
            "control": r.control, "title": r.title, "evidence": r.evidence,
            "records": r.records.map(|n| n.to_string()).unwrap_or_else(|| "not assessed".into()),
        }));
    }
    let all_exceptions: Vec<Value> = d
        .exceptions
        .iter()
        .map(|e| {
            json!({
                "id": e.id, "model": e.model, "opened": day(&e.opened_at), "state": e.state.to_string(),
                "disposition": e.disposition.map(|x| x.to_string()), "overdue": e.overdue,
                "signature": signature_word(e.signoffs.iter().map(|s| s.valid)),
            })
        })
        .collect();

    json!({
        "org": d.org,
        "registry_id": d.registry_id,
        "format": d.format,
        "exported_at": when(&d.exported_at),
        "exported_by": {
            "name": d.exported_by.name, "email": d.exported_by.email,
            "roles": d.exported_by.roles.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", "),
        },
        "scope": {
            "model": d.scope.model,
            "label": d.scope.model.as_deref().map(|m| format!("Model {m}")).unwrap_or_else(|| "All models".into()),
            "period": period,
        },
        "key": {
            "id": key_id_hex(&id),
            "fingerprint": fingerprint,
        },
        "summary": {
            "models": d.models.len(),
            "models_by_status": s.models_by_status.iter().map(|(k, v)| json!({"status": k, "count": v})).collect::<Vec<_>>(),
            "exceptions": d.exceptions.len(),
            "exceptions_by_state": states.iter().map(|(k, v)| json!({"state": k, "count": v})).collect::<Vec<_>>(),
            "opened": s.exceptions_opened,
            "closed": s.exceptions_closed,
            "overdue": s.exceptions_overdue,
            "open": s.exceptions_open,
            "median_days": s.median_days_to_disposition.map(|x| format!("{x:.1}")),
            "approvals_lapsed": s.approvals_lapsed,
            "rotation_pct": s.rotation_compliance_pct.map(|x| format!("{x:.0}%")),
            "active_nhis": d.posture.active_nhis,
            "open_findings": open_findings,
            "signoffs": d.signoffs.len(),
            "signoffs_valid": valid,
            "measurements": measurement_count,
        },
        "all_exceptions": all_exceptions,
        "models": models,
        "page_per_model": d.models.len() <= PAGE_PER_MODEL_UP_TO,
        "large": !sections_for_all,
        "model_table": model_table,
        "other_models": { "count": others.0, "measurements": others.1, "breaches": others.2 },
        "dispositions": dispositions,
        "frameworks": frameworks,
        "chain": {
            "verified": d.audit_chain.verified,
            "events_total": d.audit_chain.events_total,
            "head": d.audit_chain.head,
            "first_bad_seq": d.audit_chain.first_bad_seq,
            "problem": d.audit_chain.problem,
            "extract_events": extract.events,
            "extract_gaps": extract.gaps,
            "first_at": extract.first_at.as_deref().map(when),
            "last_at": extract.last_at.as_deref().map(when),
        },
    })
}

/// What the Drift part of a model's section says when it has no chart.
fn drift_note(counts: Option<(usize, usize)>) -> String {
    match counts {
        None | Some((0, _)) => "No measurements in the period.".into(),
        Some((n, b)) => format!(
            "{n} measurements in the period, {b} evaluated as breaches: listed in csv/measurements.csv \
             (charts are drawn for packs of up to {PAGE_PER_MODEL_UP_TO} models)."
        ),
    }
}

fn signature_word(valid: impl Iterator<Item = bool>) -> Value {
    let (mut n, mut ok) = (0, 0);
    for v in valid {
        n += 1;
        ok += v as usize;
    }
    match n {
        0 => Value::Null,
        _ if ok == n => json!("verified"),
        _ => json!("failed"),
    }
}

fn step_label(op: &str) -> &str {
    match op {
        "exception.open" => "Opened",
        "exception.validate.start" => "Validation started",
        "exception.confirm" => "Signal confirmed",
        "exception.dismiss" => "Dismissed",
        "exception.escalate" => "Escalated",
        "exception.flag" => "Impact flagged",
        "exception.recover" => "Recovered",
        "exception.breach-again" => "Breached again",
        "exception.decide" => "Disposition decided",
        "exception.cosign" => "Co-signed",
        other => other.strip_prefix("exception.").unwrap_or(other),
    }
}

fn step_detail(ev: &AuditEventView) -> String {
    let p = &ev.payload;
    let s = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
    let n = |k: &str| p.get(k).and_then(Value::as_f64).map(val);
    match ev.operation.as_str() {
        "exception.open" => {
            let mut parts = Vec::new();
            if let Some(v) = n("value") {
                parts.push(format!(
                    "value {v}{}",
                    s("metric").map(|m| format!(" of {m}")).unwrap_or_default()
                ));
            } else if s("kind").as_deref() == Some("lapsed-approval") {
                parts.push("the model's approval lapsed".into());
            }
            if let (Some(v), Some(dd)) = (s("validate_by"), s("decide_by")) {
                parts.push(format!("validate by {v}, decide by {dd}"));
            }
            parts.join("; ")
        }
        "exception.escalate" => {
            let mut t = s("reason").unwrap_or_default();
            if let Some(r) = s("routed_to") {
                t.push_str(&format!(" — routed to {r}"));
            }
            t
        }
        "exception.flag" => format!(
            "impact on {}{}",
            s("impact").unwrap_or_default(),
            s("note").map(|x| format!(": {x}")).unwrap_or_default()
        ),
        "exception.decide" => format!(
            "{}: {}{}",
            s("disposition").unwrap_or_default(),
            s("rationale").unwrap_or_default(),
            s("follow_up")
                .map(|f| format!(" (follow-up {f})"))
                .unwrap_or_default()
        ),
        "exception.cosign" => "co-signed the disposition".into(),
        "exception.validate.start" => "validation of the signal started".into(),
        "exception.recover" | "exception.breach-again" => {
            n("value").map(|v| format!("value {v}")).unwrap_or_default()
        }
        _ => s("reason").unwrap_or_default(),
    }
}

fn exception(
    e: &ExceptionView,
    events_of: &HashMap<&str, Vec<&AuditEventView>>,
    who: &dyn Fn(&str) -> Value,
) -> Value {
    let key = e.id.to_string();
    let events = events_of
        .get(key.as_str())
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let has = |op: &str| events.iter().any(|ev| ev.operation == op);
    // (sort key, step)
    let mut path: Vec<(String, Value)> = events
        .iter()
        .map(|ev| {
            (
                ev.at.clone(),
                json!({
                    "at": when(&ev.at), "who": who(&ev.actor), "step": step_label(&ev.operation),
                    "detail": step_detail(ev), "source": "log", "seq": ev.seq,
                }),
            )
        })
        .collect();
    // Steps whose events lie outside the pack's period come from the record itself.
    let mut from_record = |at: &str, actor: Option<&str>, step: &str, detail: String| {
        path.push((
            at.to_string(),
            json!({
                "at": when(at), "who": actor.map(who), "step": step, "detail": detail,
                "source": "record", "seq": null,
            }),
        ));
    };
    if !has("exception.open") {
        from_record(
            &e.opened_at,
            None,
            "Opened",
            e.first_value
                .map(|v| {
                    format!(
                        "value {}{}",
                        val(v),
                        e.metric
                            .as_deref()
                            .map(|m| format!(" of {m}"))
                            .unwrap_or_default()
                    )
                })
                .unwrap_or_else(|| "the model's approval lapsed".into()),
        );
    }
    if !has("exception.escalate") {
        for x in &e.escalations {
            from_record(
                &x.at,
                None,
                "Escalated",
                format!(
                    "{}{}",
                    x.reason,
                    x.routed_to
                        .as_deref()
                        .map(|r| format!(" — routed to {r}"))
                        .unwrap_or_default()
                ),
            );
        }
    }
    if !has("exception.decide") {
        if let Some(at) = &e.decided_at {
            from_record(
                at,
                e.decided_by.as_deref(),
                "Disposition decided",
                format!(
                    "{}: {}",
                    opt_s(&e.disposition.map(|x| x.to_string()))
                        .as_str()
                        .unwrap_or(""),
                    e.rationale.clone().unwrap_or_default()
                ),
            );
        }
    }
    if !has("exception.cosign") {
        if let Some(at) = &e.cosigned_at {
            from_record(
                at,
                e.cosigned_by.as_deref(),
                "Co-signed",
                "co-signed the disposition".into(),
            );
        }
    }
    path.sort_by(|a, b| a.0.cmp(&b.0));
    let title = match (&e.metric, e.kind.as_str()) {
        (Some(m), "breach") => format!("breach of {m}"),
        (_, "lapsed-approval") => "lapsed approval".to_string(),
        (Some(m), k) => format!("{k} of {m}"),
        (None, k) => k.to_string(),
    };
    json!({
        "id": e.id,
        "title": title,
        "kind": e.kind.to_string(),
        "metric": e.metric,
        "state": e.state.to_string(),
        "validation": e.validation.to_string(),
        "validation_reason": e.validation_reason,
        "opened_at": when(&e.opened_at),
        "first_value": e.first_value.map(val),
        "last_breach_value": e.last_breach_value.map(val),
        "breach_count": e.breach_count,
        "validate_by": e.validate_by,
        "decide_by": e.decide_by,
        "rebreach": e.rebreach,
        "linked": e.linked_exceptions,
        "impacts": e.impacts.iter().map(|i| i.to_string()).collect::<Vec<_>>(),
        "escalated": e.escalated,
        "overdue": e.overdue,
        "disposition": e.disposition.map(|x| x.to_string()),
        "disposition_text": e.disposition.map(|x| x.describe()),
        "rationale": e.rationale,
        "follow_up": e.follow_up,
        "cosign_required": e.cosign_required,
        "path": path.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "signoffs": e.signoffs.iter().map(|s| json!({
            "kind": s.kind, "signer": who(&s.signer), "signed_at": when(&s.signed_at),
            "status": if s.valid { "verified" } else { "failed" }, "problem": s.problem,
        })).collect::<Vec<_>>(),
        "findings": e.dependent_identity_findings.iter().map(|f| json!({
            "nhi": f.nhi, "owasp": f.owasp, "title": f.title, "detail": f.detail,
        })).collect::<Vec<_>>(),
    })
}

/// One chart per metric (and segment): points scaled to 0..1 on both axes, with the threshold
/// levels in force (the newest approved version, else the newest proposed one).
fn charts(series: Series, ts: &[&ThresholdView]) -> Vec<Value> {
    let mut out = Vec::new();
    for ((metric, segment), mut pts) in series {
        pts.sort_by_key(|p| p.0);
        let threshold = ts
            .iter()
            .filter(|t| t.metric == metric && t.status == ThresholdStatus::Approved)
            .max_by_key(|t| t.version)
            .or_else(|| {
                ts.iter()
                    .filter(|t| t.metric == metric && t.status == ThresholdStatus::Proposed)
                    .max_by_key(|t| t.version)
            });
        let (mut lo, mut hi) = pts
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p.1), hi.max(p.1))
            });
        if let Some(t) = threshold {
            for level in std::iter::once(t.breach).chain(t.warn) {
                lo = lo.min(level);
                hi = hi.max(level);
            }
        }
        if lo >= 0.0 {
            lo = 0.0;
        }
        let span = if hi > lo { hi - lo } else { hi.abs().max(1.0) };
        hi += span * 0.1;
        if lo < 0.0 {
            lo -= span * 0.1;
        }
        let y = |v: f64| ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
        let (t0, t1) = (pts[0].0, pts[pts.len() - 1].0);
        let x = |t: i64| {
            if t1 > t0 {
                (t - t0) as f64 / (t1 - t0) as f64
            } else {
                0.5
            }
        };
        let over = |v: f64| match threshold {
            Some(t) if t.direction == Direction::Below => v < t.breach,
            Some(t) => v > t.breach,
            None => false,
        };
        let breaches: Vec<(i64, f64)> = pts.iter().copied().filter(|p| over(p.1)).collect();
        let shown = downsample(&pts);
        let marks = thin(&breaches, 80);
        let r4 = |f: f64| (f * 10000.0).round() / 10000.0;
        let mut lines = Vec::new();
        if let Some(t) = threshold {
            let tag = if t.status == ThresholdStatus::Approved {
                ""
            } else {
                " (proposed)"
            };
            lines.push(json!({"kind": "breach", "y": r4(y(t.breach)), "label": format!("breach {}{tag}", val(t.breach))}));
            if let Some(w) = t.warn {
                lines.push(json!({"kind": "warn", "y": r4(y(w)), "label": format!("warn {}{tag}", val(w))}));
            }
        }
        let date = |t: i64| {
            DateTime::from_timestamp(t, 0)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        };
        out.push(json!({
            "metric": metric,
            "segment": segment,
            "count": pts.len(),
            "first": date(t0),
            "last": date(t1),
            "latest": val(pts[pts.len() - 1].1),
            "breaches": breaches.len(),
            "direction": threshold.map(|t| t.direction.to_string()),
            "y_max": val(hi),
            "y_mid": val((hi + lo) / 2.0),
            "y_min": val(lo),
            "lines": lines,
            "points": shown.iter().map(|p| [r4(x(p.0)), r4(y(p.1))]).collect::<Vec<_>>(),
            "marks": marks.iter().map(|p| [r4(x(p.0)), r4(y(p.1))]).collect::<Vec<_>>(),
        }));
    }
    out
}

/// At most [`MAX_POINTS`] points: each of `MAX_POINTS / 2` buckets keeps its low and its high,
/// in time order, so spikes survive.
fn downsample(pts: &[(i64, f64)]) -> Vec<(i64, f64)> {
    if pts.len() <= MAX_POINTS {
        return pts.to_vec();
    }
    let buckets = MAX_POINTS / 2;
    let mut out = Vec::with_capacity(MAX_POINTS);
    for b in 0..buckets {
        let chunk = &pts[b * pts.len() / buckets..(b + 1) * pts.len() / buckets];
        if chunk.is_empty() {
            continue;
        }
        let lo = chunk.iter().min_by(|a, b| a.1.total_cmp(&b.1)).copied();
        let hi = chunk.iter().max_by(|a, b| a.1.total_cmp(&b.1)).copied();
        if let (Some(lo), Some(hi)) = (lo, hi) {
            if lo.0 <= hi.0 {
                out.push(lo);
                if hi != lo {
                    out.push(hi);
                }
            } else {
                out.push(hi);
                out.push(lo);
            }
        }
    }
    out
}

fn thin(pts: &[(i64, f64)], max: usize) -> Vec<(i64, f64)> {
    if pts.len() <= max {
        return pts.to_vec();
    }
    (0..max).map(|i| pts[i * pts.len() / max]).collect()
}

// ---------------------------------------------------------------------------------------------
// typst

struct ReportWorld {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    main: Source,
    data_id: FileId,
    data: Bytes,
    today: Option<Datetime>,
}

fn file_id(path: &str) -> FileId {
    FileId::new(RootedPath::new(
        VirtualRoot::Project,
        VirtualPath::new(path).expect("a valid virtual path"),
    ))
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &self.book
    }
    fn main(&self) -> FileId {
        self.main.id()
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::NotSource)
        }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else if id == self.main.id() {
            Ok(Bytes::from_string(self.main.clone()))
        } else {
            Err(FileError::AccessDenied)
        }
    }
    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.get(index).cloned()
    }
    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        self.today
    }
}

fn stamp(ts: &str) -> Option<Datetime> {
    let t = DateTime::parse_from_rfc3339(ts)
        .ok()?
        .with_timezone(&chrono::Utc);
    Datetime::from_ymd_hms(
        t.year(),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
}

fn diagnostics(errors: &[SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| e.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn compile(data: Vec<u8>, exported_at: &str) -> Result<Rendered, PackError> {
    let fonts: Vec<Font> = FONTS
        .iter()
        .flat_map(|b| Font::iter(Bytes::new(*b)))
        .collect();
    let world = ReportWorld {
        library: LazyHash::new(Library::default()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
        main: Source::new(file_id("/report.typ"), TEMPLATE.to_string()),
        data_id: file_id("/data.json"),
        data: Bytes::new(data),
        today: stamp(exported_at),
    };
    let doc: PagedDocument = typst::compile(&world)
        .output
        .map_err(|e| PackError::Render(diagnostics(&e)))?;
    let options = typst_pdf::PdfOptions {
        timestamp: stamp(exported_at).map(typst_pdf::Timestamp::new_utc),
        ..Default::default()
    };
    let pdf = typst_pdf::pdf(&doc, &options).map_err(|e| PackError::Render(diagnostics(&e)))?;
    Ok(Rendered {
        pages: doc.pages().len(),
        pdf,
    })
}
