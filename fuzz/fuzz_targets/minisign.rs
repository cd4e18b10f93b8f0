//! The minisign public key and signature file parsers of `driftwarden verify` (signer.pub,
//! manifest.json.minisig), and verification of what they yield. The input is a signature file,
//! then a public key file after the first `\n===\n`.
#![no_main]

use driftwarden_pack::{
    parse_public_key_file, parse_signature_file, public_key_file, verify_minisign,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (sig_text, key_text) = text.split_once("\n===\n").unwrap_or((text, text));
    let key = parse_public_key_file(key_text);
    if let Ok((_, pk)) = &key {
        // What we write, we read back.
        let again = parse_public_key_file(&public_key_file(pk)).unwrap();
        assert_eq!(&again.1, pk);
    }
    if let Ok(sig) = parse_signature_file(sig_text) {
        let (id, pk) = key.unwrap_or(([0; 8], [0; 32]));
        // A fuzzed signature over this message must never verify.
        assert!(verify_minisign(b"driftwarden fuzz message", &sig, &id, &pk).is_err());
    }
});
