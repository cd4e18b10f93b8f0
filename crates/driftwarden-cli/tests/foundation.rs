//! The foundation, through the CLI: init, members, models, rights, thresholds, NHIs, the log.

use crate::common::*;

#[test]
fn scenario_registry_models_nhis_and_json_listings() {
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
    env.run(&[
        "threshold",
        "set",
        "credit-risk",
        "auc",
        "--breach",
        "0.7",
        "--warn",
        "0.75",
        "--direction",
        "below",
    ])
    .ok();
    env.run(&[
        "nhi",
        "add",
        "svc-scoring",
        "--kind",
        "service-account",
        "--system",
        "GCP",
        "--owner",
        ADMIN,
        "--rotation-days",
        "90",
        "--last-rotated",
        "2026-10-01",
        "--expires",
        "2027-06-30",
        "--env",
        "prod",
        "--scope",
        "read:features",
    ])
    .ok();
    env.run(&[
        "nhi",
        "link",
        "svc-scoring",
        "credit-risk",
        "--usage",
        "reads features at scoring time",
    ])
    .ok();

    let models = env.run(&["model", "list", "--json"]).ok().json();
    let arr = models.as_array().expect("a listing is an array");
    assert_eq!(arr.len(), 1);
    assert!(arr[0]["id"].is_i64());
    assert_eq!(arr[0]["display_name"], "credit-risk");
    assert_eq!(arr[0]["risk_tier"], "high");
    assert_eq!(arr[0]["regulated"], true);

    let show = env
        .run(&["model", "show", "credit-risk", "--json"])
        .ok()
        .json();
    assert!(show.is_object() && show["id"].is_i64());
    assert_eq!(show["decision_rights"]["validator"], BOB);
    assert_eq!(
        show["decision_rights"]["alert_recipients"],
        serde_json::json!([ADMIN, BOB])
    );
    assert_eq!(show["thresholds"].as_array().unwrap().len(), 2);
    assert_eq!(show["nhis"][0]["nhi"], "svc-scoring");

    let th = env
        .run(&["threshold", "list", "credit-risk", "--json"])
        .ok()
        .json();
    let auc = th
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["metric"] == "auc")
        .unwrap();
    assert_eq!(
        (
            auc["direction"].as_str(),
            auc["status"].as_str(),
            auc["breach"].as_f64()
        ),
        (Some("below"), Some("proposed"), Some(0.7))
    );

    let nhis = env.run(&["nhi", "list", "--json"]).ok().json();
    assert_eq!(nhis[0]["linked_models"], serde_json::json!(["credit-risk"]));
    assert!(nhis[0]["id"].is_i64());
    let nhi = env
        .run(&["nhi", "show", "svc-scoring", "--json"])
        .ok()
        .json();
    assert_eq!(nhi["links"][0]["usage"], "reads features at scoring time");

    let members = env.run(&["member", "list", "--json"]).ok().json();
    assert_eq!(members.as_array().unwrap().len(), 2);
    assert!(members[0]["id"].is_i64());
    assert!(members[0].get("passphrase").is_none());

    let log = env.run(&["log", "show", "--json"]).ok().json();
    let ops: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        [
            "registry.create",
            "member.add",
            "member.add",
            "model.register",
            "model.rights",
            "threshold.propose",
            "threshold.propose",
            "nhi.add",
            "nhi.link"
        ]
    );
    assert!(log[0]["id"].is_i64());
    let human = env.run(&["model", "list"]).ok();
    assert!(human.stdout.contains("credit-risk") && human.stdout.contains("MODEL"));
    let v = env.run(&["log", "verify", "--json"]).ok().json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["events"], 9);
}

#[test]
fn wrong_passphrase_exits_non_zero_and_changes_no_byte() {
    let env = Env::with_model();
    let before = env.files();
    let r = env
        .run_as(ADMIN, "definitely wrong", &["model", "list"])
        .fails();
    assert!(r.stderr.contains("wrong passphrase"), "{}", r.stderr);
    assert!(!r.stderr.contains("definitely wrong"));
    assert_eq!(env.files(), before);
    // Passphrase from a file works the same way as from the environment.
    let file = env.passfile(ADMIN_PASS);
    let out = env
        .cmd(ADMIN, "")
        .env_remove("DRIFTWARDEN_PASSPHRASE")
        .args([
            "--passphrase-file",
            file.to_str().unwrap(),
            "status",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["member"]["email"], ADMIN);
    assert_eq!(s["org"], "Acme Bank");
}

#[test]
fn offboarded_members_passphrase_no_longer_opens_the_registry() {
    let env = Env::with_model();
    env.run_as(BOB, BOB_PASS, &["status"]).ok();
    let slot = driftwarden_core::keys::slot_path(&env.dir, BOB);
    let old = std::fs::read(&slot).unwrap();
    env.run(&["member", "offboard", BOB, "--reason", "left the company"])
        .ok();
    env.run_as(BOB, BOB_PASS, &["status"]).fails();
    std::fs::write(&slot, old).unwrap();
    let r = env.run_as(BOB, BOB_PASS, &["status"]).fails();
    assert!(
        r.stderr.contains("does not open with this key"),
        "{}",
        r.stderr
    );
    let m = env.run(&["member", "show", BOB, "--json"]).ok().json();
    assert_eq!(m["status"], "offboarded");
    assert_eq!(m["offboard_reason"], "left the company");
}

#[test]
fn refusals_and_invalid_input_name_the_problem_and_change_nothing() {
    let env = Env::with_model();
    let before = env
        .run(&["log", "show", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len();
    let newpass = env.passfile("eve's long passphrase");
    let r = env
        .run_as(
            BOB,
            BOB_PASS,
            &[
                "member",
                "add",
                "eve@acme.test",
                "--name",
                "Eve",
                "--role",
                "admin",
                "--new-passphrase-file",
                newpass.to_str().unwrap(),
            ],
        )
        .fails();
    assert_eq!(r.code, 3);
    assert!(
        r.stderr.contains("not allowed") && r.stderr.contains("admin"),
        "{}",
        r.stderr
    );

    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "model",
                "add",
                "fraud",
                "--version",
                "1",
                "--owner",
                "ghost@acme.test",
                "--use",
                "u",
                "--function",
                "f",
                "--tier",
                "low",
            ],
            "owner:",
        ),
        (
            &[
                "model",
                "add",
                "credit-risk",
                "--version",
                "1.0",
                "--owner",
                ADMIN,
                "--use",
                "u",
                "--function",
                "f",
                "--tier",
                "low",
            ],
            "version:",
        ),
        (
            &[
                "model",
                "add",
                "fraud",
                "--version",
                "1",
                "--owner",
                ADMIN,
                "--use",
                "u",
                "--function",
                "f",
                "--tier",
                "extreme",
            ],
            "tier:",
        ),
        (
            &[
                "nhi",
                "add",
                "svc",
                "--kind",
                "token",
                "--system",
                "s",
                "--owner",
                ADMIN,
                "--rotation-days",
                "-5",
            ],
            "rotation_days:",
        ),
        (
            &[
                "nhi",
                "add",
                "svc",
                "--kind",
                "token",
                "--system",
                "s",
                "--owner",
                ADMIN,
                "--rotation-days",
                "5",
                "--expires",
                "31/12/2026",
            ],
            "expires:",
        ),
        (
            &[
                "nhi",
                "add",
                "svc",
                "--kind",
                "password",
                "--system",
                "s",
                "--owner",
                ADMIN,
                "--rotation-days",
                "5",
            ],
            "kind:",
        ),
        (
            &[
                "threshold",
                "set",
                "credit-risk",
                "psi",
                "--breach",
                "0.2",
                "--direction",
                "up",
            ],
            "direction:",
        ),
    ];
    for (args, field) in cases {
        let r = env.run(args).fails();
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(field), "{args:?}: {}", r.stderr);
    }
    let after = env
        .run(&["log", "show", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, before, "no event was recorded");
    assert_eq!(
        env.run(&["model", "list", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn log_verify_names_the_edited_sequence_number() {
    let env = Env::with_model();
    env.run(&["log", "verify"]).ok();
    let conn = env.raw_db();
    conn.execute(
        "UPDATE audit_events SET payload = '{\"name\":\"other\"}' WHERE seq = 4",
        [],
    )
    .unwrap();
    drop(conn);
    let r = env.run(&["log", "verify"]).fails();
    assert!(r.stderr.contains("sequence 4"), "{}", r.stderr);
}

#[test]
fn concurrent_writers_wait_for_each_other_and_never_corrupt_the_registry() {
    let env = Env::with_model();
    let children: Vec<_> = (0..4)
        .map(|w| {
            let mut script = String::new();
            for i in 0..5 {
                script.push_str(&format!(
                    "{bin} model add m-{w}-{i} --version 1 --owner {ADMIN} --use u --function f --tier low || exit 1\n",
                    bin = env!("CARGO_BIN_EXE_driftwarden")
                ));
            }
            let mut c = std::process::Command::new("sh");
            c.arg("-c").arg(script).env("DRIFTWARDEN_REGISTRY", &env.dir).env("DRIFTWARDEN_MEMBER", ADMIN)
                .env("DRIFTWARDEN_PASSPHRASE", ADMIN_PASS).env("HOME", env.tmp.path())
                .stdout(std::process::Stdio::null());
            c.spawn().unwrap()
        })
        .collect();
    for mut c in children {
        assert!(
            c.wait().unwrap().success(),
            "every writer got the lock in turn"
        );
    }
    let models = env.run(&["model", "list", "--json"]).ok().json();
    assert_eq!(models.as_array().unwrap().len(), 21);
    let v = env.run(&["log", "verify", "--json"]).ok().json();
    assert_eq!(v["ok"], true);
    let conn = env.raw_db();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn backup_and_restore_round_trip() {
    let env = Env::with_model();
    let file = env.tmp.path().join("registry.backup");
    env.run(&["backup", "--out", file.to_str().unwrap()]).ok();
    let bytes = std::fs::read(&file).unwrap();
    for needle in ["credit-risk", "Acme Bank", ADMIN, ADMIN_PASS] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} in the backup"
        );
    }
    env.run_as(
        BOB,
        BOB_PASS,
        &[
            "backup",
            "--out",
            env.tmp.path().join("x").to_str().unwrap(),
        ],
    )
    .fails();
    let restored = env.tmp.path().join("restored");
    env.run(&[
        "restore",
        file.to_str().unwrap(),
        "--to",
        restored.to_str().unwrap(),
    ])
    .ok();
    let out = env
        .cmd(ADMIN, ADMIN_PASS)
        .env("DRIFTWARDEN_REGISTRY", &restored)
        .args(["model", "list", "--json"])
        .output()
        .unwrap();
    let models: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(models[0]["name"], "credit-risk");
    let out = env
        .cmd(BOB, BOB_PASS)
        .env("DRIFTWARDEN_REGISTRY", &restored)
        .args(["log", "verify"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Not into a folder that holds something, and not from a file that is not a backup.
    env.run(&[
        "restore",
        file.to_str().unwrap(),
        "--to",
        restored.to_str().unwrap(),
    ])
    .fails();
    let junk = env.tmp.path().join("junk");
    std::fs::write(&junk, b"not a tar").unwrap();
    let r = env
        .run(&[
            "restore",
            junk.to_str().unwrap(),
            "--to",
            env.tmp.path().join("r2").to_str().unwrap(),
        ])
        .fails();
    assert!(
        r.stderr.contains("not a Driftwarden backup"),
        "{}",
        r.stderr
    );
}
