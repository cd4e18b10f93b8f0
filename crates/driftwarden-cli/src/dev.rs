//! `driftwarden dev`: developer tools. `dev seed` builds a synthetic registry through the real
//! operations (see `driftwarden_core::ops::seed`), for trying the app at scale and for the
//! scale benchmark.

use clap::{Args, Subcommand};

use driftwarden_core::{seed_registry, CoreError, SeedSpec};

use crate::output::{print_json, Table};
use crate::Cli;

#[derive(Subcommand)]
pub enum DevCmd {
    /// Build a synthetic registry (every member gets the passphrase given; the admin is
    /// admin@seed.example) in a new or empty --registry folder
    Seed(SeedArgs),
}

#[derive(Args)]
pub struct SeedArgs {
    #[arg(long, default_value_t = 100)]
    models: usize,
    #[arg(long, default_value_t = 500)]
    nhis: usize,
    #[arg(long, default_value_t = 20_000)]
    measurements: usize,
    /// Audit events to reach (NHI rotations make up what the other operations do not write)
    #[arg(long, default_value_t = 5_000)]
    events: usize,
    /// Same seed, same registry content (keys and signatures aside)
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the summary as JSON
    #[arg(long)]
    json: bool,
    /// No progress lines on stderr
    #[arg(long)]
    quiet: bool,
}

pub fn run(cli: &Cli, cmd: &DevCmd) -> Result<(), CoreError> {
    match cmd {
        DevCmd::Seed(a) => {
            let pass = crate::secret::new_passphrase(
                cli.passphrase_file.as_deref(),
                "DRIFTWARDEN_PASSPHRASE",
            )?;
            let spec = SeedSpec {
                models: a.models,
                nhis: a.nhis,
                measurements: a.measurements,
                events: a.events,
                seed: a.seed,
            };
            let now = crate::clock()?.now();
            let quiet = a.quiet;
            let (_reg, report) =
                seed_registry(&cli.registry_dir(), &pass, &spec, now, &mut |line| {
                    if !quiet {
                        eprintln!("seed: {line}");
                    }
                })?;
            if a.json {
                print_json(&report);
            } else {
                let mut t = Table::new(&["what", "count"]);
                for (what, n) in [
                    ("members", report.members),
                    ("models", report.models),
                    ("NHIs", report.nhis),
                    ("NHI links", report.nhi_links),
                    ("measurements", report.measurements),
                    ("imports", report.imports),
                    ("approvals", report.approvals),
                    ("exceptions", report.exceptions),
                ] {
                    t.row(vec![what.into(), n.to_string()]);
                }
                for (state, n) in &report.exception_states {
                    t.row(vec![format!("  {state}"), n.to_string()]);
                }
                t.row(vec!["audit events".into(), report.events.to_string()]);
                t.print();
                println!(
                    "Seeded {} in {:.1} s; open it as {} with the passphrase given",
                    report.dir, report.seconds, report.admin
                );
            }
            Ok(())
        }
    }
}
