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
