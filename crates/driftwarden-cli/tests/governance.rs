//! The governance workflow through the real CLI binary.

use std::io::Write;

use crate::common::*;

fn csv(env: &Env, name: &str, rows: &[(f64, &str)]) -> String {
    let path = env.tmp.path().join(name);
    let mut text = String::from("model,version,metric,value,observed_at\n");
    for (v, at) in rows {
        text.push_str(&format!("credit-risk,1.0,psi,{v},{at}\n"));
    }
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn as_bob(env: &Env, args: &[&str]) -> Run {
    env.run_as(BOB, BOB_PASS, args)
}

#[test]
fn scenario_approve_breach_recover_decide_cosign_rebreach() {
    let mut env = Env::with_model();
    env.now = Some("2026-11-02T09:00:00Z".into());
    // The gate refuses, listing what is missing, until a threshold exists.
    let r = as_bob(&env, &["approve", "credit-risk", "--until", "2027-03-01"]).fails();
    assert!(
        r.stderr.contains("missing a drift threshold"),
        "{}",
        r.stderr
    );
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
    let gate = env
        .run(&[
            "model",
            "gate",
            "credit-risk",
            "--until",
            "2027-03-01",
            "--json",
        ])
        .ok()
        .json();
    assert!(gate.as_array().unwrap().iter().all(|g| g["ok"] == true));
    let a = as_bob(
        &env,
        &[
            "approve",
            "credit-risk",
            "--until",
            "2027-03-01",
            "--note",
            "Q4",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(a["signoffs"][0]["valid"], true);
    let show = env.run(&["model", "show", "credit-risk"]).ok();
    assert!(
        show.stdout.contains("approved")
            && show.stdout.contains("approval by bob@acme.test")
            && show.stdout.contains(": valid"),
        "{}",
        show.stdout
    );

    let f = csv(
        &env,
        "m1.csv",
        &[
            (0.05, "2026-11-01T00:00:00Z"),
            (0.15, "2026-11-01T06:00:00Z"),
            (0.31, "2026-11-01T12:00:00Z"),
        ],
    );
    let r = env.run(&["ingest", &f, "--json"]).ok().json();
    assert_eq!(
        (
            r["rows"].as_i64(),
            r["breaches"].as_i64(),
            r["notices"].as_i64()
        ),
        (Some(3), Some(1), Some(1))
    );
    let id = r["opened"][0].as_i64().unwrap().to_string();
    let ex = env
        .run(&["exceptions", "--state", "opened", "--json"])
        .ok()
        .json();
    assert_eq!(ex.as_array().unwrap().len(), 1);

    let f = csv(&env, "m2.csv", &[(0.07, "2026-11-02T00:00:00Z")]);
    env.run(&["ingest", &f]).ok();
    let e = env.run(&["exception", "show", &id, "--json"]).ok().json();
    assert_eq!(e["state"], "recovered");
    assert!(e["closed_at"].is_null());

    as_bob(
        &env,
        &[
            "exception",
            "validate",
            &id,
            "--confirm",
            "--reason",
            "applicant mix shifted",
        ],
    )
    .ok();
    env.run(&[
        "exception",
        "decide",
        &id,
        "--disposition",
        "retrain",
        "--rationale",
        "Retrain on October data",
        "--follow-up",
        "2026-12-15",
    ])
    .ok();
    let e = env.run(&["exception", "show", &id, "--json"]).ok().json();
    assert_eq!(e["state"], "decided", "regulated: waits for the co-sign");
    as_bob(&env, &["exception", "cosign", &id]).ok();
    let e = env.run(&["exception", "show", &id, "--json"]).ok().json();
    assert_eq!(e["state"], "closed");
    assert_eq!(
        e["signoffs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["valid"].as_bool().unwrap())
            .collect::<Vec<_>>(),
        [true, true]
    );
    let human = env.run(&["exception", "show", &id]).ok().stdout;
    assert!(
        human.contains("disposition by ana@acme.test") && human.contains("cosign by bob@acme.test"),
        "{human}"
    );

    env.now = Some("2026-12-01T09:00:00Z".into());
    let f = csv(&env, "m3.csv", &[(0.4, "2026-12-01T00:00:00Z")]);
    let r = env.run(&["ingest", &f, "--json"]).ok().json();
    let new_id = r["opened"][0].as_i64().unwrap();
    assert_eq!(r["rebreaches"], serde_json::json!([new_id]));
    let e2 = env
        .run(&["exception", "show", &new_id.to_string(), "--json"])
        .ok()
        .json();
    assert_eq!(e2["rebreach"], true);
    assert_eq!(
        e2["linked_exceptions"],
        serde_json::json!([id.parse::<i64>().unwrap()])
    );
    env.run(&["log", "verify"]).ok();
}

#[test]
fn refusals_through_the_cli() {
    let mut env = Env::with_model();
    env.now = Some("2026-11-02T09:00:00Z".into());
    env.run(&["threshold", "set", "credit-risk", "psi", "--breach", "0.25"])
        .ok();
    // Only the business approver approves.
    let r = env
        .run(&["approve", "credit-risk", "--until", "2027-03-01"])
        .fails();
    assert_eq!(r.code, 3);
    as_bob(&env, &["approve", "credit-risk", "--until", "2027-03-01"]).ok();
    let f = csv(&env, "m.csv", &[(0.5, "2026-11-02T00:00:00Z")]);
    let id = env.run(&["ingest", &f, "--json"]).ok().json()["opened"][0]
        .as_i64()
        .unwrap()
        .to_string();

    // Dismiss without a reason; decide before confirmation; decide by someone not the owner;
    // co-sign before a decision.
    let r = as_bob(&env, &["exception", "validate", &id, "--dismiss"]).fails();
    assert!(r.stderr.contains("reason: is required"), "{}", r.stderr);
    let r = env
        .run(&[
            "exception",
            "decide",
            &id,
            "--disposition",
            "keep",
            "--rationale",
            "fine",
        ])
        .fails();
    assert!(r.stderr.contains("that is opened"), "{}", r.stderr);
    as_bob(&env, &["exception", "validate", &id, "--confirm"]).ok();
    let r = as_bob(
        &env,
        &[
            "exception",
            "decide",
            &id,
            "--disposition",
            "keep",
            "--rationale",
            "fine",
        ],
    )
    .fails();
    assert!(r.stderr.contains("accountable owner"), "{}", r.stderr);
    let r = as_bob(&env, &["exception", "cosign", &id]).fails();
    assert!(r.stderr.contains("no decided disposition"), "{}", r.stderr);
    let r = env
        .run(&[
            "exception",
            "decide",
            &id,
            "--disposition",
            "shrug",
            "--rationale",
            "x",
        ])
        .fails();
    assert!(r.stderr.contains("disposition:"), "{}", r.stderr);
    // Regulated model: deciding does not close it; only the approver's co-sign does.
    env.run(&[
        "exception",
        "decide",
        &id,
        "--disposition",
        "keep",
        "--rationale",
        "Within appetite",
    ])
    .ok();
    let r = env.run(&["exception", "cosign", &id]).fails();
    assert!(r.stderr.contains("business approver"), "{}", r.stderr);
    assert_eq!(
        env.run(&["exception", "show", &id, "--json"]).ok().json()["state"],
        "decided"
    );
}

#[test]
fn sweep_with_the_clock_moved_past_deadlines_and_expiry() {
    let mut env = Env::with_model();
    env.now = Some("2026-11-02T09:00:00Z".into());
    env.run(&["threshold", "set", "credit-risk", "psi", "--breach", "0.25"])
        .ok();
    as_bob(&env, &["approve", "credit-risk", "--until", "2026-12-15"]).ok();
    let f = csv(&env, "m.csv", &[(0.5, "2026-11-02T00:00:00Z")]);
    let id = env.run(&["ingest", &f, "--json"]).ok().json()["opened"][0]
        .as_i64()
        .unwrap();

    env.now = Some("2026-11-05T09:00:00Z".into());
    let r = env.run(&["sweep", "--json"]).ok().json();
    assert_eq!(r["escalated"][0]["exception_id"], id);
    assert!(r["escalated"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("validation deadline 2026-11-04 missed"));
    let e = env
        .run(&["exception", "show", &id.to_string(), "--json"])
        .ok()
        .json();
    assert_eq!(e["state"], "escalated");
    assert_eq!(e["escalations"][0]["routed_to"], BOB);

    env.now = Some("2026-12-15T09:00:00Z".into());
    let r = env.run(&["sweep", "--json"]).ok().json();
    assert_eq!(r["lapsed"].as_array().unwrap().len(), 1, "{r}");
    let lapsed = env.run(&["exceptions", "--json"]).ok().json();
    assert!(lapsed
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "lapsed-approval"));
    let m = env
        .run(&["model", "show", "credit-risk", "--json"])
        .ok()
        .json();
    assert_eq!(m["approval_status"], "lapsed");
    let log = env.run(&["log", "show", "--json"]).ok().json();
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["operation"] == "approval.lapse"));
    env.run(&["log", "verify"]).ok();
}

#[test]
fn evidently_report_ingests_through_the_cli() {
    let env = Env::with_model();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/drift/evidently-report.json"
    );
    let r = env
        .run(&[
            "ingest",
            path,
            "--format",
            "evidently",
            "--model",
            "credit-risk",
            "--version",
            "1.0",
            "--observed-at",
            "2026-11-02T08:00:00Z",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(r["rows"], 22);
    let ms = env
        .run(&[
            "measurements",
            "credit-risk",
            "--metric",
            "drift:num_02",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(ms[0]["value"].as_f64().unwrap(), 0.4002499865545562);
}

#[test]
fn a_bad_row_at_line_500000_imports_nothing_and_names_the_line() {
    let env = Env::with_model();
    env.run(&["threshold", "set", "credit-risk", "psi", "--breach", "0.25"])
        .ok();
    let path = env.tmp.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "model,version,metric,value,observed_at").unwrap();
    // Line 1 is the header; data row n is on line n + 1.
    for line in 2..=500_100u32 {
        if line == 500_000 {
            writeln!(f, "credit-risk,1.0,psi,0.1O,2026-11-01T00:00:00Z").unwrap();
        } else {
            writeln!(
                f,
                "credit-risk,1.0,psi,0.{},2026-11-01T00:00:00Z",
                line % 90
            )
            .unwrap();
        }
    }
    drop(f);
    let r = env.run(&["ingest", path.to_str().unwrap()]).fails();
    assert!(
        r.stderr.contains("line 500000") && r.stderr.contains("value:"),
        "{}",
        r.stderr
    );
    assert_eq!(
        env.run(&["measurements", "credit-risk", "--json"])
            .ok()
            .json(),
        serde_json::json!([])
    );
    assert_eq!(
        env.run(&["exceptions", "--json"]).ok().json(),
        serde_json::json!([])
    );
}
