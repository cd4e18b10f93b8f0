//! What a pack holds, and that an untouched pack verifies.

use driftwarden_core::{AuditEntry, PackScope};
use driftwarden_pack::{verify_pack, write_pack, PackError, TABLES};

use crate::common::*;

#[test]
fn a_pack_of_the_sample_registry_verifies() {
    let s = sample();
    let (dir, summary) = s.pack("verifies");
    let outcome = verify_pack(&dir);
    for c in &outcome.checks {
        println!("{c}");
    }
    assert!(outcome.ok, "{:?}", outcome.failures().collect::<Vec<_>>());
    let names: Vec<&str> = outcome.checks.iter().map(|c| c.name.as_str()).collect();
    for expected in [
        "manifest",
        "signer key",
        "manifest signature",
        "file report.pdf",
        "file audit-log.jsonl",
        "file set",
        "audit log",
        "sign-offs",
    ] {
        assert!(
            names.contains(&expected),
            "no {expected:?} check in {names:?}"
        );
    }
    // Every file on disk is either listed with a pass line, or the manifest and its signature.
    let listed: Vec<String> = files(&dir);
    for f in &listed {
        if f != "manifest.json" && f != "manifest.json.minisig" {
            assert!(
                names.contains(&format!("file {f}").as_str()),
                "{f} unchecked"
            );
        }
    }
    for t in TABLES {
        assert!(listed.contains(&format!("csv/{t}.csv")), "csv/{t}.csv");
        assert!(listed.contains(&format!("data/{t}.json")), "data/{t}.json");
    }
    for f in [
        "report.pdf",
        "audit-log.jsonl",
        "signer.pub",
        "README.txt",
        "data/pack.json",
    ] {
        assert!(listed.contains(&f.to_string()), "{f}");
    }
    assert_eq!(summary.files + 2, listed.len());
    assert_eq!(summary.models, s.data.models.len());
    assert_eq!(summary.signoffs, s.data.signoffs.len());
    assert!(summary.report_pages >= 2 + s.data.models.len());
    // The sign-offs are really there: approvals, dispositions and co-signs.
    for kind in ["approval", "disposition", "cosign"] {
        assert!(
            s.data.signoffs.iter().any(|x| x.kind == kind),
            "the sample has no {kind} sign-off"
        );
    }
    let so = outcome
        .checks
        .iter()
        .find(|c| c.name == "sign-offs")
        .unwrap();
    assert!(
        so.detail.starts_with(&format!(
            "{} of {}",
            s.data.signoffs.len(),
            s.data.signoffs.len()
        )),
        "{}",
        so.detail
    );
}

#[test]
fn the_manifest_lists_every_file_and_every_members_key() {
    let s = sample();
    let (dir, _) = s.pack("manifest");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["format"], "driftwarden-pack-v1");
    assert_eq!(m["exported_by"]["email"], DANA);
    assert_eq!(m["registry_id"], s.data.registry_id.as_str());
    let listed: Vec<String> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            let bytes = std::fs::read(dir.join(path)).unwrap();
            assert_eq!(f["size"].as_u64().unwrap(), bytes.len() as u64, "{path}");
            path.to_string()
        })
        .collect();
    let mut on_disk = files(&dir);
    on_disk.retain(|f| f != "manifest.json" && f != "manifest.json.minisig");
    assert_eq!(listed, on_disk);
    let members = m["members"].as_array().unwrap();
    assert_eq!(members.len(), s.data.members.len());
    for mv in &s.data.members {
        assert!(members.iter().any(|k| k["email"] == mv.email.as_str()
            && k["public_key"] == mv.signing_public_key.as_str()));
    }
    // signer.pub holds Dana's key.
    let dana = s.data.members.iter().find(|m| m.email == DANA).unwrap();
    let pubfile = std::fs::read_to_string(dir.join("signer.pub")).unwrap();
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(pubfile.lines().nth(1).unwrap())
        .unwrap();
    let pk = base64::engine::general_purpose::STANDARD
        .decode(&dana.signing_public_key)
        .unwrap();
    assert_eq!(&raw[..2], b"Ed");
    assert_eq!(&raw[10..], &pk[..]);
}

#[test]
fn the_csv_tables_parse_with_the_right_row_counts() {
    let s = sample();
    let (dir, _) = s.pack("csv");
    let d = &s.data;
    let escalations: usize = d.exceptions.iter().map(|e| e.escalations.len()).sum();
    let findings: usize = d.nhis.iter().map(|n| n.findings.len()).sum();
    let expected = [
        ("members", d.members.len()),
        ("models", d.models.len()),
        ("decision_rights", d.decision_rights.len()),
        ("thresholds", d.thresholds.len()),
        ("approvals", d.approvals.len()),
        ("measurements", d.measurements.len()),
        ("exceptions", d.exceptions.len()),
        ("escalations", escalations),
        ("decisions", d.signoffs.len()),
        ("nhis", d.nhis.len()),
        ("nhi_findings", findings),
        ("links", d.links.len()),
        ("framework_mapping", driftwarden_pack::mapping_rows(d).len()),
    ];
    assert_eq!(expected.len(), TABLES.len());
    for (table, rows) in expected {
        assert!(
            rows > 0,
            "the sample has no {table}: the test would prove nothing"
        );
        let path = dir.join(format!("csv/{table}.csv"));
        let mut r = csv::Reader::from_path(&path).unwrap();
        let header = r.headers().unwrap().clone();
        let records: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
        assert_eq!(records.len(), rows, "{table}.csv");
        assert!(
            records.iter().all(|x| x.len() == header.len()),
            "{table}.csv"
        );
        // The JSON twin has the same number of records.
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("data/{table}.json"))).unwrap())
                .unwrap();
        assert_eq!(json.as_array().unwrap().len(), rows, "{table}.json");
        // And the reader an auditor would use: Python's csv module.
        let py = std::process::Command::new("python3")
            .args([
                "-c",
                "import csv, sys; rows = list(csv.DictReader(open(sys.argv[1], newline='', encoding='utf-8'))); print(len(rows))",
            ])
            .arg(&path)
            .output()
            .expect("python3 runs");
        assert!(
            py.status.success(),
            "{table}.csv: {}",
            String::from_utf8_lossy(&py.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&py.stdout).trim(),
            rows.to_string(),
            "{table}.csv in Python"
        );
    }
    // Values survive quoting: every model's intended use (which contains commas in general) is
    // read back exactly.
    let mut r = csv::Reader::from_path(dir.join("csv/models.csv")).unwrap();
    let col = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "intended_use")
        .unwrap();
    let uses: Vec<String> = r.records().map(|x| x.unwrap()[col].to_string()).collect();
    for m in &d.models {
        assert!(uses.contains(&m.intended_use), "{}", m.intended_use);
    }
    // No secret material: members carry a public key only.
    let members = std::fs::read_to_string(dir.join("csv/members.csv")).unwrap();
    let header = members.lines().next().unwrap();
    assert_eq!(
        header,
        "id,email,name,roles,status,signing_public_key,created_at,offboarded_at,offboard_reason"
    );
    assert!(!members.contains(PASS));
}

#[test]
fn a_scoped_pack_keeps_one_model_and_links_the_log_by_hash() {
    let s = sample();
    let scope = PackScope {
        from: Some("2026-11-01".into()),
        to: None,
        model: Some("fraud-score".into()),
    };
    let data = s.dana.lock().unwrap().pack_data(&scope).unwrap();
    assert_eq!(data.models.len(), 1);
    assert!(data
        .audit
        .iter()
        .any(|e| matches!(e, AuditEntry::Gap { .. })));
    let (dir, summary) = s.write("scoped", &data);
    assert!(summary.audit_gaps > 0);
    let outcome = verify_pack(&dir);
    assert!(outcome.ok, "{:?}", outcome.failures().collect::<Vec<_>>());
    let log = std::fs::read_to_string(dir.join("audit-log.jsonl")).unwrap();
    assert!(log.lines().any(|l| l.starts_with("{\"type\":\"gap\"")));
    let mut r = csv::Reader::from_path(dir.join("csv/models.csv")).unwrap();
    let rows: Vec<_> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][1], "fraud-score");
}

#[test]
fn a_pack_needs_a_new_or_empty_folder_and_the_exporters_key() {
    let s = sample();
    let (dir, _) = s.pack("refusals");
    let err = write_pack(&s.data, &|b| s.sign(b), &dir, &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, PackError::NotEmpty(_)), "{err}");
    // Signed by somebody else than the exporting member: refused before anything is written.
    let other = dir.parent().unwrap().join("other");
    let bob = driftwarden_core::Registry::open(
        &s.dir,
        driftwarden_core::sample::SAMPLE_MEMBERS[1].0,
        PASS,
        clock(),
    )
    .unwrap();
    let err = write_pack(
        &s.data,
        &|b| bob.sign_with_my_key(b),
        &other,
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(matches!(err, PackError::Data(_)), "{err}");
    assert!(!other.exists());
}

#[test]
fn a_pack_streamed_from_the_registry_holds_exactly_what_a_loaded_one_does() {
    let s = sample();
    for (name, scope) in [
        ("all", PackScope::default()),
        (
            "one",
            PackScope {
                from: Some("2026-11-01".into()),
                to: None,
                model: Some("fraud-score".into()),
            },
        ),
    ] {
        let loaded = s.dana.lock().unwrap().pack_data(&scope).unwrap();
        assert!(!loaded.measurements.is_empty() && !loaded.audit.is_empty());
        let (a, sa) = s.write(&format!("loaded-{name}"), &loaded);
        let (b, sb) = s.write_streamed(&format!("streamed-{name}"), &scope);
        assert!(verify_pack(&b).ok, "{name}");
        assert_eq!(sb.measurements, loaded.measurements.len(), "{name}");
        assert_eq!(
            (sb.audit_events, sb.audit_gaps),
            (sa.audit_events, sa.audit_gaps),
            "{name}"
        );
        // Same files, byte for byte (the manifests list the same SHA-256s).
        let manifest = |d: &std::path::Path| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(d.join("manifest.json")).unwrap()).unwrap()
        };
        assert_eq!(manifest(&a)["files"], manifest(&b)["files"], "{name}");
        // The measurements table holds every measurement, as JSON and CSV.
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(b.join("data/measurements.json")).unwrap())
                .unwrap();
        assert_eq!(json.as_array().unwrap().len(), loaded.measurements.len());
        assert_eq!(json[0]["id"], loaded.measurements[0].id);
    }
}
