//! The key slot file parser (`slots/*.slot`) and the KDF parameter check that runs before any
//! key derivation (a tampered slot must be refused, never crash or hang the app).
#![no_main]

use driftwarden_core::keys::SlotFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(slot) = SlotFile::parse(data, "fuzz.slot") else {
        return;
    };
    let _ = slot.kdf.check();
    // What we read, we write back the same.
    let bytes = serde_json::to_vec_pretty(&slot).unwrap();
    assert_eq!(SlotFile::parse(&bytes, "again").unwrap(), slot);
});
