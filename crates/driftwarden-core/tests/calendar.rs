//! The review calendar: each kind of item with an injected clock, and the iCalendar export read
//! back by an independent parser (the `ical` crate).

use chrono::NaiveDate;
use driftwarden_core::*;

use crate::common::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn find<'a>(items: &'a [CalendarItem], kind: &str) -> &'a CalendarItem {
    items
        .iter()
        .find(|i| i.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} in {items:#?}"))
}

#[test]
fn every_kind_of_item_with_its_member_and_overdue_state() {
    let (t, mut ana) = Team::new(); // 2026-11-02
    governed_model(&mut ana, true);
    let mut bob = t.open(BOB);
    bob.approve_model(
        "credit-risk",
        &ApproveModel {
            until: "2027-01-15".into(),
            note: None,
        },
    )
    .unwrap();
    ana.add_nhi(&AddNhi {
        name: "svc".into(),
        kind: "service-account".into(),
        system: "GCP".into(),
        owner: ADMIN.into(),
        rotation_days: 30,
        last_rotated: Some("2026-10-20".into()),
        expires: Some("2026-12-31".into()),
        ..Default::default()
    })
    .unwrap();
    let id = t
        .ingest(&mut ana, &[("psi", 0.5, "2026-11-02T00:00:00Z")])
        .opened[0];

    let items = ana
        .calendar(d("2026-11-01"), d("2027-02-01"), None)
        .unwrap();
    let expiry = find(&items, "approval-expiry");
    assert_eq!(
        (
            expiry.date.as_str(),
            expiry.member.as_deref(),
            expiry.entity_type.as_str()
        ),
        ("2027-01-15", Some(BOB), "model")
    );
    let v = find(&items, "validate-deadline");
    assert_eq!(
        (v.date.as_str(), v.member.as_deref(), v.entity_id, v.overdue),
        ("2026-11-04", Some(BOB), id, false)
    );
    assert_eq!(find(&items, "decide-deadline").date, "2026-11-07");
    // Rotation due = last rotated + policy days.
    let r = find(&items, "rotation-due");
    assert_eq!(
        (r.date.as_str(), r.member.as_deref()),
        ("2026-11-19", Some(ADMIN))
    );
    assert_eq!(find(&items, "nhi-expiry").date, "2026-12-31");
    // NHI items name their NHI (the desktop links to its page); others don't.
    assert!(r.nhi.is_some() && r.entity_type == "nhi");
    assert_eq!(find(&items, "nhi-expiry").nhi, r.nhi);
    assert_eq!(v.nhi, None);
    // Only Bob's.
    let bobs = ana
        .calendar(d("2026-11-01"), d("2027-02-01"), Some(BOB))
        .unwrap();
    assert!(bobs.iter().all(|i| i.member.as_deref() == Some(BOB)) && bobs.len() == 2);

    // Later: the validation deadline and rotation are overdue and still listed before the range.
    t.clock.set(2026, 11, 25);
    let ana2 = t.open(ADMIN);
    let items = ana2
        .calendar(d("2026-11-25"), d("2026-12-25"), None)
        .unwrap();
    let r = find(&items, "rotation-due");
    assert!(r.overdue && r.days_left == -6, "{r:?}");
    assert!(find(&items, "decide-deadline").overdue);
    // Decided and co-signed: the follow-up review appears, the deadlines go.
    let mut bob = t.open(BOB);
    bob.validate_exception(id, true, "real").unwrap();
    let mut ana2 = ana2;
    ana2.decide_exception(
        id,
        &DecideException {
            disposition: "retrain".into(),
            rationale: "r".into(),
            follow_up: Some("2026-12-20".into()),
        },
    )
    .unwrap();
    let items = ana2
        .calendar(d("2026-11-25"), d("2026-12-25"), None)
        .unwrap();
    assert_eq!(find(&items, "cosign-deadline").member.as_deref(), Some(BOB));
    bob.cosign_exception(id).unwrap();
    let items = ana2
        .calendar(d("2026-11-25"), d("2026-12-25"), None)
        .unwrap();
    assert_eq!(find(&items, "follow-up").date, "2026-12-20");
    assert!(!items.iter().any(|i| i.kind.ends_with("-deadline")));
}

fn parse_ics(text: &str) -> Vec<(String, String, String, bool)> {
    let parser = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let mut out = Vec::new();
    for cal in parser {
        let cal = cal.expect("the export parses");
        for ev in cal.events {
            let get = |name: &str| {
                ev.properties
                    .iter()
                    .find(|p| p.name == name)
                    .and_then(|p| p.value.clone())
                    .unwrap_or_default()
            };
            out.push((
                get("UID"),
                get("DTSTART"),
                get("SUMMARY"),
                !ev.alarms.is_empty(),
            ));
        }
    }
    out
}

#[test]
fn ics_round_trips_through_a_third_party_parser_with_stable_uids() {
    let (t, mut ana) = Team::new();
    governed_model(&mut ana, false);
    ana.add_nhi(&AddNhi {
        name: "svc, the \"scoring\"; account".into(),
        kind: "service-account".into(),
        system: "GCP".into(),
        owner: ADMIN.into(),
        rotation_days: 30,
        last_rotated: Some("2026-10-20".into()),
        expires: Some("2026-12-31".into()),
        ..Default::default()
    })
    .unwrap();
    t.ingest(&mut ana, &[("psi", 0.5, "2026-11-02T00:00:00Z")]);
    let items = ana
        .calendar(d("2026-11-01"), d("2027-02-01"), None)
        .unwrap();
    let text = ana.calendar_ics(&items).unwrap();
    assert!(
        text.contains("\r\n") && text.lines().all(|l| l.trim_end_matches('\r').len() <= 75),
        "folded at 75 octets"
    );
    let parsed = parse_ics(&text);
    assert_eq!(parsed.len(), items.len());
    for (item, (uid, start, summary, alarm)) in items.iter().zip(&parsed) {
        assert_eq!(uid, &item.uid);
        assert_eq!(start, &item.date.replace('-', ""));
        let unescaped = summary
            .replace("\\,", ",")
            .replace("\\;", ";")
            .replace("\\\\", "\\");
        assert_eq!(unescaped, item.title);
        assert_eq!(*alarm, item.kind != "follow-up");
    }
    // Rotate: the rotation date moves, its UID stays.
    let before = items
        .iter()
        .find(|i| i.kind == "rotation-due")
        .unwrap()
        .clone();
    ana.rotate_nhi("svc, the \"scoring\"; account", "2026-11-02")
        .unwrap();
    let after_items = ana
        .calendar(d("2026-11-01"), d("2027-02-01"), None)
        .unwrap();
    let after = after_items
        .iter()
        .find(|i| i.kind == "rotation-due")
        .unwrap();
    assert_eq!(after.uid, before.uid);
    assert_ne!(after.date, before.date);
    let reparsed = parse_ics(&ana.calendar_ics(&after_items).unwrap());
    assert!(reparsed
        .iter()
        .any(|(uid, start, _, _)| uid == &before.uid && start == "20261202"));
}
