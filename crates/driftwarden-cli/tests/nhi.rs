//! NHI governance through the CLI.

use crate::common::*;

#[test]
fn nhi_findings_lifecycle_import_and_export() {
    let mut env = Env::with_model();
    env.now = Some("2026-11-02T09:00:00Z".into());
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
        "30",
        "--last-rotated",
        "2026-08-01",
        "--scope",
        "roles/owner",
        "--identifier",
        "scoring@acme.iam.gserviceaccount.com",
    ])
    .ok();
    env.run(&[
        "nhi",
        "link",
        "svc-scoring",
        "credit-risk",
        "--usage",
        "scoring",
    ])
    .ok();
    let show = env
        .run(&["nhi", "show", "svc-scoring", "--json"])
        .ok()
        .json();
    let ids: Vec<&str> = show["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["owasp"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["NHI7", "NHI7", "NHI5"], "{show}");
    assert_eq!(show["links"][0]["model_approval_status"], "pending");
    assert_eq!(show["identifier"], "scoring@acme.iam.gserviceaccount.com");

    let r = env
        .run_as(
            BOB,
            BOB_PASS,
            &["nhi", "rotate", "svc-scoring", "--date", "2026-11-01"],
        )
        .fails();
    assert_eq!(r.code, 3);
    env.run(&["nhi", "rotate", "svc-scoring", "--date", "2026-11-01"])
        .ok();
    env.run(&[
        "nhi",
        "accept",
        "svc-scoring",
        "no-expiry",
        "--until",
        "2027-03-01",
        "--reason",
        "provider keys never expire",
    ])
    .ok();
    let show = env
        .run(&["nhi", "show", "svc-scoring", "--json"])
        .ok()
        .json();
    let open: Vec<&str> = show["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["accepted"].is_null())
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(open, ["overprivileged"]);
    let model = env
        .run(&["model", "show", "credit-risk", "--json"])
        .ok()
        .json();
    assert_eq!(model["nhi_findings"][0]["code"], "overprivileged");

    let posture = env.run(&["nhi", "posture", "--json"]).ok().json();
    assert_eq!(posture["rotation_compliance_pct"], 100.0);

    let export = env.tmp.path().join("nhis.csv");
    env.run(&["nhi", "export", "--out", export.to_str().unwrap()])
        .ok();
    let mut rdr = csv::Reader::from_path(&export).unwrap();
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "name",
            "kind",
            "system",
            "owner",
            "rotation_days",
            "last_rotated",
            "expires",
            "environment",
            "scopes",
            "identifier",
            "human_use"
        ]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!((&rows[0][0], &rows[0][5]), ("svc-scoring", "2026-11-01"));

    let import = env.tmp.path().join("more.csv");
    std::fs::write(&import, format!("name,kind,system,owner,rotation_days\nbureau-key,api-key,Bureau,{ADMIN},60\nbad,api-key,Bureau,{ADMIN},-1\n")).unwrap();
    let r = env
        .run(&["nhi", "import", import.to_str().unwrap()])
        .fails();
    assert!(
        r.stderr.contains("line 3") && r.stderr.contains("rotation_days"),
        "{}",
        r.stderr
    );
    assert_eq!(
        env.run(&["nhi", "list", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let r = env
        .run(&[
            "nhi",
            "add",
            "leak",
            "--kind",
            "token",
            "--system",
            "GitHub",
            "--owner",
            ADMIN,
            "--rotation-days",
            "30",
            "--scope",
            "ghp_1A2b3C4d5E6f7G8h9I0jK1l2M3n4O5p6Q7r8",
        ])
        .fails();
    assert!(
        r.stderr.contains("GitHub token") && !r.stderr.contains("ghp_1A2b"),
        "{}",
        r.stderr
    );
}

#[test]
fn calendar_agenda_json_and_ics() {
    let mut env = Env::with_model();
    env.now = Some("2026-11-02T09:00:00Z".into());
    env.run(&[
        "nhi",
        "add",
        "svc",
        "--kind",
        "token",
        "--system",
        "GitHub",
        "--owner",
        ADMIN,
        "--rotation-days",
        "30",
        "--last-rotated",
        "2026-10-01",
        "--expires",
        "2027-01-31",
    ])
    .ok();
    let items = env
        .run(&[
            "calendar",
            "--from",
            "2026-11-01",
            "--to",
            "2027-03-01",
            "--json",
        ])
        .ok()
        .json();
    let kinds: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["rotation-due", "nhi-expiry"]);
    assert_eq!(items[0]["date"], "2026-10-31");
    assert_eq!(items[0]["overdue"], true, "due before today and still open");
    let agenda = env
        .run(&["calendar", "--from", "2026-11-01", "--to", "2027-03-01"])
        .ok()
        .stdout;
    assert!(
        agenda.contains("2 days overdue") && agenda.contains("Rotate svc"),
        "{agenda}"
    );
    let path = env.tmp.path().join("reviews.ics");
    env.run(&[
        "calendar",
        "--from",
        "2026-11-01",
        "--to",
        "2027-03-01",
        "--ics",
        path.to_str().unwrap(),
    ])
    .ok();
    let text = std::fs::read_to_string(&path).unwrap();
    let cal = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()))
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(cal.events.len(), 2);
    let uid = cal.events[0]
        .properties
        .iter()
        .find(|p| p.name == "UID")
        .unwrap()
        .value
        .clone()
        .unwrap();
    assert_eq!(uid, items[0]["uid"].as_str().unwrap());
    let none = env.run(&["calendar", "--for", BOB, "--json"]).ok().json();
    assert_eq!(none, serde_json::json!([]));
}
