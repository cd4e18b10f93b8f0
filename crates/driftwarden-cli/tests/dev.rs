//! `driftwarden dev seed`: a synthetic registry built through the real operations.

use crate::common::*;

#[test]
fn seed_builds_a_registry_that_verifies() {
    let mut env = Env::new();
    env.now = Some("2026-11-27T12:00:00Z".into());
    let pass = "seeded registry passphrase";
    let r = env
        .run_as(
            "admin@seed.example",
            pass,
            &[
                "dev",
                "seed",
                "--models",
                "20",
                "--nhis",
                "50",
                "--measurements",
                "2000",
                "--events",
                "500",
                "--json",
                "--quiet",
            ],
        )
        .ok();
    let j = r.json();
    assert_eq!(j["models"], 20, "{j}");
    assert_eq!(j["nhis"], 50, "{j}");
    assert_eq!(j["measurements"], 2000, "{j}");
    assert_eq!(j["members"], 8, "{j}");
    assert!(j["events"].as_i64().unwrap() >= 500, "{j}");
    assert!(j["exceptions"].as_i64().unwrap() > 0, "{j}");
    let states = j["exception_states"].as_object().unwrap();
    assert!(states.len() >= 3, "several exception states: {j}");
    assert!(j["approvals"].as_i64().unwrap() > 20, "{j}");

    // The registry opens as any seeded member and its chain verifies.
    let v = env
        .run_as("admin@seed.example", pass, &["log", "verify", "--json"])
        .ok()
        .json();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["events"], j["events"], "{v}");
    let models = env
        .run_as("val1@seed.example", pass, &["model", "list", "--json"])
        .ok()
        .json();
    assert_eq!(models.as_array().unwrap().len(), 20);
    let m = env
        .run_as(
            "admin@seed.example",
            pass,
            &["measurements", "model-00000", "--json"],
        )
        .ok()
        .json();
    assert_eq!(
        m.as_array().unwrap().len(),
        100,
        "the hot model has a twentieth"
    );

    // A registry folder that is not empty is refused.
    env.run_as(
        "admin@seed.example",
        pass,
        &["dev", "seed", "--models", "1"],
    )
    .fails();
}
