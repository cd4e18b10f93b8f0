//! `driftwarden drift` through the real binary, on the shared drift fixtures. Expected values are
//! read from the fixtures' expected files (Evidently 0.7.23 and scipy).

use serde_json::Value;

use crate::common::*;

fn fixture(rel: &str) -> String {
    format!(
        "{}/../../../shared/data/drift/{rel}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A fixture JSON file; Python's bare `Infinity` token becomes a string first.
fn expected(rel: &str) -> Value {
    let text = std::fs::read_to_string(fixture(rel)).unwrap();
    serde_json::from_str(&text.replace(": Infinity", ": \"Infinity\"")).unwrap()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs())
}

/// The fixtures README's rule: p-values 1e-6 relative (0 and 1 exactly), JS 1e-9 relative or
/// 1e-12 absolute, everything else 1e-9 relative.
fn matches(key: &str, ours: f64, want: f64) -> bool {
    match key {
        "ks_pvalue" | "chisquare_pvalue" | "z_pvalue" => {
            if want == 0.0 || want == 1.0 {
                ours == want
            } else {
                close(ours, want, 1e-6)
            }
        }
        "jensenshannon" => close(ours, want, 1e-9) || (ours - want).abs() <= 1e-12,
        _ => close(ours, want, 1e-9),
    }
}

fn drift_json(env: &Env, set: &str, extra: &[&str]) -> Value {
    let r = fixture(&format!("{set}/reference.csv"));
    let c = fixture(&format!("{set}/current.csv"));
    let mut args = vec!["drift", "--reference", &r, "--current", &c, "--json"];
    args.extend_from_slice(extra);
    env.run(&args).ok().json()
}

fn check(set: &str, config: &str, extra: &[&str]) {
    let env = Env::new();
    let out = drift_json(&env, set, extra);
    let ev = expected(&format!("{set}/expected-evidently-{config}.json"));
    let peers = expected(&format!("{set}/expected-peers.json"));
    let cols = out["columns"].as_object().unwrap();
    assert_eq!(
        cols.len(),
        ev.as_object().unwrap().len() - 1,
        "{set}: columns"
    );
    let mut metrics_checked = 0;
    for (name, e) in ev.as_object().unwrap() {
        if name == "__dataset__" {
            continue;
        }
        let c = &cols[name];
        let kind = if e["column_type"] == "numerical" {
            "numeric"
        } else {
            "categorical"
        };
        assert_eq!(c["kind"], kind, "{set}/{name}");
        assert_eq!(c["method"], e["method"], "{set}/{name}");
        assert_eq!(c["threshold"], e["threshold"], "{set}/{name}");
        assert_eq!(c["drifted"], e["drifted"], "{set}/{name}");
        assert_eq!(c["missing_reference"], 0, "{set}/{name}");
        assert_eq!(c["missing_current"], 0, "{set}/{name}");
        let key = match e["method"].as_str().unwrap() {
            "wasserstein" => "wasserstein_norm",
            "ks" => "ks_pvalue",
            "chisquare" => "chisquare_pvalue",
            other => other,
        };
        let score = c["score"].as_f64().unwrap();
        assert!(
            matches(key, score, e["score"].as_f64().unwrap()),
            "{set}/{name}: score {score} vs {}",
            e["score"]
        );
        // Every peer metric the JSON carries.
        for (k, want) in peers[name].as_object().unwrap() {
            if let Some(ours) = c["metrics"].get(k) {
                let want = want.as_f64().unwrap();
                assert!(
                    matches(k, ours.as_f64().unwrap(), want),
                    "{set}/{name}.{k}: {ours} vs {want}"
                );
                metrics_checked += 1;
            }
        }
    }
    assert!(metrics_checked >= 100, "{set}: {metrics_checked} metrics");
    let d = &ev["__dataset__"];
    assert_eq!(out["share_drifted"], d["share_of_drifted_columns"], "{set}");
    assert_eq!(out["dataset_drifted"], d["dataset_drift"], "{set}");
}

#[test]
fn drift_json_matches_evidently_and_scipy_on_basic() {
    check("basic", "default", &[]);
}

#[test]
fn drift_json_matches_evidently_and_scipy_on_small_reference() {
    check("small-reference", "default", &["--method", "auto"]);
}

#[test]
fn drift_method_psi_matches_evidentlys_psi_preset() {
    check("basic", "psi", &["--method", "psi"]);
}

#[test]
fn drift_table_and_errors() {
    let env = Env::new();
    let r = fixture("small-reference/reference.csv");
    let c = fixture("small-reference/current.csv");
    let out = env
        .run(&["drift", "--reference", &r, "--current", &c])
        .ok()
        .stdout;
    assert!(out.starts_with("COLUMN"), "{out}");
    assert!(out.contains("cat_5") && out.contains("chisquare"), "{out}");
    assert!(out.contains("Drift in 12 of 20 columns"), "{out}");

    // A malformed file: the error names the input, the file, the line and the column.
    let bad = env.tmp.path().join("bad.csv");
    let mut text = std::fs::read_to_string(&c).unwrap();
    let second_line_end = text.match_indices('\n').nth(2).unwrap().0;
    text.insert_str(second_line_end, ",extra");
    std::fs::write(&bad, text).unwrap();
    let e = env
        .run(&[
            "drift",
            "--reference",
            &r,
            "--current",
            bad.to_str().unwrap(),
        ])
        .fails();
    assert_eq!(e.code, 2);
    assert!(
        e.stderr.contains("current: ")
            && e.stderr.contains("bad.csv")
            && e.stderr.contains("line 3"),
        "{}",
        e.stderr
    );
    let e = env
        .run(&[
            "drift",
            "--reference",
            &r,
            "--current",
            &c,
            "--categorical",
            "no_such_column",
        ])
        .fails();
    assert!(e.stderr.contains("no_such_column"), "{}", e.stderr);
    let e = env
        .run(&["drift", "--reference", &r, "--current", &c, "--record"])
        .fails();
    assert!(e.stderr.contains("--model"), "{}", e.stderr);
}

#[test]
fn drift_record_opens_an_exception_through_the_threshold() {
    let env = Env::with_model();
    env.run(&[
        "threshold",
        "set",
        "credit-risk",
        "wasserstein:num_02",
        "--breach",
        "0.1",
    ])
    .ok();
    let out = drift_json(
        &env,
        "basic",
        &[
            "--model",
            "credit-risk",
            "--version",
            "1.0",
            "--record",
            "--observed-at",
            "2026-11-02T08:00:00Z",
        ],
    );
    let rec = &out["recorded"];
    // One measurement per column and the dataset share.
    assert_eq!(rec["rows"], 21, "{rec}");
    assert_eq!(rec["breaches"], 1, "{rec}");
    let opened = rec["opened"].as_array().unwrap();
    assert_eq!(opened.len(), 1, "{rec}");
    let ex = env.run(&["exceptions", "--json"]).ok().json();
    let ex = ex.as_array().unwrap();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0]["id"], opened[0]);
    assert_eq!(ex[0]["state"], "opened");
    // The stored value is the column's score, as Evidently computes it.
    let want = expected("basic/expected-evidently-default.json")["num_02"]["score"]
        .as_f64()
        .unwrap();
    let ms = env
        .run(&[
            "measurements",
            "credit-risk",
            "--metric",
            "wasserstein:num_02",
            "--json",
        ])
        .ok()
        .json();
    assert!(close(ms[0]["value"].as_f64().unwrap(), want, 1e-9), "{ms}");
    assert_eq!(ms[0]["observed_at"], "2026-11-02T08:00:00Z");
    let share = env
        .run(&[
            "measurements",
            "credit-risk",
            "--metric",
            "share_drifted_columns",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        share[0]["value"],
        expected("basic/expected-evidently-default.json")["__dataset__"]
            ["share_of_drifted_columns"]
    );
}
