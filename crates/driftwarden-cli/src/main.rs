//! `driftwarden`: the command-line adapter over the core. Argument parsing and printing only;
//! every rule lives in `driftwarden-core`.

mod dev;
mod drift;
mod output;
mod pack;
mod secret;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;

use driftwarden_core::{
    default_registry_dir, AddMember, AddModel, AddNhi, ApproveModel, Clock, CoreError,
    CreateRegistry, DecideException, FixedClock, IngestFormat, IngestOptions, Registry,
    SetDecisionRights, SetThreshold, SystemClock, UpdateModel,
};

use output::{print_json, Table};

#[derive(Parser)]
#[command(
    name = "driftwarden",
    version,
    about = "Driftwarden: governed model drift, from the command line"
)]
struct Cli {
    /// Registry folder [env: DRIFTWARDEN_REGISTRY; default: the platform data folder]
    #[arg(long, global = true, value_name = "DIR")]
    registry: Option<PathBuf>,
    /// The member acting [env: DRIFTWARDEN_MEMBER]
    #[arg(long, global = true, value_name = "EMAIL", env = "DRIFTWARDEN_MEMBER")]
    member: Option<String>,
    /// Read the passphrase from this file (first line) [else DRIFTWARDEN_PASSPHRASE, else a prompt]
    #[arg(long, global = true, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new registry with you as its first member (an admin)
    Init {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Extra roles besides admin (default: admin and owner)
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
    },
    /// Who you are signed in as, and where
    Status(JsonFlag),
    /// Members: add, list, show, change roles, offboard
    #[command(subcommand)]
    Member(MemberCmd),
    /// Models: register, update, decision rights, list, show
    #[command(subcommand)]
    Model(ModelCmd),
    /// Thresholds: propose, list
    #[command(subcommand)]
    Threshold(ThresholdCmd),
    /// Non-human identities: add, link, list, show
    #[command(subcommand)]
    Nhi(NhiCmd),
    /// The audit log: show, verify
    #[command(subcommand)]
    Log(LogCmd),
    /// Approve a model for its use until a date (its business approver); signs the approval
    Approve {
        model: String,
        /// Expiry / review date, YYYY-MM-DD
        #[arg(long)]
        until: String,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Import measurements from a CSV (model,version,metric,value,observed_at[,segment,source]) or an Evidently report
    Ingest {
        file: PathBuf,
        /// csv (default) or evidently
        #[arg(long, default_value = "csv")]
        format: String,
        /// For Evidently reports: the model measured
        #[arg(long)]
        model: Option<String>,
        /// For Evidently reports: the model version
        #[arg(long)]
        version: Option<String>,
        /// For Evidently reports: when it was measured (RFC 3339; default: the report's timestamp, else now)
        #[arg(long)]
        observed_at: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Measurements of a model
    Measurements {
        model: String,
        #[arg(long)]
        metric: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List exceptions
    Exceptions {
        /// opened, validating, confirmed, dismissed, escalated, recovered, decided, closed
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        model: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Act on one exception: show, validate, flag, decide, cosign
    #[command(subcommand)]
    Exception(ExceptionCmd),
    /// Escalate overdue exceptions and open exceptions for lapsed approvals
    Sweep(JsonFlag),
    /// The registry policy: approval lifetimes, deadlines, re-breach window
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Drift between a reference and a current CSV, per column (Evidently's methods and thresholds)
    Drift(drift::DriftArgs),
    /// Write a signed, self-verifying audit pack (compliance or admin)
    Pack(pack::PackArgs),
    /// Verify an audit pack: manifest signature, every file, the log chain, every sign-off
    Verify(pack::VerifyArgs),
    /// Write an encrypted backup of the registry to one file (admin or compliance)
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup file into a new folder (no passphrase needed; open it afterwards)
    Restore {
        file: PathBuf,
        #[arg(long)]
        to: PathBuf,
    },
    /// Developer tools: `dev seed` builds a synthetic registry at any scale
    #[command(subcommand)]
    Dev(dev::DevCmd),
    /// The review calendar: every date someone must act on (agenda, JSON, or iCalendar)
    Calendar {
        /// YYYY-MM-DD (default: today)
        #[arg(long)]
        from: Option<String>,
        /// YYYY-MM-DD (default: 90 days after --from)
        #[arg(long)]
        to: Option<String>,
        /// Only what this member must act on
        #[arg(long = "for", value_name = "EMAIL")]
        for_member: Option<String>,
        /// Write an RFC 5545 .ics file (import it into your calendar; re-importing updates)
        #[arg(long, value_name = "FILE")]
        ics: Option<PathBuf>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Subcommand)]
enum ExceptionCmd {
    Show {
        id: i64,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// The validator starts validating, confirms the signal, or dismisses it with a reason
    Validate {
        id: i64,
        #[arg(long, conflicts_with_all = ["confirm", "dismiss"])]
        start: bool,
        #[arg(long, conflicts_with = "dismiss")]
        confirm: bool,
        #[arg(long)]
        dismiss: bool,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Flag an impact: escalates and requires the business approver's co-sign
    Flag {
        id: i64,
        /// customer, compliance or financial
        #[arg(long)]
        impact: String,
        #[arg(long)]
        note: String,
    },
    /// The accountable owner decides a disposition (signed)
    Decide {
        id: i64,
        /// retrain, retriage, rollback, retire, keep, tighten, revalidate
        #[arg(long)]
        disposition: String,
        #[arg(long)]
        rationale: String,
        /// Follow-up review date, YYYY-MM-DD
        #[arg(long)]
        follow_up: Option<String>,
    },
    /// The business approver co-signs the disposition (signed); closes the exception
    Cosign { id: i64 },
}

#[derive(Subcommand)]
enum PolicyCmd {
    Show(JsonFlag),
    /// Set one value, e.g. `policy set approval_max_months.high 3`
    Set {
        key: String,
        value: i64,
    },
}

#[derive(Args)]
struct JsonFlag {
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum MemberCmd {
    /// Add a member (admin)
    Add {
        email: String,
        #[arg(long)]
        name: String,
        /// admin, owner, validator, approver, engineer, compliance (repeat or comma-separate)
        #[arg(long = "role", value_name = "ROLE", required = true)]
        roles: Vec<String>,
        /// The new member's passphrase, from this file [else DRIFTWARDEN_NEW_PASSPHRASE, else a prompt]
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    List(JsonFlag),
    Show {
        email: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Replace a member's roles (admin)
    Roles {
        email: String,
        #[arg(long = "role", value_name = "ROLE", required = true)]
        roles: Vec<String>,
    },
    /// Offboard a member: rotates the registry key and removes their key slot (admin)
    Offboard {
        email: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum ModelCmd {
    /// Register a model version
    Add {
        name: String,
        #[arg(long)]
        version: String,
        /// The accountable owner (a member with the owner role)
        #[arg(long)]
        owner: String,
        /// Intended use
        #[arg(long = "use")]
        intended_use: String,
        /// Business function
        #[arg(long = "function")]
        business_function: String,
        /// Risk tier: high, medium, low
        #[arg(long)]
        tier: String,
        /// Deployment mode: production (default), shadow, canary
        #[arg(long)]
        mode: Option<String>,
        /// The model is in scope of a regulation (its dispositions always need a co-sign)
        #[arg(long)]
        regulated: bool,
    },
    /// Change a model's descriptive fields or owner
    Update {
        model: String,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long = "use")]
        intended_use: Option<String>,
        #[arg(long = "function")]
        business_function: Option<String>,
        #[arg(long)]
        tier: Option<String>,
        #[arg(long)]
        mode: Option<String>,
        #[arg(long, value_name = "true|false")]
        regulated: Option<bool>,
    },
    /// Set decision rights: alert recipients, validator, pause/rollback authority, business approver
    Rights {
        model: String,
        /// Alert recipient (repeat); replaces the list
        #[arg(long = "alerts", value_name = "EMAIL")]
        alerts: Vec<String>,
        #[arg(long)]
        validator: Option<String>,
        /// Who may pause or roll back
        #[arg(long)]
        rollback: Option<String>,
        /// The business approver
        #[arg(long)]
        approver: Option<String>,
    },
    List(JsonFlag),
    Show {
        model: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// The release gate: what approval needs and what is missing
    Gate {
        model: String,
        /// The expiry date you intend to approve until
        #[arg(long)]
        until: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Subcommand)]
enum ThresholdCmd {
    /// Propose a threshold (a new version; it needs approval)
    Set {
        model: String,
        metric: String,
        #[arg(long, allow_negative_numbers = true)]
        breach: f64,
        #[arg(long, allow_negative_numbers = true)]
        warn: Option<f64>,
        /// above (default) or below
        #[arg(long)]
        direction: Option<String>,
    },
    List {
        model: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Subcommand)]
enum NhiCmd {
    /// Register a non-human identity (metadata only, never the secret)
    Add {
        name: String,
        /// service-account, api-key, oauth-client, token, certificate, ssh-key, secret
        #[arg(long)]
        kind: String,
        #[arg(long)]
        system: String,
        #[arg(long)]
        owner: String,
        #[arg(long, allow_negative_numbers = true)]
        rotation_days: i64,
        /// YYYY-MM-DD
        #[arg(long)]
        last_rotated: Option<String>,
        /// YYYY-MM-DD
        #[arg(long)]
        expires: Option<String>,
        #[arg(long = "env")]
        environment: Option<String>,
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// The public identifier: access key ID, OAuth client ID, service account email
        #[arg(long)]
        identifier: Option<String>,
        /// People use this identity interactively
        #[arg(long)]
        human_use: bool,
    },
    /// Record a rotation (the NHI's owner or an admin)
    Rotate {
        name: String,
        /// YYYY-MM-DD (default: today)
        #[arg(long)]
        date: Option<String>,
    },
    /// Re-assign the owner
    Owner {
        name: String,
        email: String,
    },
    /// Revoke (a state change; nothing is deleted)
    Revoke {
        name: String,
        #[arg(long)]
        reason: String,
    },
    /// Accept a finding as a risk until a date
    Accept {
        name: String,
        /// rotation-overdue, expired, expiring, no-expiry, orphaned, multi-environment, shared, human-use, overprivileged
        finding: String,
        #[arg(long)]
        until: String,
        #[arg(long)]
        reason: String,
    },
    /// Change metadata
    Update {
        name: String,
        #[arg(long)]
        system: Option<String>,
        #[arg(long, allow_negative_numbers = true)]
        rotation_days: Option<i64>,
        #[arg(long)]
        expires: Option<String>,
        #[arg(long = "env")]
        environment: Option<String>,
        /// Replaces the scopes (repeat)
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long)]
        identifier: Option<String>,
        #[arg(long, value_name = "true|false")]
        human_use: Option<bool>,
    },
    /// Import an inventory CSV (name,kind,system,owner,rotation_days,last_rotated,expires,environment,scopes,identifier,human_use)
    Import {
        file: PathBuf,
    },
    /// Export the inventory as CSV (the import format)
    Export {
        /// Write to this file instead of standard output
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Rotation compliance, findings by kind, per model, trend
    Posture(JsonFlag),
    /// Record that a model depends on an NHI
    Link {
        nhi: String,
        model: String,
        #[arg(long)]
        usage: String,
    },
    List(JsonFlag),
    Show {
        name: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Subcommand)]
enum LogCmd {
    /// Print audit events, oldest first
    Show {
        /// Only the newest N events
        #[arg(long)]
        limit: Option<i64>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Recompute the hash chain; names the first bad sequence number
    Verify(JsonFlag),
}

fn clock() -> Result<Arc<dyn Clock>, CoreError> {
    match std::env::var("DRIFTWARDEN_NOW") {
        Ok(s) if !s.trim().is_empty() => {
            let t = chrono::DateTime::parse_from_rfc3339(s.trim()).map_err(|_| {
                CoreError::invalid("DRIFTWARDEN_NOW", format!("{s:?} is not an RFC 3339 time"))
            })?;
            Ok(Arc::new(FixedClock(t.with_timezone(&chrono::Utc))))
        }
        _ => Ok(Arc::new(SystemClock)),
    }
}

/// `Registry::open` or `Registry::open_unswept`.
type Opener = fn(&std::path::Path, &str, &str, Arc<dyn Clock>) -> Result<Registry, CoreError>;

impl Cli {
    fn registry_dir(&self) -> PathBuf {
        self.registry.clone().unwrap_or_else(default_registry_dir)
    }

    fn open(&self) -> Result<Registry, CoreError> {
        self.open_with(Registry::open)
    }

    fn open_with(&self, open: Opener) -> Result<Registry, CoreError> {
        let email = self.member.clone().ok_or_else(|| {
            CoreError::invalid(
                "member",
                "name the member with --member EMAIL or DRIFTWARDEN_MEMBER",
            )
        })?;
        let pass = secret::passphrase(self.passphrase_file.as_deref())?;
        open(&self.registry_dir(), &email, &pass, clock()?)
    }
}

fn run(cli: Cli) -> Result<(), CoreError> {
    match &cli.command {
        Command::Init {
            org,
            email,
            name,
            roles,
        } => {
            let pass =
                secret::new_passphrase(cli.passphrase_file.as_deref(), "DRIFTWARDEN_PASSPHRASE")?;
            let input = CreateRegistry {
                org: org.clone(),
                email: email.clone(),
                name: name.clone(),
                roles: roles.clone(),
            };
            let reg = Registry::create(&cli.registry_dir(), &input, &pass, clock()?)?;
            println!(
                "Created registry {} for {} (member {})",
                reg.dir().display(),
                org,
                reg.member_email()
            );
        }
        Command::Status(j) => {
            let reg = cli.open()?;
            let s = reg.session()?;
            if j.json {
                print_json(&s);
            } else {
                println!(
                    "registry  {}\norg       {}\nmember    {} <{}>\nroles     {}\nschema    v{}",
                    s.dir,
                    s.org,
                    s.member.name,
                    s.member.email,
                    s.member
                        .roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    s.schema_version
                );
            }
        }
        Command::Member(cmd) => member(&cli, cmd)?,
        Command::Model(cmd) => model(&cli, cmd)?,
        Command::Threshold(cmd) => threshold(&cli, cmd)?,
        Command::Nhi(cmd) => nhi(&cli, cmd)?,
        Command::Dev(cmd) => dev::run(&cli, cmd)?,
        Command::Log(cmd) => log(&cli, cmd)?,
        Command::Approve {
            model,
            until,
            note,
            json,
        } => {
            let mut reg = cli.open()?;
            let a = reg.approve_model(
                model,
                &ApproveModel {
                    until: until.clone(),
                    note: note.clone(),
                },
            )?;
            if json.json {
                print_json(&a);
            } else {
                println!(
                    "Approved {model} until {} (approval {}, signed by {})",
                    a.expires_on, a.id, a.approver
                );
            }
        }
        Command::Ingest {
            file,
            format,
            model,
            version,
            observed_at,
            json,
        } => {
            let mut reg = cli.open()?;
            let format = match format.as_str() {
                "csv" => IngestFormat::Csv,
                "evidently" => IngestFormat::Evidently,
                other => {
                    return Err(CoreError::invalid(
                        "format",
                        format!("unknown format {other:?}; expected csv or evidently"),
                    ))
                }
            };
            let model = match (model, version) {
                (Some(m), Some(v)) => Some(format!("{m}@{v}")),
                (m, _) => m.clone(),
            };
            let opts = IngestOptions {
                format,
                model,
                observed_at: observed_at.clone(),
            };
            let show = std::io::stderr().is_terminal();
            let r = reg.ingest_file(file, &opts, &mut |p| {
                if show && p.total_bytes > 0 {
                    eprint!(
                        "\ringesting: {:>3}% ({} rows)",
                        p.bytes * 100 / p.total_bytes,
                        p.rows
                    );
                }
            })?;
            if show {
                eprintln!();
            }
            if json.json {
                print_json(&r);
            } else {
                println!(
                    "Imported {} measurements from {} (import {}): {} over breach, {} notices; opened {:?}, recovered {:?}, re-breaches {:?}",
                    r.rows, r.file, r.import_id, r.breaches, r.notices, r.opened, r.recovered, r.rebreaches
                );
            }
        }
        Command::Measurements {
            model,
            metric,
            json,
        } => {
            let reg = cli.open()?;
            let list = reg.list_measurements(model, metric.as_deref())?;
            if json.json {
                print_json(&list);
            } else {
                let mut t = Table::new(&[
                    "ID",
                    "METRIC",
                    "VALUE",
                    "OBSERVED",
                    "EVALUATION",
                    "EXCEPTION",
                ]);
                for m in &list {
                    t.row(vec![
                        m.id.to_string(),
                        m.metric.clone(),
                        m.value.to_string(),
                        m.observed_at.clone(),
                        m.evaluation.clone(),
                        m.exception_id
                            .map(|e| e.to_string())
                            .unwrap_or_else(|| "-".into()),
                    ]);
                }
                t.print();
            }
        }
        Command::Exceptions { state, model, json } => {
            let reg = cli.open()?;
            let list = reg.list_exceptions(state.as_deref(), model.as_deref())?;
            if json.json {
                print_json(&list);
            } else {
                output::exception_table(&list).print();
            }
        }
        Command::Exception(cmd) => exception(&cli, cmd)?,
        Command::Sweep(j) => {
            let mut reg = cli.open_with(Registry::open_unswept)?;
            let r = reg.sweep()?;
            if j.json {
                print_json(&r);
            } else {
                for i in &r.lapsed {
                    println!("lapsed: exception {} opened: {}", i.exception_id, i.reason);
                }
                for i in &r.escalated {
                    println!("escalated exception {}: {}", i.exception_id, i.reason);
                }
                if r.is_empty() {
                    println!("nothing due");
                }
            }
        }
        Command::Pack(args) => pack::run_pack(args, &|| cli.open())?,
        Command::Verify(args) => pack::run_verify(args)?,
        Command::Drift(args) => drift::run(args, &|| cli.open())?,
        Command::Backup { out } => {
            let mut reg = cli.open()?;
            let r = reg.backup(out)?;
            println!(
                "Backed up {} events and {} key slots to {} ({} bytes)",
                r.events, r.slots, r.file, r.bytes
            );
        }
        Command::Restore { file, to } => {
            let n = driftwarden_core::restore_backup(file, to)?;
            println!(
                "Restored {n} files into {}; open it with your passphrase and run `log verify`",
                to.display()
            );
        }
        Command::Calendar {
            from,
            to,
            for_member,
            ics,
            json,
        } => {
            let reg = cli.open()?;
            let from = match from {
                Some(d) => driftwarden_core::parse_date("from", d)?,
                None => reg.now().date_naive(),
            };
            let to = match to {
                Some(d) => driftwarden_core::parse_date("to", d)?,
                None => from + chrono::Duration::days(90),
            };
            if to < from {
                return Err(CoreError::invalid("to", "is before --from"));
            }
            let items = reg.calendar(from, to, for_member.as_deref())?;
            if let Some(path) = ics {
                let text = reg.calendar_ics(&items)?;
                std::fs::write(path, text).map_err(|e| {
                    CoreError::invalid("ics", format!("cannot write {}: {e}", path.display()))
                })?;
                eprintln!("Wrote {} events to {}", items.len(), path.display());
            }
            if json.json {
                print_json(&items);
            } else if ics.is_none() {
                let mut t = Table::new(&["DATE", "WHEN", "KIND", "WHAT", "WHO"]);
                for i in &items {
                    let when = match i.days_left {
                        0 => "today".to_string(),
                        d if d < 0 => format!("{} days overdue", -d),
                        d => format!("in {d} days"),
                    };
                    t.row(vec![
                        i.date.clone(),
                        when,
                        i.kind.clone(),
                        i.title.clone(),
                        i.member.clone().unwrap_or_else(|| "-".into()),
                    ]);
                }
                t.print();
            }
        }
        Command::Policy(PolicyCmd::Show(j)) => {
            let reg = cli.open()?;
            let p = reg.policy()?;
            print_policy(&p, j.json);
        }
        Command::Policy(PolicyCmd::Set { key, value }) => {
            let mut reg = cli.open()?;
            let p = reg.set_policy(key, *value)?;
            print_policy(&p, false);
        }
    }
    Ok(())
}

fn member(cli: &Cli, cmd: &MemberCmd) -> Result<(), CoreError> {
    let mut reg = cli.open()?;
    match cmd {
        MemberCmd::Add {
            email,
            name,
            roles,
            new_passphrase_file,
        } => {
            let pass = secret::new_passphrase(
                new_passphrase_file.as_deref(),
                "DRIFTWARDEN_NEW_PASSPHRASE",
            )?;
            let m = reg.add_member(
                &AddMember {
                    email: email.clone(),
                    name: name.clone(),
                    roles: roles.clone(),
                },
                &pass,
            )?;
            println!(
                "Added member {} <{}> ({})",
                m.name,
                m.email,
                join_roles(&m.roles)
            );
        }
        MemberCmd::List(j) => {
            let list = reg.list_members()?;
            if j.json {
                print_json(&list);
                return Ok(());
            }
            let mut t = Table::new(&["EMAIL", "NAME", "ROLES", "STATUS", "ADDED"]);
            for m in &list {
                t.row(vec![
                    m.email.clone(),
                    m.name.clone(),
                    join_roles(&m.roles),
                    m.status.to_string(),
                    m.created_at.clone(),
                ]);
            }
            t.print();
        }
        MemberCmd::Show { email, json } => {
            let m = reg.member(email)?;
            if json.json {
                print_json(&m);
                return Ok(());
            }
            println!(
                "{} <{}>\nroles       {}\nstatus      {}\nadded       {}\nsigning key {}",
                m.name,
                m.email,
                join_roles(&m.roles),
                m.status,
                m.created_at,
                m.signing_public_key
            );
            if let (Some(at), Some(why)) = (&m.offboarded_at, &m.offboard_reason) {
                println!("offboarded  {at}: {why}");
            }
        }
        MemberCmd::Roles { email, roles } => {
            let m = reg.set_member_roles(email, roles)?;
            println!("{} now has roles: {}", m.email, join_roles(&m.roles));
        }
        MemberCmd::Offboard { email, reason } => {
            let m = reg.offboard_member(email, reason)?;
            println!(
                "Offboarded {}; the registry key was rotated and their key slot removed",
                m.email
            );
        }
    }
    Ok(())
}

fn print_findings(findings: &[driftwarden_core::Finding]) {
    for f in findings {
        let accepted = f
            .accepted
            .as_ref()
            .map(|a| format!(" (accepted until {})", a.until))
            .unwrap_or_default();
        println!(
            "  finding {} [{}] {}: {}{accepted}",
            f.code, f.owasp, f.title, f.detail
        );
    }
}

fn print_policy(p: &driftwarden_core::Policy, json: bool) {
    if json {
        print_json(p);
        return;
    }
    let t = |v: &driftwarden_core::TierValues| {
        format!("high {}, medium {}, low {}", v.high, v.medium, v.low)
    };
    println!("approval max months   {}", t(&p.approval_max_months));
    println!("validate within days  {}", t(&p.validate_days));
    println!("decide within days    {}", t(&p.decide_days));
    println!("follow-up after days  {}", t(&p.follow_up_days));
    println!("re-breach window days {}", p.rebreach_window_days);
}

fn exception(cli: &Cli, cmd: &ExceptionCmd) -> Result<(), CoreError> {
    let mut reg = cli.open()?;
    let v = match cmd {
        ExceptionCmd::Show { id, json } => {
            let v = reg.show_exception(*id)?;
            if json.json {
                print_json(&v);
            } else {
                output::print_exception(&v);
            }
            return Ok(());
        }
        ExceptionCmd::Validate {
            id,
            start,
            confirm,
            dismiss,
            reason,
        } => {
            if *start {
                reg.start_validation(*id)?
            } else if *confirm || *dismiss {
                reg.validate_exception(*id, *confirm, reason.as_deref().unwrap_or(""))?
            } else {
                return Err(CoreError::invalid(
                    "validate",
                    "say --start, --confirm or --dismiss --reason TEXT",
                ));
            }
        }
        ExceptionCmd::Flag { id, impact, note } => reg.flag_exception(*id, impact, note)?,
        ExceptionCmd::Decide {
            id,
            disposition,
            rationale,
            follow_up,
        } => reg.decide_exception(
            *id,
            &DecideException {
                disposition: disposition.clone(),
                rationale: rationale.clone(),
                follow_up: follow_up.clone(),
            },
        )?,
        ExceptionCmd::Cosign { id } => reg.cosign_exception(*id)?,
    };
    println!("Exception {} is now {}", v.id, v.state);
    Ok(())
}

fn join_roles(roles: &[driftwarden_core::Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn model(cli: &Cli, cmd: &ModelCmd) -> Result<(), CoreError> {
    let mut reg = cli.open()?;
    match cmd {
        ModelCmd::Add {
            name,
            version,
            owner,
            intended_use,
            business_function,
            tier,
            mode,
            regulated,
        } => {
            let m = reg.add_model(&AddModel {
                name: name.clone(),
                version: version.clone(),
                owner: owner.clone(),
                intended_use: intended_use.clone(),
                business_function: business_function.clone(),
                risk_tier: tier.clone(),
                deployment_mode: mode.clone(),
                regulated: *regulated,
            })?;
            println!(
                "Registered model {} version {} (owner {})",
                m.name, m.version, m.owner
            );
        }
        ModelCmd::Update {
            model,
            owner,
            intended_use,
            business_function,
            tier,
            mode,
            regulated,
        } => {
            let m = reg.update_model(
                model,
                &UpdateModel {
                    owner: owner.clone(),
                    intended_use: intended_use.clone(),
                    business_function: business_function.clone(),
                    risk_tier: tier.clone(),
                    deployment_mode: mode.clone(),
                    regulated: *regulated,
                },
            )?;
            println!("Updated model {}", m.display_name);
        }
        ModelCmd::Rights {
            model,
            alerts,
            validator,
            rollback,
            approver,
        } => {
            let r = reg.set_decision_rights(
                model,
                &SetDecisionRights {
                    alert_recipients: if alerts.is_empty() {
                        None
                    } else {
                        Some(alerts.clone())
                    },
                    validator: validator.clone(),
                    rollback: rollback.clone(),
                    approver: approver.clone(),
                },
            )?;
            println!(
                "Decision rights of {model}: alerts {}; validator {}; rollback {}; approver {}",
                if r.alert_recipients.is_empty() {
                    "-".into()
                } else {
                    r.alert_recipients.join(", ")
                },
                r.validator.as_deref().unwrap_or("-"),
                r.rollback.as_deref().unwrap_or("-"),
                r.approver.as_deref().unwrap_or("-")
            );
        }
        ModelCmd::List(j) => {
            let list = reg.list_models()?;
            if j.json {
                print_json(&list);
                return Ok(());
            }
            let mut t = Table::new(&[
                "MODEL",
                "VERSION",
                "TIER",
                "MODE",
                "REGULATED",
                "OWNER",
                "STATUS",
            ]);
            for m in &list {
                t.row(vec![
                    m.display_name.clone(),
                    m.version.clone(),
                    m.risk_tier.to_string(),
                    m.deployment_mode.to_string(),
                    if m.regulated {
                        "yes".into()
                    } else {
                        "no".into()
                    },
                    m.owner.clone(),
                    m.status.to_string(),
                ]);
            }
            t.print();
        }
        ModelCmd::Gate { model, until, json } => {
            let gate = reg.approval_gate(model, until.as_deref())?;
            if json.json {
                print_json(&gate);
                return Ok(());
            }
            for g in &gate {
                println!(
                    "[{}] {}{}",
                    if g.ok { "x" } else { " " },
                    g.label,
                    g.detail
                        .as_deref()
                        .map(|d| format!(": missing {d}"))
                        .unwrap_or_default()
                );
            }
        }
        ModelCmd::Show { model, json } => {
            let d = reg.show_model(model)?;
            if json.json {
                print_json(&d);
                return Ok(());
            }
            output::print_model(&d);
        }
    }
    Ok(())
}

fn threshold(cli: &Cli, cmd: &ThresholdCmd) -> Result<(), CoreError> {
    let mut reg = cli.open()?;
    match cmd {
        ThresholdCmd::Set {
            model,
            metric,
            breach,
            warn,
            direction,
        } => {
            let t = reg.set_threshold(
                model,
                &SetThreshold {
                    metric: metric.clone(),
                    breach: *breach,
                    warn: *warn,
                    direction: direction.clone(),
                },
            )?;
            println!(
                "Proposed {} v{} for {model}: breach {} {}{} (needs approval)",
                t.metric,
                t.version,
                t.direction,
                t.breach,
                t.warn.map(|w| format!(", warn {w}")).unwrap_or_default()
            );
        }
        ThresholdCmd::List { model, json } => {
            let list = reg.list_thresholds(model)?;
            if json.json {
                print_json(&list);
                return Ok(());
            }
            output::threshold_table(&list).print();
        }
    }
    Ok(())
}

fn nhi(cli: &Cli, cmd: &NhiCmd) -> Result<(), CoreError> {
    let mut reg = cli.open()?;
    match cmd {
        NhiCmd::Add {
            name,
            kind,
            system,
            owner,
            rotation_days,
            last_rotated,
            expires,
            environment,
            scopes,
            identifier,
            human_use,
        } => {
            let n = reg.add_nhi(&AddNhi {
                name: name.clone(),
                kind: kind.clone(),
                system: system.clone(),
                owner: owner.clone(),
                rotation_days: *rotation_days,
                last_rotated: last_rotated.clone(),
                expires: expires.clone(),
                environment: environment.clone(),
                scopes: scopes.clone(),
                identifier: identifier.clone(),
                human_use: *human_use,
            })?;
            println!("Registered NHI {} ({}, owner {})", n.name, n.kind, n.owner);
            print_findings(&n.findings);
        }
        NhiCmd::Rotate { name, date } => {
            let date = date
                .clone()
                .unwrap_or_else(|| reg.now().date_naive().to_string());
            let n = reg.rotate_nhi(name, &date)?;
            println!(
                "Recorded rotation of {} on {date}; next due {}",
                n.name, n.rotation_due
            );
            print_findings(&n.findings);
        }
        NhiCmd::Owner { name, email } => {
            let n = reg.set_nhi_owner(name, email)?;
            println!("{} is now owned by {}", n.name, n.owner);
        }
        NhiCmd::Revoke { name, reason } => {
            let n = reg.revoke_nhi(name, reason)?;
            println!("Revoked {}", n.name);
        }
        NhiCmd::Accept {
            name,
            finding,
            until,
            reason,
        } => {
            let n = reg.accept_nhi_finding(name, finding, until, reason)?;
            println!("Accepted {finding} on {} until {until}", n.name);
        }
        NhiCmd::Update {
            name,
            system,
            rotation_days,
            expires,
            environment,
            scopes,
            identifier,
            human_use,
        } => {
            let n = reg.update_nhi(
                name,
                &driftwarden_core::UpdateNhi {
                    system: system.clone(),
                    rotation_days: *rotation_days,
                    expires: expires.clone(),
                    environment: environment.clone(),
                    scopes: if scopes.is_empty() {
                        None
                    } else {
                        Some(scopes.clone())
                    },
                    identifier: identifier.clone(),
                    human_use: *human_use,
                },
            )?;
            println!("Updated {}", n.name);
            print_findings(&n.findings);
        }
        NhiCmd::Import { file } => {
            let n = reg.import_nhis(file)?;
            println!("Imported {n} NHIs from {}", file.display());
        }
        NhiCmd::Export { out } => match out {
            Some(path) => {
                let mut f = std::fs::File::create(path).map_err(|e| {
                    CoreError::invalid("out", format!("cannot create {}: {e}", path.display()))
                })?;
                let n = reg.export_nhis(&mut f)?;
                eprintln!("Exported {n} NHIs to {}", path.display());
            }
            None => {
                reg.export_nhis(&mut std::io::stdout().lock())?;
            }
        },
        NhiCmd::Posture(j) => {
            let p = reg.nhi_posture()?;
            if j.json {
                print_json(&p);
                return Ok(());
            }
            println!(
                "rotation compliance: {} of {} active NHIs",
                p.rotation_compliance_pct
                    .map(|x| format!("{x}%"))
                    .unwrap_or_else(|| "-".into()),
                p.active_nhis
            );
            for f in &p.open_findings {
                println!("  {:<18} {:<6} {}", f.code, f.owasp, f.count);
            }
            for m in &p.per_model {
                println!(
                    "  model {}: {} NHIs, {} compliant, {} open findings",
                    m.model,
                    m.nhis,
                    m.rotation_compliance_pct
                        .map(|x| format!("{x}%"))
                        .unwrap_or_else(|| "-".into()),
                    m.open_findings
                );
            }
        }
        NhiCmd::Link { nhi, model, usage } => {
            let l = reg.link_nhi(nhi, model, usage)?;
            println!("Linked {} to {}", l.nhi, l.model);
        }
        NhiCmd::List(j) => {
            let list = reg.list_nhis()?;
            if j.json {
                print_json(&list);
                return Ok(());
            }
            let mut t = Table::new(&[
                "NAME",
                "KIND",
                "SYSTEM",
                "OWNER",
                "ENV",
                "ROTATION",
                "LAST ROTATED",
                "EXPIRES",
                "MODELS",
                "FINDINGS",
            ]);
            for n in &list {
                t.row(vec![
                    n.name.clone(),
                    n.kind.to_string(),
                    n.system.clone(),
                    n.owner.clone(),
                    n.environment.clone().unwrap_or_else(|| "-".into()),
                    format!("{}d", n.rotation_days),
                    n.last_rotated.clone().unwrap_or_else(|| "-".into()),
                    n.expires.clone().unwrap_or_else(|| "-".into()),
                    n.linked_models.join(", "),
                    n.findings
                        .iter()
                        .filter(|f| f.accepted.is_none())
                        .map(|f| format!("{}:{}", f.owasp, f.code))
                        .collect::<Vec<_>>()
                        .join(" "),
                ]);
            }
            t.print();
        }
        NhiCmd::Show { name, json } => {
            let d = reg.show_nhi(name)?;
            if json.json {
                print_json(&d);
                return Ok(());
            }
            output::print_nhi(&d);
        }
    }
    Ok(())
}

fn log(cli: &Cli, cmd: &LogCmd) -> Result<(), CoreError> {
    let reg = cli.open()?;
    match cmd {
        LogCmd::Show { limit, json } => {
            let events = reg.audit_log(*limit)?;
            if json.json {
                print_json(&events);
                return Ok(());
            }
            let mut t = Table::new(&["SEQ", "AT", "ACTOR", "OPERATION", "ENTITY", "HASH"]);
            for e in &events {
                t.row(vec![
                    e.seq.to_string(),
                    e.at.clone(),
                    e.actor.clone(),
                    e.operation.clone(),
                    format!("{}:{}", e.entity_type, e.entity_id),
                    e.hash[..16].to_string(),
                ]);
            }
            t.print();
        }
        LogCmd::Verify(j) => {
            let r = reg.verify_log()?;
            let head = reg.check_head_against(&driftwarden_core::default_state_dir(), r.clone())?;
            if j.json {
                print_json(&r);
            } else if r.ok {
                println!("audit log verified: {} events, head {}", r.events, r.head);
            }
            if matches!(head.status.as_str(), "rolled-back" | "diverged") {
                return Err(CoreError::Tampered(head.message));
            }
            if !r.ok {
                return Err(CoreError::Tampered(format!(
                    "audit log does not verify at sequence {}: {}",
                    r.first_bad_seq.unwrap_or_default(),
                    r.problem.unwrap_or_default()
                )));
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    // Behave like other command-line tools when the reader of our output goes away (`| head`).
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("driftwarden: error: {e} [{}]", e.code());
            ExitCode::from(match e.code() {
                "invalid_input" => 2,
                "forbidden" => 3,
                "not_found" => 4,
                "wrong_passphrase" => 5,
                "tampered" => 6,
                _ => 1,
            })
        }
    }
}
