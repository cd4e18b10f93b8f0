//! Crash safety: the real CLI is killed with SIGKILL at random points while importing; the
//! registry must always open, pass SQLite's and SQLCipher's integrity checks, verify its audit
//! chain, and hold the import entirely or not at all. `DRIFTWARDEN_CRASH_RUNS` sets the number of
//! kills (50 in `make test`; the long run uses 1,000).

use std::io::Write;
use std::time::Duration;

use crate::common::*;

const ROWS: usize = 10_000;

fn check_registry(env: &Env, imported_rows: &mut Vec<usize>) {
    let conn = env.raw_db();
    let v = driftwarden_core::audit::verify(&conn).unwrap();
    assert!(v.ok, "{v:?}");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM measurements", [], |r| r.get(0))
        .unwrap();
    let imports: i64 = conn
        .query_row("SELECT count(*) FROM imports", [], |r| r.get(0))
        .unwrap();
    let n = n as usize;
    assert_eq!(
        n,
        imports as usize * ROWS,
        "an import is all or nothing, found {n} rows"
    );
    imported_rows.push(n / ROWS);
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let mut st = conn.prepare("PRAGMA cipher_integrity_check").unwrap();
    let problems: Vec<String> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn sigkill_during_import_leaves_it_all_or_nothing() {
    let runs: usize = std::env::var("DRIFTWARDEN_CRASH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let env = Env::with_model();
    env.run(&[
        "threshold",
        "set",
        "credit-risk",
        "psi",
        "--breach",
        "0.25",
        "--warn",
        "0.1",
    ])
    .ok();
    let path = env.tmp.path().join("m.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "model,version,metric,value,observed_at").unwrap();
    for i in 0..ROWS {
        writeln!(
            f,
            "credit-risk,1.0,psi,0.{},2026-11-01T{:02}:{:02}:00Z",
            i % 40,
            (i / 60) % 24,
            i % 60
        )
        .unwrap();
    }
    drop(f);
    // How long a whole import takes here, to spread the kills over it.
    let start = std::time::Instant::now();
    env.run(&["ingest", path.to_str().unwrap()]).ok();
    let full = start.elapsed().as_millis() as u64;
    eprintln!("one import takes {full} ms here");
    let mut seed: u64 = 0x9E3779B97F4A7C15;
    let mut outcomes = Vec::new();
    for _ in 0..runs {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let wait = (seed >> 33) % (full + full / 5 + 1);
        let mut child = env
            .cmd(ADMIN, ADMIN_PASS)
            .args(["ingest", path.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(wait));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        check_registry(&env, &mut outcomes);
    }
    // Some kills landed before the commit and some after (the import count went up).
    let last = *outcomes.last().unwrap();
    assert!(last >= 1 && last <= runs + 1);
    eprintln!("{runs} kills survived; imports completed: {}", last - 1);
    // The registry still opens and verifies through the real CLI.
    env.run(&["log", "verify"]).ok();
}

#[test]
fn a_stop_at_any_point_of_offboarding_leaves_the_old_or_the_new_key_set() {
    for point in [
        "offboard:after-pending-slots",
        "offboard:after-rekey",
        "offboard:after-record",
        "offboard:after-rename",
    ] {
        let env = Env::with_model();
        let r = env
            .cmd(ADMIN, ADMIN_PASS)
            .env("DRIFTWARDEN_FAULT", point)
            .args(["member", "offboard", BOB, "--reason", "left"])
            .output()
            .unwrap();
        assert!(
            !r.status.success(),
            "{point}: the fault stopped the process"
        );
        // The admin always opens it; Bob's passphrase opens it only while the old key set stands.
        let v = env.run(&["log", "verify", "--json"]).ok().json();
        assert_eq!(v["ok"], true, "{point}");
        let bob = env.run_as(BOB, BOB_PASS, &["status"]);
        let offboarded =
            env.run(&["member", "show", BOB, "--json"]).ok().json()["status"] == "offboarded";
        if offboarded {
            assert_ne!(bob.code, 0, "{point}: once recorded, Bob is out");
        }
        // Running the offboarding again completes it.
        if !offboarded {
            env.run(&["member", "offboard", BOB, "--reason", "left"])
                .ok();
        }
        env.run_as(BOB, BOB_PASS, &["status"]).fails();
        env.run(&["status"]).ok();
    }
}
