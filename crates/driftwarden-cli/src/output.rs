//! Human-readable printing: aligned tables and record pages. `--json` output is the core's
//! transport types serialised as they are.

use driftwarden_core::{ExceptionView, ModelDetail, NhiDetail, SignoffView, ThresholdView};
use serde::Serialize;

pub fn print_json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("transport types serialise")
    );
}

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn print(&self) {
        if self.rows.is_empty() {
            println!("(none)");
            return;
        }
        let mut width: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let parts: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<w$}", w = width[i]))
                .collect();
            println!("{}", parts.join("  ").trim_end());
        };
        line(&self.header);
        for r in &self.rows {
            line(r);
        }
    }
}

fn or_dash(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

pub fn threshold_table(list: &[ThresholdView]) -> Table {
    let mut t = Table::new(&[
        "METRIC",
        "VERSION",
        "DIRECTION",
        "WARN",
        "BREACH",
        "STATUS",
        "PROPOSED BY",
        "AT",
    ]);
    for x in list {
        t.row(vec![
            x.metric.clone(),
            x.version.to_string(),
            x.direction.to_string(),
            x.warn.map(|w| w.to_string()).unwrap_or_else(|| "-".into()),
            x.breach.to_string(),
            x.status.to_string(),
            x.proposed_by.clone(),
            x.proposed_at.clone(),
        ]);
    }
    t
}

pub fn print_model(d: &ModelDetail) {
    let m = &d.model;
    println!("{} (version {})", m.display_name, m.version);
    println!("  status            {}", m.status);
    println!("  owner             {}", m.owner);
    println!("  intended use      {}", m.intended_use);
    println!("  business function {}", m.business_function);
    println!("  risk tier         {}", m.risk_tier);
    println!("  deployment mode   {}", m.deployment_mode);
    println!(
        "  regulated         {}",
        if m.regulated { "yes" } else { "no" }
    );
    let r = &d.decision_rights;
    println!("Decision rights");
    println!(
        "  alert recipients  {}",
        if r.alert_recipients.is_empty() {
            "-".into()
        } else {
            r.alert_recipients.join(", ")
        }
    );
    println!("  validator         {}", or_dash(&r.validator));
    println!("  pause/rollback    {}", or_dash(&r.rollback));
    println!("  business approver {}", or_dash(&r.approver));
    println!(
        "Approval            {} {}",
        m.approval_status,
        m.approval_expires_on
            .as_deref()
            .map(|e| format!("(expires {e})"))
            .unwrap_or_default()
    );
    if let Some(a) = &d.approval {
        println!(
            "  latest            #{} by {} at {}, {}",
            a.id, a.approver, a.approved_at, a.status
        );
        print_signoffs(&a.signoffs);
    }
    println!("Open exceptions     {}", d.open_exceptions);
    println!("Thresholds");
    threshold_table(&d.thresholds).print();
    println!("Dependent NHIs");
    if d.nhis.is_empty() {
        println!("(none)");
    }
    for l in &d.nhis {
        println!("  {}: {}", l.nhi, l.usage);
    }
    for f in &d.nhi_findings {
        println!(
            "  finding on {}: {} [{}] {}",
            f.nhi, f.code, f.owasp, f.detail
        );
    }
}

pub fn print_nhi(d: &NhiDetail) {
    let n = &d.nhi;
    println!("{} ({})", n.name, n.kind);
    println!("  system        {}", n.system);
    println!("  owner         {}", n.owner);
    println!("  environment   {}", or_dash(&n.environment));
    println!(
        "  scopes        {}",
        if n.scopes.is_empty() {
            "-".into()
        } else {
            n.scopes.join(", ")
        }
    );
    println!("  rotation      every {} days", n.rotation_days);
    println!("  last rotated  {}", or_dash(&n.last_rotated));
    println!("  expires       {}", or_dash(&n.expires));
    println!("  identifier    {}", or_dash(&n.identifier));
    println!("  rotation due  {}", n.rotation_due);
    println!("  status        {}", n.status);
    if n.human_use {
        println!("  human use     yes");
    }
    println!("Findings");
    if n.findings.is_empty() {
        println!("(none)");
    }
    for f in &n.findings {
        let accepted = f
            .accepted
            .as_ref()
            .map(|a| format!(" (accepted until {} by {}: {})", a.until, a.by, a.reason))
            .unwrap_or_default();
        println!(
            "  {} [{}] {}: {}{accepted}",
            f.code, f.owasp, f.title, f.detail
        );
    }
    println!("Used by (blast radius)");
    if d.links.is_empty() {
        println!("(none)");
    }
    for l in &d.links {
        println!(
            "  {} ({}): {}",
            l.model,
            l.model_approval_status
                .map(|s| s.to_string())
                .unwrap_or_default(),
            l.usage
        );
    }
}

pub fn print_signoffs(list: &[SignoffView]) {
    for s in list {
        println!(
            "  signature         {} by {} at {}: {}",
            s.kind,
            s.signer,
            s.signed_at,
            if s.valid {
                "valid".to_string()
            } else {
                format!("INVALID ({})", s.problem.as_deref().unwrap_or("?"))
            }
        );
    }
}

pub fn exception_table(list: &[ExceptionView]) -> Table {
    let mut t = Table::new(&[
        "ID", "MODEL", "KIND", "METRIC", "STATE", "MODE", "OPENED", "DEADLINE", "FLAGS",
    ]);
    for e in list {
        let mut flags = Vec::new();
        if e.overdue {
            flags.push("overdue".to_string());
        }
        if e.rebreach {
            flags.push("re-breach".to_string());
        }
        if e.escalated {
            flags.push("escalated".to_string());
        }
        flags.extend(e.impacts.iter().map(|i| format!("impact:{i}")));
        t.row(vec![
            e.id.to_string(),
            e.model.clone(),
            e.kind.to_string(),
            e.metric.clone().unwrap_or_else(|| "-".into()),
            e.state.to_string(),
            e.deployment_mode.to_string(),
            e.opened_at.clone(),
            if matches!(e.state.as_str(), "opened" | "validating") {
                e.validate_by.clone()
            } else {
                e.decide_by.clone()
            },
            flags.join(","),
        ]);
    }
    t
}

pub fn print_exception(e: &ExceptionView) {
    println!(
        "Exception {} on {} ({}, {} mode)",
        e.id, e.model, e.kind, e.deployment_mode
    );
    println!(
        "  state             {}{}",
        e.state,
        if e.overdue { " (overdue)" } else { "" }
    );
    println!("  metric            {}", e.metric.as_deref().unwrap_or("-"));
    if let Some(v) = e.first_value {
        println!("  first value       {v}");
    }
    if let (Some(at), Some(v)) = (&e.last_breach_at, e.last_breach_value) {
        println!(
            "  last breach       {v} at {at} ({} breaching measurements)",
            e.breach_count
        );
    }
    println!("  opened            {}", e.opened_at);
    println!("  validate by       {}", e.validate_by);
    println!("  decide by         {}", e.decide_by);
    println!(
        "  validation        {}{}",
        e.validation,
        e.validation_reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default()
    );
    if e.rebreach {
        println!("  re-breach of      {:?}", e.linked_exceptions);
    }
    if let Some(r) = &e.recovered_at {
        println!("  recovered at      {r}");
    }
    for x in &e.escalations {
        println!(
            "  escalated         {} [{}] {} -> {}",
            x.at,
            x.rule,
            x.reason,
            x.routed_to.as_deref().unwrap_or("-")
        );
    }
    if !e.impacts.is_empty() {
        println!(
            "  impacts           {}",
            e.impacts
                .iter()
                .map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(d) = e.disposition {
        println!("  disposition       {d} ({})", d.describe());
        println!(
            "  rationale         {}",
            e.rationale.as_deref().unwrap_or("-")
        );
        println!(
            "  follow-up         {}",
            e.follow_up.as_deref().unwrap_or("-")
        );
        println!(
            "  decided           {} by {}",
            e.decided_at.as_deref().unwrap_or("-"),
            e.decided_by.as_deref().unwrap_or("-")
        );
        println!(
            "  co-sign           {}",
            if e.cosign_required {
                e.cosigned_by
                    .clone()
                    .unwrap_or_else(|| "required, pending".into())
            } else {
                "not required".into()
            }
        );
    }
    print_signoffs(&e.signoffs);
    for f in &e.dependent_identity_findings {
        println!(
            "  dependent identity finding: {} {} [{}] {}",
            f.nhi, f.code, f.owasp, f.detail
        );
    }
}
