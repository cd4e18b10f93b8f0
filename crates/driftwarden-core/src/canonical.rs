//! Canonical bytes (RFC 8785 JSON Canonicalization Scheme) for everything hashed or signed, so a
//! third party can recompute them from the exported JSON alone.

use serde::Serialize;

pub fn canonical_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own plain data types cannot fail (no maps with non-string keys, no NaN:
    // numbers are validated finite before they reach here).
    serde_json_canonicalizer::to_vec(value).expect("canonical JSON of a plain value")
}

pub fn canonical_string<T: Serialize>(value: &T) -> String {
    String::from_utf8(canonical_bytes(value)).expect("canonical JSON is UTF-8")
}
