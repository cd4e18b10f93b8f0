//! The measurement CSV reader of `driftwarden ingest` (header, records, metric, value, time).
#![no_main]

use driftwarden_core::ops::measurements::MeasurementCsv;
use driftwarden_core::ops::thresholds::metric_name_ok;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut csv) = MeasurementCsv::new("fuzz.csv", data) else {
        return;
    };
    while let Ok(Some(record)) = csv.next_record() {
        let Ok(v) = record.values() else {
            return;
        };
        // What the reader accepts is what the store may hold.
        assert!(v.value.is_finite());
        assert!(metric_name_ok(v.metric));
        let at = v.observed_at.as_ref();
        assert_eq!(at.len(), 20, "{at:?} is not in the stored form");
        assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at:?}");
        for s in [v.segment, v.source].into_iter().flatten() {
            assert!(!s.is_empty() && s.trim() == s);
        }
    }
});
