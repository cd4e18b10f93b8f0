//! No secrets at rest: a full scenario through the real CLI (init, members, model, rights,
//! threshold, approval, ingest, an exception validated, decided and co-signed, an NHI, log verify,
//! an audit pack, a backup), then every file it left is searched for the passphrases and for
//! marker strings put into free-text fields: the registry folder, the backup, the member's state
//! folder (remembered heads), the temporary folder the commands were given (TMPDIR) and the logs
//! (every command's output, run with RUST_LOG=trace). The audit pack is plaintext evidence by
//! design, so it is searched for the passphrases only.

use std::path::{Path, PathBuf};

use crate::common::*;

const ORG: &str = "Org-QUAGGA-41c7";
const BOB_NAME: &str = "Bob QUAGGA-name-88e1";
const USE: &str = "Use QUAGGA-use-19af";
const NOTE: &str = "Note QUAGGA-note-5d20";
const REASON: &str = "Reason QUAGGA-reason-77b3";
const RATIONALE: &str = "Rationale QUAGGA-rationale-0c9e";
const NHI_SCOPE: &str = "quagga.scope.read";
const NHI_SYSTEM: &str = "QuaggaSystem-3f1d";
/// The part every marker shares.
const MARK: &str = "QUAGGA";

fn files_under(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn after_a_full_scenario_no_passphrase_or_free_text_is_found_at_rest_or_in_logs() {
    let env = Env::new();
    // Inputs (passphrase file, CSV) live outside the searched folders: they hold what we typed.
    let inputs = tempfile::tempdir().unwrap();
    let scratch = env.tmp.path().join("tmpdir");
    std::fs::create_dir_all(&scratch).unwrap();
    let state = env.tmp.path().join("state");
    let mut logs: Vec<String> = Vec::new();
    let mut run = |member: &str, pass: &str, args: &[&str]| -> Run {
        let out = env
            .cmd(member, pass)
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "1")
            .env("TMPDIR", &scratch)
            .env("DRIFTWARDEN_STATE_DIR", &state)
            .env("DRIFTWARDEN_NOW", "2026-11-02T09:00:00Z")
            .args(args)
            .output()
            .unwrap();
        let r = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        logs.push(format!("$ {args:?}\n{}{}", r.stdout, r.stderr));
        r.ok()
    };
    let ana = |run: &mut dyn FnMut(&str, &str, &[&str]) -> Run, args: &[&str]| {
        run(ADMIN, ADMIN_PASS, args)
    };
    let bob =
        |run: &mut dyn FnMut(&str, &str, &[&str]) -> Run, args: &[&str]| run(BOB, BOB_PASS, args);
    let bobpass = inputs.path().join("bob-pass");
    std::fs::write(&bobpass, format!("{BOB_PASS}\n")).unwrap();
    let csv = inputs.path().join("m.csv");
    std::fs::write(
        &csv,
        "model,version,metric,value,observed_at\n\
         credit-risk,1.0,psi,0.05,2026-11-01T00:00:00Z\n\
         credit-risk,1.0,psi,0.41,2026-11-01T12:00:00Z\n",
    )
    .unwrap();

    ana(
        &mut run,
        &[
            "init",
            "--org",
            ORG,
            "--email",
            ADMIN,
            "--name",
            "Ana Admin",
        ],
    );
    ana(
        &mut run,
        &[
            "member",
            "add",
            BOB,
            "--name",
            BOB_NAME,
            "--role",
            "validator,approver",
            "--new-passphrase-file",
            bobpass.to_str().unwrap(),
        ],
    );
    ana(
        &mut run,
        &[
            "model",
            "add",
            "credit-risk",
            "--version",
            "1.0",
            "--owner",
            ADMIN,
            "--use",
            USE,
            "--function",
            "Lending",
            "--tier",
            "high",
            "--regulated",
        ],
    );
    ana(
        &mut run,
        &[
            "model",
            "rights",
            "credit-risk",
            "--alerts",
            ADMIN,
            "--validator",
            BOB,
            "--rollback",
            ADMIN,
            "--approver",
            BOB,
        ],
    );
    ana(
        &mut run,
        &[
            "threshold",
            "set",
            "credit-risk",
            "psi",
            "--breach",
            "0.25",
            "--warn",
            "0.1",
        ],
    );
    bob(
        &mut run,
        &[
            "approve",
            "credit-risk",
            "--until",
            "2027-03-01",
            "--note",
            NOTE,
        ],
    );
    let r = ana(&mut run, &["ingest", csv.to_str().unwrap(), "--json"]);
    let id = r.json()["opened"][0].as_i64().unwrap().to_string();
    bob(
        &mut run,
        &[
            "exception",
            "validate",
            &id,
            "--confirm",
            "--reason",
            REASON,
        ],
    );
    ana(
        &mut run,
        &[
            "exception",
            "decide",
            &id,
            "--disposition",
            "retrain",
            "--rationale",
            RATIONALE,
            "--follow-up",
            "2026-12-15",
        ],
    );
    bob(&mut run, &["exception", "cosign", &id]);
    ana(
        &mut run,
        &[
            "nhi",
            "add",
            "svc-scoring",
            "--kind",
            "service-account",
            "--system",
            NHI_SYSTEM,
            "--owner",
            ADMIN,
            "--rotation-days",
            "90",
            "--scope",
            NHI_SCOPE,
        ],
    );
    ana(&mut run, &["log", "verify"]);
    bob(&mut run, &["log", "verify"]);
    let pack = env.tmp.path().join("pack");
    ana(&mut run, &["pack", "--out", pack.to_str().unwrap()]);
    let backup = env.tmp.path().join("backups").join("registry.backup");
    std::fs::create_dir_all(backup.parent().unwrap()).unwrap();
    ana(&mut run, &["backup", "--out", backup.to_str().unwrap()]);
    // What the CLI shows a member holds the markers: they were written and are readable.
    let shown = ana(&mut run, &["exception", "show", &id]).stdout;
    assert!(
        shown.contains(RATIONALE) && shown.contains(REASON),
        "{shown}"
    );

    let passphrases = [ADMIN_PASS, BOB_PASS];
    let markers = [
        ORG, BOB_NAME, USE, NOTE, REASON, RATIONALE, NHI_SCOPE, NHI_SYSTEM, MARK, ADMIN, BOB,
    ];
    let mut searched = 0usize;
    let mut bytes = 0usize;
    // Everything under HOME: registry, backup, state, TMPDIR, pack.
    let mut files = Vec::new();
    files_under(env.tmp.path(), &mut files);
    assert!(files.iter().any(|(p, _)| p.starts_with(&state)), "state");
    assert!(files.iter().any(|(p, _)| *p == backup), "backup");
    assert!(
        files.iter().any(|(p, _)| p.starts_with(&env.dir)),
        "registry"
    );
    for (path, data) in &files {
        searched += 1;
        bytes += data.len();
        for p in passphrases {
            assert!(!contains(data, p), "{} holds a passphrase", path.display());
        }
        if path.starts_with(&pack) {
            continue;
        }
        for m in markers {
            assert!(!contains(data, m), "{} holds {m:?}", path.display());
        }
    }
    // The pack, which is plaintext by design, does hold the free text: the search can find it.
    let mut pack_files = Vec::new();
    files_under(&pack, &mut pack_files);
    assert!(pack_files.iter().any(|(_, d)| contains(d, RATIONALE)));
    // Logs: no command printed a passphrase, even at trace level.
    for log in &logs {
        for p in passphrases {
            assert!(!log.contains(p), "a log holds a passphrase: {log}");
        }
    }
    eprintln!(
        "no secrets at rest: {searched} files ({bytes} bytes) and {} command logs searched for 2 passphrases and {} markers: 0 hits",
        logs.len(),
        markers.len()
    );
}
