//! The shared fixtures: every metric of `expected-peers.json`, and every method, threshold,
//! score, drift flag and dataset figure of `expected-evidently-{default,psi}.json` and of
//! Evidently's own report export. All expected values are read from the fixture files.

use driftwarden_drift::{drift_files, ColumnDrift, ColumnKind, DriftOptions, DriftReport, Method};
use serde_json::Value;

use crate::common::*;

fn run(set: &str, method: Method) -> DriftReport {
    let opts = DriftOptions {
        method,
        ..DriftOptions::default()
    };
    drift_files(
        &fixture(&format!("{set}/reference.csv")),
        &fixture(&format!("{set}/current.csv")),
        &opts,
    )
    .unwrap_or_else(|e| panic!("{set}: {e}"))
}

fn column<'a>(report: &'a DriftReport, name: &str) -> &'a ColumnDrift {
    report
        .columns
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name} in the report"))
}

/// Our value of a metric named as in `expected-peers.json`.
fn metric(c: &ColumnDrift, key: &str) -> Option<f64> {
    let m = &c.metrics;
    match key {
        "ks_stat" => m.ks_stat,
        "ks_pvalue" => m.ks_pvalue,
        "wasserstein" => m.wasserstein,
        "wasserstein_norm" => m.wasserstein_norm,
        "psi" => m.psi,
        "psi_q10ref" => m.psi_q10ref,
        "jensenshannon" => m.jensenshannon,
        "chisquare_stat" => m.chisquare_stat,
        "chisquare_pvalue" => m.chisquare_pvalue,
        "z_pvalue" => m.z_pvalue,
        "hist_n_bins" => m.hist_n_bins.map(|n| n as f64),
        "n_categories" => m.n_categories.map(|n| n as f64),
        other => panic!("the fixture has a metric this test does not know: {other}"),
    }
}

/// The expected-peers.json name of a method's score.
fn score_key(method: &str) -> &'static str {
    match method {
        "wasserstein" => "wasserstein_norm",
        "jensenshannon" => "jensenshannon",
        "psi" => "psi",
        "ks" => "ks_pvalue",
        "chisquare" => "chisquare_pvalue",
        "z" => "z_pvalue",
        other => panic!("unknown method in the fixture: {other}"),
    }
}

fn check_peers(set: &str) {
    let report = run(set, Method::Auto);
    let expected = json(&format!("{set}/expected-peers.json"));
    let expected = expected.as_object().unwrap();
    assert_eq!(report.columns.len(), expected.len());
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut worst: std::collections::BTreeMap<String, f64> = Default::default();
    // (serde_json's map is ordered by key, so columns are matched by name.)
    for (name, metrics) in expected {
        let ours = column(&report, name);
        for (key, value) in metrics.as_object().unwrap() {
            let want = num(value);
            compared += 1;
            match metric(ours, key) {
                None => failures.push(format!("{name}.{key}: not computed (expected {want})")),
                Some(got) => {
                    let ok = if key == "hist_n_bins" || key == "n_categories" {
                        got == want
                    } else {
                        matches(key, got, want)
                    };
                    let rel = if got == want {
                        0.0
                    } else {
                        ((got - want) / want).abs()
                    };
                    let w = worst.entry(key.clone()).or_default();
                    *w = w.max(rel);
                    if !ok {
                        failures.push(format!(
                            "{name}.{key}: {got:e} vs expected {want:e} (rel {:e})",
                            ((got - want) / want).abs()
                        ));
                    }
                }
            }
        }
    }
    assert!(compared > 100, "{set}: only {compared} values compared");
    println!("{set}: largest relative differences {worst:?}");
    assert!(failures.is_empty(), "{set}:\n{}", failures.join("\n"));
}

fn check_evidently(set: &str, config: &str, method: Method) {
    let report = run(set, method);
    let expected = json(&format!("{set}/expected-evidently-{config}.json"));
    let expected = expected.as_object().unwrap();
    let mut failures = Vec::new();
    let mut columns = 0;
    for (name, e) in expected {
        if name == "__dataset__" {
            continue;
        }
        columns += 1;
        let c = column(&report, name);
        let kind = match e["column_type"].as_str().unwrap() {
            "numerical" => ColumnKind::Numeric,
            "categorical" => ColumnKind::Categorical,
            other => panic!("column_type {other}"),
        };
        let method = e["method"].as_str().unwrap();
        let key = score_key(method);
        let checks = [
            ("column_type", c.kind == kind),
            ("method", c.method.name() == method),
            (
                "method_display_name",
                c.method.display_name() == e["method_display_name"].as_str().unwrap(),
            ),
            ("threshold", c.threshold == num(&e["threshold"])),
            (
                "drift_rule",
                c.method.rule() == e["drift_rule"].as_str().unwrap(),
            ),
            ("drifted", c.drifted == e["drifted"].as_bool().unwrap()),
            ("score", matches(key, c.score, num(&e["score"]))),
            (
                key,
                matches(key, metric(c, key).unwrap_or(f64::NAN), num(&e[key])),
            ),
            (
                "n_reference",
                c.n_reference == e["n_reference"].as_u64().unwrap(),
            ),
            ("n_current", c.n_current == e["n_current"].as_u64().unwrap()),
        ];
        for (what, ok) in checks {
            if !ok {
                failures.push(format!(
                    "{name}.{what}: ours {} {} {} (threshold {}, drifted {}), expected {}",
                    c.kind.as_str(),
                    c.method.name(),
                    c.score,
                    c.threshold,
                    c.drifted,
                    e
                ));
            }
        }
    }
    assert_eq!(
        columns,
        report.columns.len(),
        "{set}/{config}: column count"
    );
    let d = &expected["__dataset__"];
    let dataset = [
        (
            "rows_reference",
            report.rows_reference == d["rows_reference"].as_u64().unwrap(),
        ),
        (
            "rows_current",
            report.rows_current == d["rows_current"].as_u64().unwrap(),
        ),
        (
            "number_of_columns",
            report.columns.len() as u64 == d["number_of_columns"].as_u64().unwrap(),
        ),
        (
            "number_of_drifted_columns",
            report.number_drifted as u64 == d["number_of_drifted_columns"].as_u64().unwrap(),
        ),
        (
            "share_of_drifted_columns",
            close(
                report.share_drifted,
                num(&d["share_of_drifted_columns"]),
                1e-12,
            ),
        ),
        ("drift_share", report.drift_share == num(&d["drift_share"])),
        (
            "dataset_drift",
            report.dataset_drifted == d["dataset_drift"].as_bool().unwrap(),
        ),
    ];
    for (what, ok) in dataset {
        if !ok {
            failures.push(format!(
                "__dataset__.{what}: ours {} drifted of {} (share {}, dataset {}), expected {d}",
                report.number_drifted,
                report.columns.len(),
                report.share_drifted,
                report.dataset_drifted
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{set}/{config}:\n{}",
        failures.join("\n")
    );
}

#[test]
fn basic_every_peer_metric() {
    check_peers("basic");
}

#[test]
fn small_reference_every_peer_metric() {
    check_peers("small-reference");
}

#[test]
fn basic_matches_evidently_default_preset() {
    check_evidently("basic", "default", Method::Auto);
}

#[test]
fn small_reference_matches_evidently_default_preset() {
    check_evidently("small-reference", "default", Method::Auto);
}

#[test]
fn basic_matches_evidently_psi_preset() {
    check_evidently("basic", "psi", Method::Psi);
}

#[test]
fn small_reference_matches_evidently_psi_preset() {
    check_evidently("small-reference", "psi", Method::Psi);
}

/// Evidently's own export of `Report([DataDriftPreset()])` on `basic/`, unchanged.
#[test]
fn basic_matches_evidentlys_own_report_export() {
    let report = run("basic", Method::Auto);
    let export = json("evidently-report.json");
    let metrics = export["metrics"].as_array().unwrap();
    let count = &metrics[0];
    assert!(count["config"]["type"]
        .as_str()
        .unwrap()
        .ends_with(":DriftedColumnsCount"));
    assert_eq!(report.number_drifted as f64, num(&count["value"]["count"]));
    assert_eq!(report.share_drifted, num(&count["value"]["share"]));
    assert_eq!(report.drift_share, num(&count["config"]["drift_share"]));
    let drifts: Vec<&Value> = metrics[1..].iter().collect();
    assert_eq!(drifts.len(), report.columns.len());
    for m in drifts {
        let cfg = &m["config"];
        let c = column(&report, cfg["column"].as_str().unwrap());
        assert_eq!(
            c.method.display_name(),
            cfg["method"].as_str().unwrap(),
            "{}",
            c.name
        );
        assert_eq!(c.threshold, num(&cfg["threshold"]), "{}", c.name);
        let key = score_key(c.method.name());
        assert!(
            matches(key, c.score, num(&m["value"])),
            "{}: {} vs {}",
            c.name,
            c.score,
            m["value"]
        );
    }
}
