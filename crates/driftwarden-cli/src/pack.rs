//! `driftwarden pack` and `driftwarden verify`: audit packs. The core decides what is in scope
//! and who may export (`Registry::pack_data`); `driftwarden-pack` writes and verifies the folder.
//! Parsing and printing only.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use driftwarden_core::{CoreError, PackScope, Registry};
use driftwarden_pack::{verify_pack, write_pack_with, PackSummary};

#[derive(Args)]
pub struct PackArgs {
    /// Folder to write the pack into (new, or empty)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// First day of the period, YYYY-MM-DD (default: the beginning)
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last day of the period, YYYY-MM-DD (default: today)
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Only this model (NAME or NAME@VERSION)
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The pack folder
    pub dir: PathBuf,
    /// Print the checks as JSON
    #[arg(long)]
    pub json: bool,
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// Writes an audit pack as the signed-in member (compliance or admin).
pub fn run_pack(
    args: &PackArgs,
    open: &dyn Fn() -> Result<Registry, CoreError>,
) -> Result<(), CoreError> {
    let started = Instant::now();
    let reg = open()?;
    let scope = PackScope {
        from: args.from.clone(),
        to: args.to.clone(),
        model: args.model.clone(),
    };
    // The outline only: measurements and the log extract are streamed from the registry.
    let data = reg.pack_outline(&scope)?;
    let chain_ok = data.audit_chain.verified;
    let exporter = data.exported_by.email.clone();
    let tty = std::io::stderr().is_terminal();
    let mut progress = |stage: &str, pct: u32| {
        if tty {
            eprint!("\r\x1b[2K{pct:>3}%  {stage}");
            let _ = std::io::stderr().flush();
        }
    };
    let summary: PackSummary = write_pack_with(
        &data,
        &reg,
        &|bytes| reg.sign_with_my_key(bytes),
        &args.out,
        &mut progress,
    )?;
    if tty {
        eprintln!();
    }
    let period = match (&scope.from, &scope.to) {
        (None, None) => "entire history".to_string(),
        (Some(f), None) => format!("from {f}"),
        (None, Some(t)) => format!("up to {t}"),
        (Some(f), Some(t)) => format!("{f} to {t}"),
    };
    let models = scope
        .model
        .as_deref()
        .map(|m| format!("model {m}"))
        .unwrap_or_else(|| "all models".into());
    println!("Audit pack written to {}", summary.dir.display());
    println!("  scope         {models}, {period}");
    println!("  report.pdf    {} pages", summary.report_pages);
    println!("  models        {}", summary.models);
    println!("  exceptions    {}", summary.exceptions);
    println!("  sign-offs     {}", summary.signoffs);
    println!("  measurements  {}", summary.measurements);
    println!(
        "  audit log     {} events in full, {} gap runs linked by hash; chain {}",
        summary.audit_events,
        summary.audit_gaps,
        if chain_ok { "verified" } else { "BROKEN" }
    );
    println!(
        "  files         {} + manifest and signature ({})",
        summary.files,
        megabytes(summary.bytes)
    );
    println!(
        "  signed by     {exporter} (minisign key {})",
        summary.key_id
    );
    println!("  manifest      sha256 {}", summary.manifest_sha256);
    println!("  time          {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "Check it with: driftwarden verify {}  (or, in that folder: minisign -Vm manifest.json -p signer.pub)",
        summary.dir.display()
    );
    Ok(())
}

/// Verifies a pack folder: one line per check; an error when any fails.
pub fn run_verify(args: &VerifyArgs) -> Result<(), CoreError> {
    if !args.dir.is_dir() {
        return Err(CoreError::NotFound(format!(
            "pack folder {}",
            args.dir.display()
        )));
    }
    let outcome = verify_pack(&args.dir);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&outcome).expect("checks serialise")
        );
    } else {
        for c in &outcome.checks {
            println!("{c}");
        }
    }
    let failed = outcome.failures().count();
    if failed == 0 {
        if !args.json {
            println!("Pack verified: all {} checks pass.", outcome.checks.len());
        }
        Ok(())
    } else {
        let first = outcome.failures().next().expect("counted above");
        Err(CoreError::Tampered(format!(
            "{failed} of {} checks failed; first: {}: {}",
            outcome.checks.len(),
            first.name,
            first.detail
        )))
    }
}
