//! The Evidently 0.7 report / snapshot reader of `driftwarden ingest --format evidently`.
#![no_main]

use driftwarden_core::evidently_measurements;
use driftwarden_core::ops::thresholds::metric_name_ok;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(report) = evidently_measurements("fuzz.json", text) {
        assert!(!report.measurements.is_empty());
        for (metric, value) in &report.measurements {
            assert!(metric_name_ok(metric), "{metric:?}");
            assert!(value.is_finite());
        }
    }
});
