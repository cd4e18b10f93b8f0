//! Human-readable printing: aligned tables and record pages. `--json` output is the core's
//! transport types serialised as they are.

use driftwarden_core::{ModelDetail, NhiDetail, ThresholdView};
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
    println!("Thresholds");
    threshold_table(&d.thresholds).print();
    println!("Dependent NHIs");
    if d.nhis.is_empty() {
        println!("(none)");
    }
    for l in &d.nhis {
        println!("  {}: {}", l.nhi, l.usage);
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
    println!("  status        {}", n.status);
    println!("Used by");
    if d.links.is_empty() {
        println!("(none)");
    }
    for l in &d.links {
        println!("  {}: {}", l.model, l.usage);
    }
}
