//! Audit packs through the CLI: export, verify, and a changed byte named by `verify`.

use crate::common::*;

#[test]
fn pack_verifies_and_a_changed_byte_is_named() {
    let mut env = Env::with_model();
    env.now = Some("2026-11-02T09:00:00Z".into());
    env.run(&["threshold", "set", "credit-risk", "psi", "--breach", "0.25"])
        .ok();
    env.run_as(
        BOB,
        BOB_PASS,
        &["approve", "credit-risk", "--until", "2027-03-01"],
    )
    .ok();
    let out = env.tmp.path().join("pack");
    // Only compliance or admin export.
    env.run_as(BOB, BOB_PASS, &["pack", "--out", out.to_str().unwrap()])
        .fails();
    env.run(&["pack", "--out", out.to_str().unwrap()]).ok();
    let v = env.run(&["verify", out.to_str().unwrap()]).ok();
    assert!(
        v.stdout.contains("PASS") && !v.stdout.contains("FAIL"),
        "{}",
        v.stdout
    );
    let models = std::fs::read_to_string(out.join("csv/models.csv")).unwrap();
    assert!(models.contains("credit-risk"));
    let pdf = out.join("report.pdf");
    let mut bytes = std::fs::read(&pdf).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&pdf, bytes).unwrap();
    let r = env.run(&["verify", out.to_str().unwrap()]);
    assert_eq!(r.code, 6, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("report.pdf") || r.stderr.contains("report.pdf"),
        "{}{}",
        r.stdout,
        r.stderr
    );
}

/// Rows of a CSV file of a pack, as header → value maps.
fn csv_rows(path: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    // Only simple cells are read back (ids, states): quoted cells are kept whole enough.
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

#[test]
fn a_pack_of_more_models_than_sections_summarises_and_holds_every_row() {
    let mut env = Env::new();
    env.now = Some("2026-11-27T12:00:00Z".into());
    let pass = "seeded registry passphrase";
    let compliance = "compliance@seed.example";
    let seeded = env
        .run_as(
            "admin@seed.example",
            pass,
            &[
                "dev",
                "seed",
                "--models",
                "120",
                "--nhis",
                "200",
                "--measurements",
                "6000",
                "--events",
                "3000",
                "--json",
                "--quiet",
            ],
        )
        .ok()
        .json();
    let out = env.tmp.path().join("pack");
    let run = env
        .run_as(compliance, pass, &["pack", "--out", out.to_str().unwrap()])
        .ok();
    assert!(run.stdout.contains("measurements  6000"), "{}", run.stdout);
    env.run_as(compliance, pass, &["verify", out.to_str().unwrap()])
        .ok();
    // Every measurement and every event is in the files, streamed.
    assert_eq!(csv_rows(&out.join("csv/measurements.csv")).len(), 6000);
    let events = seeded["events"].as_u64().unwrap() as usize;
    let log = std::fs::read_to_string(out.join("audit-log.jsonl")).unwrap();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("\"type\":\"event\""))
            .count(),
        events
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("data/measurements.json")).unwrap())
            .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 6000);
    // The report summarises: no section per model, but every exception and disposition.
    let Ok(pdf) = std::process::Command::new("pdftotext")
        .args(["-layout", "report.pdf", "-"])
        .current_dir(&out)
        .output()
    else {
        return;
    };
    let flat = String::from_utf8(pdf.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(flat.contains("Models that need attention"), "{flat}");
    assert!(flat.contains("Dispositions"));
    assert!(flat.contains("Chain status: VERIFIED"));
    let exceptions: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("data/exceptions.json")).unwrap()).unwrap();
    let exceptions = exceptions.as_array().unwrap();
    assert_eq!(
        exceptions.len() as u64,
        seeded["exceptions"].as_u64().unwrap()
    );
    assert_eq!(
        csv_rows(&out.join("csv/exceptions.csv")).len(),
        exceptions.len()
    );
    let mut decided = 0;
    for e in exceptions {
        if let Some(d) = e["disposition"].as_str() {
            decided += 1;
            assert!(
                flat.contains(&format!("Exception {}", e["id"])),
                "{}",
                e["id"]
            );
            assert!(flat.contains(d), "{}", e["id"]);
            let rationale = e["rationale"].as_str().unwrap();
            let words = rationale.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(flat.contains(&words), "rationale of {}", e["id"]);
        }
    }
    assert!(decided > 0, "the seeded registry has dispositions");
    // Bounded: far fewer pages than a section per model would take.
    let info = std::process::Command::new("pdfinfo")
        .arg(out.join("report.pdf"))
        .output()
        .unwrap();
    let pages: usize = String::from_utf8(info.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pages < 120, "{pages} pages");

    // One model's pack: that model's rows only, and the log linked by gaps.
    let one = env.tmp.path().join("pack-one");
    env.run_as(
        compliance,
        pass,
        &[
            "pack",
            "--out",
            one.to_str().unwrap(),
            "--model",
            "model-00003",
        ],
    )
    .ok();
    env.run_as(compliance, pass, &["verify", one.to_str().unwrap()])
        .ok();
    let ms = csv_rows(&one.join("csv/measurements.csv"));
    let all = csv_rows(&out.join("csv/measurements.csv"));
    let id = &csv_rows(&one.join("csv/models.csv"))[0]["id"];
    assert!(!ms.is_empty());
    assert!(ms.iter().all(|m| &m["model_id"] == id));
    assert_eq!(
        ms.len(),
        all.iter().filter(|m| &m["model_id"] == id).count()
    );
    let log = std::fs::read_to_string(one.join("audit-log.jsonl")).unwrap();
    assert!(log.lines().any(|l| l.starts_with("{\"type\":\"gap\"")));
}
