//! The NHI inventory CSV reader of `driftwarden nhi import` (parse and validate, incl. the
//! secret guard on every field).
#![no_main]

use chrono::NaiveDate;
use driftwarden_core::ops::nhis::check_nhi_csv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let today = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let _ = check_nhi_csv("fuzz.csv", data, today);
});
