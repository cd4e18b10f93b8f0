//! The report's text, and stock minisign against the manifest.

use driftwarden_pack::verify_pack;

use crate::common::*;

#[test]
fn stock_minisign_verifies_the_manifest_and_rejects_a_changed_one() {
    let s = sample();
    let (dir, summary) = s.pack("minisign");
    let Some(out) = run(
        "minisign",
        &["-Vm", "manifest.json", "-p", "signer.pub"],
        &dir,
    ) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Signature and comment signature verified"),
        "{stdout}"
    );
    assert!(stdout.contains("driftwarden-pack-v1"), "{stdout}");
    // minisign prints the key id the way the summary does.
    let pubfile = std::fs::read_to_string(dir.join("signer.pub")).unwrap();
    assert!(pubfile.contains(&summary.key_id), "{pubfile}");
    // Prehashed signatures (minisign's default and the only kind `-H` accepts).
    let out = run(
        "minisign",
        &["-VHm", "manifest.json", "-p", "signer.pub"],
        &dir,
    )
    .unwrap();
    assert!(out.status.success());

    let original = std::fs::read(dir.join("manifest.json")).unwrap();
    let text = String::from_utf8(original.clone()).unwrap();
    let changed = text.replacen("\"size\": ", "\"size\": 1", 1);
    assert_ne!(changed, text);
    std::fs::write(dir.join("manifest.json"), changed).unwrap();
    let out = run(
        "minisign",
        &["-Vm", "manifest.json", "-p", "signer.pub"],
        &dir,
    )
    .unwrap();
    assert!(
        !out.status.success(),
        "minisign accepted a changed manifest"
    );
    std::fs::write(dir.join("manifest.json"), original).unwrap();
    assert!(verify_pack(&dir).ok);
}

#[test]
fn the_report_names_every_model_disposition_and_control() {
    let s = sample();
    let (dir, summary) = s.pack("pdf");
    let pdf = std::fs::read(dir.join("report.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let Some(out) = run("pdftotext", &["-layout", "report.pdf", "-"], &dir) else {
        return;
    };
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    // pdftotext may break long lines; compare on single spaces.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let d = &s.data;
    assert!(flat.contains(&d.org), "org");
    assert!(flat.contains(&summary.key_id), "key id on the cover");
    for m in &d.models {
        assert!(flat.contains(&m.display_name), "model {}", m.display_name);
        assert!(flat.contains(&m.intended_use), "intended use of {}", m.name);
    }
    let mut dispositions = 0;
    for e in &d.exceptions {
        assert!(
            flat.contains(&format!("Exception {}", e.id)),
            "exception {}",
            e.id
        );
        if let Some(disp) = e.disposition {
            dispositions += 1;
            assert!(flat.contains(disp.as_str()), "disposition {disp}");
            assert!(flat.contains(disp.describe()), "disposition text {disp}");
            assert!(
                flat.contains(e.rationale.as_deref().unwrap()),
                "rationale of {}",
                e.id
            );
        }
    }
    assert!(
        dispositions >= 2,
        "the sample should hold decided exceptions"
    );
    for id in [
        "GV.OV-01",
        "GV.RR-02",
        "GOVERN 1.5",
        "GOVERN 1.6",
        "GOVERN 1.7",
        "GOVERN 2.1",
        "MEASURE 2.4",
        "MANAGE 2.4",
        "MANAGE 4.1",
        "Art. 26(5)",
        "Art. 72",
        "SR 11-7",
        "SR 26-2",
        "NHI1",
        "NHI7",
        "NHI10",
    ] {
        assert!(flat.contains(id), "framework id {id}");
    }
    for member in ["Ana Ortiz", "Bob Brennan", "Chen Li"] {
        assert!(flat.contains(member), "{member} in a decision path");
    }
    // Signature status in words, and the chain status.
    assert!(flat.contains("VERIFIED"));
    assert!(flat.contains("Chain status: VERIFIED"));
    assert!(flat.contains(&d.audit_chain.head));
    // Pages: a cover, contents, summary, one per model, mapping, chain.
    let Some(info) = run("pdfinfo", &["report.pdf"], &dir) else {
        return;
    };
    let info = String::from_utf8(info.stdout).unwrap();
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(pages, summary.report_pages);
    assert!(pages >= 5 + d.models.len(), "{pages} pages");
}
