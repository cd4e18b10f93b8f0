//! The tables of a pack as CSV (RFC 4180 via the `csv` crate, UTF-8, header row) and JSON (the
//! core's transport types as they are). No secret is in any of them: members carry their public
//! key only, NHIs their metadata only.

use std::collections::HashMap;
use std::path::Path;

use driftwarden_core::{MeasurementView, PackData};
use serde::Serialize;
use serde_json::{json, Value};

use crate::mapping::MappingRow;
use crate::{FileEntry, FileOut, JsonArray, PackError};

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn list<T: ToString>(v: &[T]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A float as JSON writes it (shortest round-trip form).
fn num(x: f64) -> String {
    serde_json::Number::from_f64(x)
        .map(|n| n.to_string())
        .unwrap_or_default()
}

fn opt_num(x: Option<f64>) -> String {
    x.map(num).unwrap_or_default()
}

/// One table being written: `csv/<name>.csv` and `data/<name>.json`, row by row, hashed as
/// they are written.
pub struct TableOut {
    csv: csv::Writer<FileOut>,
    json: JsonArray,
}

impl TableOut {
    pub fn open(dir: &Path, name: &str, header: &[&str]) -> Result<Self, PackError> {
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(FileOut::create(dir, &format!("csv/{name}.csv"))?);
        csv.write_record(header).map_err(csv_err)?;
        Ok(TableOut {
            csv,
            json: JsonArray::new(FileOut::create(dir, &format!("data/{name}.json"))?),
        })
    }

    pub fn row<T: Serialize + ?Sized>(
        &mut self,
        cells: &[String],
        json: &T,
    ) -> Result<(), PackError> {
        self.csv.write_record(cells).map_err(csv_err)?;
        self.json.push(json)
    }

    pub fn finish(self) -> Result<[FileEntry; 2], PackError> {
        let csv = self
            .csv
            .into_inner()
            .map_err(|e| e.into_error())
            .map_err(csv_io_err)?;
        Ok([csv.finish()?, self.json.finish()?])
    }
}

fn csv_err(e: csv::Error) -> PackError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => csv_io_err(e),
        other => PackError::Data(format!("{other:?}")),
    }
}

/// FileOut's errors already name the file.
fn csv_io_err(e: std::io::Error) -> PackError {
    PackError::Write(e.to_string())
}

fn to_json<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>, PackError> {
    let mut out = serde_json::to_vec_pretty(v).map_err(|e| PackError::Data(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

pub const MEASUREMENT_HEADER: &[&str] = &[
    "id",
    "model_id",
    "model",
    "metric",
    "value",
    "observed_at",
    "segment",
    "source",
    "import_id",
    "evaluation",
    "threshold_id",
    "exception_id",
];

/// The cells of one measurement row.
pub fn measurement_cells(m: &MeasurementView, model: &str) -> Vec<String> {
    vec![
        m.id.to_string(),
        m.model_id.to_string(),
        model.to_string(),
        m.metric.clone(),
        num(m.value),
        m.observed_at.clone(),
        opt(&m.segment),
        opt(&m.source),
        m.import_id.to_string(),
        m.evaluation.clone(),
        opt(&m.threshold_id),
        opt(&m.exception_id),
    ]
}

/// Every table but `measurements` (streamed by the caller), written into `dir`.
pub fn write(
    d: &PackData,
    mapping: &[MappingRow],
    dir: &Path,
    files: &mut Vec<FileEntry>,
) -> Result<(), PackError> {
    let model_name: HashMap<i64, &str> = d
        .models
        .iter()
        .map(|m| (m.id, m.display_name.as_str()))
        .collect();
    let mname = |id: i64| model_name.get(&id).copied().unwrap_or("").to_string();

    let mut c = TableOut::open(
        dir,
        "members",
        &[
            "id",
            "email",
            "name",
            "roles",
            "status",
            "signing_public_key",
            "created_at",
            "offboarded_at",
            "offboard_reason",
        ],
    )?;
    for m in &d.members {
        c.row(
            &[
                m.id.to_string(),
                m.email.clone(),
                m.name.clone(),
                list(&m.roles),
                m.status.to_string(),
                m.signing_public_key.clone(),
                m.created_at.clone(),
                opt(&m.offboarded_at),
                opt(&m.offboard_reason),
            ],
            m,
        )?;
    }
    files.extend(c.finish()?);

    let mut c = TableOut::open(
        dir,
        "models",
        &[
            "id",
            "name",
            "version",
            "display_name",
            "status",
            "approval_status",
            "approval_expires_on",
            "owner",
            "risk_tier",
            "deployment_mode",
            "regulated",
            "intended_use",
            "business_function",
            "created_at",
            "updated_at",
        ],
    )?;
    for m in &d.models {
        c.row(
            &[
                m.id.to_string(),
                m.name.clone(),
                m.version.clone(),
                m.display_name.clone(),
                m.status.to_string(),
                m.approval_status.to_string(),
                opt(&m.approval_expires_on),
                m.owner.clone(),
                m.risk_tier.to_string(),
                m.deployment_mode.to_string(),
                m.regulated.to_string(),
                m.intended_use.clone(),
                m.business_function.clone(),
                m.created_at.clone(),
                m.updated_at.clone(),
            ],
            m,
        )?;
    }
    files.extend(c.finish()?);

    let mut c = TableOut::open(
        dir,
        "decision_rights",
        &[
            "model_id",
            "model",
            "alert_recipients",
            "validator",
            "rollback",
            "approver",
        ],
    )?;
    for r in &d.decision_rights {
        c.row(
            &[
                r.model_id.to_string(),
                r.model.clone(),
                list(&r.alert_recipients),
                opt(&r.validator),
                opt(&r.rollback),
                opt(&r.approver),
            ],
            r,
        )?;
    }
    files.extend(c.finish()?);

    let mut c = TableOut::open(
        dir,
        "thresholds",
        &[
            "id",
            "model_id",
            "model",
            "metric",
            "version",
            "warn",
            "breach",
            "direction",
            "status",
            "proposed_by",
            "proposed_at",
        ],
    )?;
    for t in &d.thresholds {
        c.row(
            &[
                t.id.to_string(),
                t.model_id.to_string(),
                mname(t.model_id),
                t.metric.clone(),
                t.version.to_string(),
                opt_num(t.warn),
                num(t.breach),
                t.direction.to_string(),
                t.status.to_string(),
                t.proposed_by.clone(),
                t.proposed_at.clone(),
            ],
            t,
        )?;
    }
    files.extend(c.finish()?);

    let mut c = TableOut::open(
        dir,
        "approvals",
        &[
            "id",
            "model_id",
            "model",
            "approver",
            "approved_at",
            "expires_on",
            "status",
            "note",
            "threshold_ids",
            "signoff_ids",
            "signatures_valid",
        ],
    )?;
    for a in &d.approvals {
        c.row(
            &[
                a.id.to_string(),
                a.model_id.to_string(),
                mname(a.model_id),
                a.approver.clone(),
                a.approved_at.clone(),
                a.expires_on.clone(),
                a.status.clone(),
                opt(&a.note),
                list(&a.threshold_ids),
                list(&a.signoffs.iter().map(|s| s.id).collect::<Vec<_>>()),
                (!a.signoffs.is_empty() && a.signoffs.iter().all(|s| s.valid)).to_string(),
            ],
            a,
        )?;
    }
    files.extend(c.finish()?);

    let mut c = TableOut::open(
        dir,
        "exceptions",
        &[
            "id",
            "model_id",
            "model",
            "kind",
            "metric",
            "threshold_id",
            "deployment_mode",
            "state",
            "validation",
            "validation_reason",
            "rebreach",
            "linked_exceptions",
            "opened_at",
            "first_value",
            "last_breach_at",
            "last_breach_value",
            "breach_count",
            "validate_by",
            "decide_by",
            "impacts",
            "escalated",
            "recovered_at",
            "disposition",
            "rationale",
            "follow_up",
            "decided_by",
            "decided_at",
            "cosign_required",
            "cosigned_by",
            "cosigned_at",
            "closed_at",
            "overdue",
        ],
    )?;
    for e in &d.exceptions {
        c.row(
            &[
                e.id.to_string(),
                e.model_id.to_string(),
                e.model.clone(),
                e.kind.to_string(),
                opt(&e.metric),
                opt(&e.threshold_id),
                e.deployment_mode.to_string(),
                e.state.to_string(),
                e.validation.to_string(),
                opt(&e.validation_reason),
                e.rebreach.to_string(),
                list(&e.linked_exceptions),
                e.opened_at.clone(),
                opt_num(e.first_value),
                opt(&e.last_breach_at),
                opt_num(e.last_breach_value),
                e.breach_count.to_string(),
                e.validate_by.clone(),
                e.decide_by.clone(),
                list(&e.impacts),
                e.escalated.to_string(),
                opt(&e.recovered_at),
                opt(&e.disposition),
                opt(&e.rationale),
                opt(&e.follow_up),
                opt(&e.decided_by),
                opt(&e.decided_at),
                e.cosign_required.to_string(),
                opt(&e.cosigned_by),
                opt(&e.cosigned_at),
                opt(&e.closed_at),
                e.overdue.to_string(),
            ],
            e,
        )?;
    }
    files.extend(c.finish()?);

    let mut c = TableOut::open(
        dir,
        "escalations",
        &["exception_id", "model", "at", "rule", "reason", "routed_to"],
    )?;
    for e in &d.exceptions {
        for x in &e.escalations {
            c.row(&[
                e.id.to_string(),
                e.model.clone(),
                x.at.clone(),
                x.rule.clone(),
                x.reason.clone(),
                opt(&x.routed_to),
            ], &json!({"exception_id": e.id, "model": e.model, "at": x.at, "rule": x.rule, "reason": x.reason, "routed_to": x.routed_to}))?;
        }
    }
    files.extend(c.finish()?);

    let mut c = TableOut::open(
        dir,
        "decisions",
        &[
            "id",
            "kind",
            "subject",
            "signer",
            "signer_name",
            "signed_at",
            "valid",
            "problem",
            "public_key",
            "signature",
            "statement",
        ],
    )?;
    for s in &d.signoffs {
        c.row(
            &[
                s.id.to_string(),
                s.kind.clone(),
                subject(&s.statement),
                s.signer.clone(),
                s.signer_name.clone(),
                s.signed_at.clone(),
                s.valid.to_string(),
                opt(&s.problem),
                s.public_key.clone(),
                s.signature.clone(),
                String::from_utf8(
                    serde_json_canonicalizer::to_vec(&s.statement)
                        .map_err(|e| PackError::Data(e.to_string()))?,
                )
                .map_err(|e| PackError::Data(e.to_string()))?,
            ],
            s,
        )?;
    }
    files.extend(c.finish()?);

    let mut c = TableOut::open(
        dir,
        "nhis",
        &[
            "id",
            "name",
            "kind",
            "system",
            "owner",
            "owner_active",
            "environment",
            "scopes",
            "identifier",
            "human_use",
            "rotation_days",
            "last_rotated",
            "rotation_due",
            "expires",
            "status",
            "revoked_at",
            "revoke_reason",
            "linked_models",
            "findings",
            "created_at",
            "updated_at",
        ],
    )?;
    for n in &d.nhis {
        c.row(
            &[
                n.id.to_string(),
                n.name.clone(),
                n.kind.to_string(),
                n.system.clone(),
                n.owner.clone(),
                n.owner_active.to_string(),
                opt(&n.environment),
                list(&n.scopes),
                opt(&n.identifier),
                n.human_use.to_string(),
                n.rotation_days.to_string(),
                opt(&n.last_rotated),
                n.rotation_due.clone(),
                opt(&n.expires),
                n.status.to_string(),
                opt(&n.revoked_at),
                opt(&n.revoke_reason),
                list(&n.linked_models),
                list(
                    &n.findings
                        .iter()
                        .map(|f| f.code.as_str())
                        .collect::<Vec<_>>(),
                ),
                n.created_at.clone(),
                n.updated_at.clone(),
            ],
            n,
        )?;
    }
    files.extend(c.finish()?);

    let mut c = TableOut::open(
        dir,
        "nhi_findings",
        &[
            "nhi_id",
            "nhi",
            "code",
            "owasp",
            "title",
            "detail",
            "accepted_by",
            "accepted_at",
            "accepted_until",
            "accepted_reason",
        ],
    )?;
    for n in &d.nhis {
        for f in &n.findings {
            let a = f.accepted.as_ref();
            c.row(
                &[
                    n.id.to_string(),
                    n.name.clone(),
                    f.code.clone(),
                    f.owasp.clone(),
                    f.title.clone(),
                    f.detail.clone(),
                    a.map(|a| a.by.clone()).unwrap_or_default(),
                    a.map(|a| a.at.clone()).unwrap_or_default(),
                    a.map(|a| a.until.clone()).unwrap_or_default(),
                    a.map(|a| a.reason.clone()).unwrap_or_default(),
                ],
                &json!({ "nhi_id": n.id, "nhi": n.name, "finding": f }),
            )?;
        }
    }
    files.extend(c.finish()?);

    let mut c = TableOut::open(
        dir,
        "links",
        &[
            "id",
            "nhi_id",
            "nhi",
            "model_id",
            "model",
            "model_approval_status",
            "usage",
            "created_by",
            "created_at",
        ],
    )?;
    for l in &d.links {
        c.row(
            &[
                l.id.to_string(),
                l.nhi_id.to_string(),
                l.nhi.clone(),
                l.model_id.to_string(),
                l.model.clone(),
                opt(&l.model_approval_status),
                l.usage.clone(),
                l.created_by.clone(),
                l.created_at.clone(),
            ],
            l,
        )?;
    }
    files.extend(c.finish()?);

    let mut c = TableOut::open(
        dir,
        "framework_mapping",
        &["framework", "control", "title", "evidence", "records"],
    )?;
    for r in mapping {
        c.row(
            &[
                r.framework.to_string(),
                r.control.to_string(),
                r.title.to_string(),
                r.evidence.clone(),
                opt(&r.records),
            ],
            r,
        )?;
    }
    files.extend(c.finish()?);

    Ok(())
}

/// What a sign-off is about, from its statement: `approval 3`, `exception 7`.
pub fn subject(statement: &Value) -> String {
    if let Some(id) = statement.get("approval_id").and_then(Value::as_i64) {
        return format!("approval {id}");
    }
    let d = statement.get("disposition").unwrap_or(statement);
    if let Some(id) = d.get("exception_id").and_then(Value::as_i64) {
        return format!("exception {id}");
    }
    String::new()
}

/// `data/pack.json`: everything that is not a table.
pub fn pack_json(d: &PackData) -> Result<Vec<u8>, PackError> {
    to_json(&json!({
        "format": d.format,
        "registry_id": d.registry_id,
        "org": d.org,
        "exported_by": d.exported_by,
        "exported_at": d.exported_at,
        "scope": d.scope,
        "summary": d.summary,
        "posture": d.posture,
        "audit_chain": d.audit_chain,
        "tables": crate::TABLES,
    }))
}
