//! The framework mapping: per control, which records in the pack are its evidence and how many
//! there are. Control IDs and titles follow the project's framework reference (NIST CSF 2.0,
//! NIST AI RMF 1.0, EU AI Act, SR 11-7 / SR 26-2, OWASP NHI Top 10 2025); which record answers
//! which control is Driftwarden's own crosswalk.

use driftwarden_core::{AuditEntry, ExceptionKind, ExceptionState, PackData};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct MappingRow {
    pub framework: &'static str,
    pub control: &'static str,
    pub title: &'static str,
    /// What in the pack is the evidence, with the file to look in.
    pub evidence: String,
    /// How many records of that evidence the pack holds; `None` when the control is not
    /// assessed by Driftwarden.
    pub records: Option<usize>,
}

pub const CSF: &str = "NIST CSF 2.0";
pub const AI_RMF: &str = "NIST AI RMF 1.0";
pub const EU_AI_ACT: &str = "EU AI Act";
pub const SR: &str = "SR 11-7 / SR 26-2";
pub const OWASP_NHI: &str = "OWASP NHI Top 10 (2025)";

/// How many measurements (all, and evaluated against a threshold) and full log events a pack
/// holds: counted while they are streamed.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamCounts {
    pub measurements: usize,
    pub evaluated: usize,
    pub events: usize,
}

/// The mapping of a pack whose measurements and log extract are in `d` (`Registry::pack_data`).
pub fn mapping_rows(d: &PackData) -> Vec<MappingRow> {
    mapping_rows_counted(
        d,
        StreamCounts {
            measurements: d.measurements.len(),
            evaluated: d
                .measurements
                .iter()
                .filter(|m| m.evaluation != "none")
                .count(),
            events: d
                .audit
                .iter()
                .filter(|e| matches!(e, AuditEntry::Event(_)))
                .count(),
        },
    )
}

/// The mapping of a pack, with the counts of what was streamed.
pub fn mapping_rows_counted(d: &PackData, counts: StreamCounts) -> Vec<MappingRow> {
    let models = d.models.len();
    let rights = d.decision_rights.len();
    let rights_full = d
        .decision_rights
        .iter()
        .filter(|r| {
            !r.alert_recipients.is_empty()
                && r.validator.is_some()
                && r.rollback.is_some()
                && r.approver.is_some()
        })
        .count();
    let rollback_holders = d
        .decision_rights
        .iter()
        .filter(|r| r.rollback.is_some())
        .count();
    let oversight = d
        .decision_rights
        .iter()
        .filter(|r| r.validator.is_some() && r.approver.is_some())
        .count();
    let thresholds = d.thresholds.len();
    let measurements = counts.measurements;
    let evaluated = counts.evaluated;
    let exceptions = d.exceptions.len();
    let breaches = d
        .exceptions
        .iter()
        .filter(|e| e.kind == ExceptionKind::Breach)
        .count();
    let escalations: usize = d.exceptions.iter().map(|e| e.escalations.len()).sum();
    let validated = d
        .exceptions
        .iter()
        .filter(|e| e.validation.as_str() != "pending")
        .count();
    let decisions = d
        .signoffs
        .iter()
        .filter(|s| s.kind == "disposition" || s.kind == "cosign")
        .count();
    let approvals = d.approvals.len();
    let decommission = d
        .models
        .iter()
        .filter(|m| matches!(m.status.as_str(), "retired" | "rolled-back"))
        .count()
        + d.exceptions
            .iter()
            .filter(|e| {
                e.state != ExceptionState::Dismissed
                    && e.disposition
                        .is_some_and(|x| matches!(x.as_str(), "retire" | "rollback"))
            })
            .count();
    let nhis = d.nhis.len();
    let events = counts.events;
    let findings = |owasp: &str| -> usize {
        d.nhis
            .iter()
            .flat_map(|n| n.findings.iter())
            .filter(|f| f.owasp == owasp)
            .count()
    };
    let row = |framework, control, title, evidence: &str, records| MappingRow {
        framework,
        control,
        title,
        evidence: evidence.to_string(),
        records: Some(records),
    };
    let mut rows = vec![
        row(CSF, "GV.OV-01", "Risk management strategy outcomes are reviewed to inform and adjust strategy",
            "Signed dispositions and co-signs of drift exceptions (decisions)", decisions),
        row(CSF, "GV.RR-02", "Roles, responsibilities and authorities are established, communicated, understood and enforced",
            "Decision rights per model: alert recipients, validator, rollback holder, business approver (decision_rights); members and roles (members)", rights),
        row(CSF, "ID.AM-02", "Inventories of software, services and systems are maintained",
            "Model inventory with owner, tier, deployment mode, status (models)", models),
        row(CSF, "ID.RA-07", "Changes and exceptions are managed, assessed for risk impact, recorded and tracked",
            "Drift and lapsed-approval exceptions with state, deadlines and disposition (exceptions)", exceptions),
        row(CSF, "DE.CM-09", "Computing hardware and software, runtime environments and their data are monitored",
            "Drift measurements evaluated against approved thresholds (measurements)", measurements),
        row(CSF, "DE.AE-08", "Incidents are declared when adverse events meet the defined incident criteria",
            "Exceptions opened by a measurement over an approved breach level (exceptions, kind breach)", breaches),
        row(CSF, "RS.MA-04", "Incidents are escalated or elevated as needed",
            "Escalations by rule: missed deadline or impact flag, routed to the business approver (escalations)", escalations),
        row(CSF, "PR.AA-01", "Identities and credentials for users, services and hardware are managed",
            "Non-human identity inventory with owner, rotation policy and expiry (nhis)", nhis),
        row(CSF, "PR.PS-04", "Log records are generated and made available for continuous monitoring",
            "Hash-chained audit events in the extract (audit-log.jsonl)", events),
        row(AI_RMF, "GOVERN 1.5", "Ongoing monitoring and periodic review are planned, with roles and review frequency defined",
            "Approvals with an expiry / review date, signed by the business approver (approvals)", approvals),
        row(AI_RMF, "GOVERN 1.6", "Mechanisms are in place to inventory AI systems",
            "Model inventory (models)", models),
        row(AI_RMF, "GOVERN 1.7", "Processes exist for decommissioning and phasing out AI systems safely",
            "Models retired or rolled back, and retire / roll-back dispositions (models, exceptions)", decommission),
        row(AI_RMF, "GOVERN 2.1", "Roles, responsibilities and lines of communication are documented and clear",
            "Decision rights per model with all four roles named (decision_rights)", rights_full),
        row(AI_RMF, "MEASURE 2.4", "The AI system's functionality and behaviour are monitored in production",
            "Drift measurements, production, shadow and canary alike (measurements)", measurements),
        row(AI_RMF, "MANAGE 2.4", "Mechanisms and assigned responsibilities exist to supersede, disengage or deactivate AI systems",
            "Models with a named pause / roll-back holder (decision_rights)", rollback_holders),
        row(AI_RMF, "MANAGE 4.1", "Post-deployment monitoring plans are implemented, incl. incident response, recovery and change management",
            "Approved thresholds and the exceptions they opened (thresholds, exceptions)", thresholds + exceptions),
        row(EU_AI_ACT, "Art. 26(2)", "Deployers assign human oversight to competent people with authority",
            "Models with a named validator and business approver (decision_rights)", oversight),
        row(EU_AI_ACT, "Art. 26(5)", "Deployers monitor operation and suspend use on risk",
            "Measurements and the exceptions they opened (measurements, exceptions)", measurements + exceptions),
        row(EU_AI_ACT, "Art. 26(6)", "Deployers keep automatically generated logs for at least six months",
            "Hash-chained audit events (audit-log.jsonl)", events),
        row(EU_AI_ACT, "Art. 72", "Post-market monitoring collects, documents and analyses performance data",
            "Approved thresholds and evaluated measurements (thresholds, measurements)", thresholds + evaluated),
        row(SR, "Model inventory", "Comprehensive information on models in use, under development or recently retired (VI)",
            "Model inventory incl. retired models (models)", models),
        row(SR, "Ongoing monitoring", "Monitoring confirms the model performs as intended; outcomes analysis (V)",
            "Measurements evaluated against approved thresholds (measurements)", evaluated),
        row(SR, "Effective challenge", "Independent validation of model signals and decisions (V)",
            "Exceptions confirmed or dismissed by the model's validator, with reasons (exceptions)", validated),
        row(SR, "Governance and documentation", "Approvals, roles and documentation of model use (VI)",
            "Signed approvals and decision records (approvals, decisions)", approvals + decisions),
    ];
    let nhi_rows: [(&str, &str, Option<&str>); 10] = [
        (
            "NHI1",
            "Improper offboarding",
            Some("Orphaned identities: owner offboarded (nhi_findings NHI1)"),
        ),
        ("NHI2", "Secret leakage", None),
        ("NHI3", "Vulnerable third-party NHI", None),
        ("NHI4", "Insecure authentication", None),
        (
            "NHI5",
            "Overprivileged NHI",
            Some("Identities with wildcard or admin scopes (nhi_findings NHI5)"),
        ),
        ("NHI6", "Insecure cloud deployment configurations", None),
        (
            "NHI7",
            "Long-lived secrets",
            Some("Overdue rotation, expired, expiring or no expiry (nhi_findings NHI7)"),
        ),
        (
            "NHI8",
            "Environment isolation",
            Some("Identities used in more than one environment (nhi_findings NHI8)"),
        ),
        (
            "NHI9",
            "NHI reuse",
            Some("Identities shared by several models (nhi_findings NHI9)"),
        ),
        (
            "NHI10",
            "Human use of NHI",
            Some("Identities people use interactively (nhi_findings NHI10)"),
        ),
    ];
    for (control, title, evidence) in nhi_rows {
        rows.push(match (control, evidence) {
            (_, Some(ev)) => row(OWASP_NHI, control, title, ev, findings(control)),
            ("NHI2", None) => row(
                OWASP_NHI,
                control,
                title,
                "Identity records hold metadata only: secret-looking values are refused on input (nhis)",
                nhis,
            ),
            (_, None) => MappingRow {
                framework: OWASP_NHI,
                control,
                title,
                evidence: "Not assessed by Driftwarden; the identity inventory (nhis) lists owner, system and scopes for review".into(),
                records: None,
            },
        });
    }
    rows
}
