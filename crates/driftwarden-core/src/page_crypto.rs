//! SQLCipher's per-page cryptography (AES-256-CBC and the page HMAC) computed with the RustCrypto
//! crates (`aes`, `cbc`, `hmac`, `sha2`) instead of SQLCipher 4.20's OpenSSL 3 provider.
//!
//! The file format does not change: SQLCipher still decides what is encrypted and MACed (page,
//! IV, page number), draws the IVs and derives the keys; only the two primitives it calls for
//! every page are swapped. The OpenSSL provider looks the HMAC algorithm up by name
//! (`EVP_MAC_fetch`), allocates and keys a MAC context and a cipher context and frees all three,
//! for every page read or written: at 4 KiB pages that costs about as much as the cryptography
//! itself (the scale benchmark's audit log verification reads 74,572 pages).
//!
//! SQLCipher takes providers through `sqlcipher_register_provider` (a C struct of function
//! pointers, `sqlcipher_provider`). We copy the OpenSSL provider SQLCipher registered at
//! initialisation and replace `hmac` and `cipher`; anything else (random IVs, PBKDF2, sizes,
//! other algorithms or key sizes) stays with OpenSSL. The struct layout is SQLCipher 4.20's:
//! `install` checks the linked SQLCipher's version and leaves OpenSSL in place for any other.
//! Every connection keyed after `install` uses it (a codec takes the default provider when it
//! is created).

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::OnceLock;

use aes::Aes256;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::digest::{FixedOutputReset, KeyInit};
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};
use zeroize::Zeroize;

/// The SQLCipher release whose `sqlcipher_provider` layout this module mirrors.
const SQLCIPHER_RELEASE: &str = "4.20.";

const SQLITE_OK: c_int = 0;
const SQLITE_ERROR: c_int = 1;
const SQLCIPHER_DECRYPT: c_int = 0;
const SQLCIPHER_ENCRYPT: c_int = 1;
const SQLCIPHER_HMAC_SHA256: c_int = 1;
const SQLCIPHER_HMAC_SHA512: c_int = 2;

type HmacFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    algorithm: c_int,
    key: *const u8,
    key_sz: c_int,
    input: *const u8,
    in_sz: c_int,
    input2: *const u8,
    in2_sz: c_int,
    out: *mut u8,
) -> c_int;

type CipherFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    mode: c_int,
    key: *const u8,
    key_sz: c_int,
    iv: *const u8,
    input: *const u8,
    in_sz: c_int,
    out: *mut u8,
) -> c_int;

/// `struct sqlcipher_provider` of SQLCipher 4.20 (sqlcipher.h), field for field.
#[repr(C)]
#[derive(Clone, Copy)]
struct Provider {
    init: Option<unsafe extern "C" fn() -> c_int>,
    shutdown: Option<unsafe extern "C" fn()>,
    get_provider_name: Option<unsafe extern "C" fn(*mut c_void) -> *const c_char>,
    add_random: Option<unsafe extern "C" fn(*mut c_void, *const c_void, c_int) -> c_int>,
    random: Option<unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int>,
    hmac: Option<HmacFn>,
    kdf: Option<
        unsafe extern "C" fn(
            *mut c_void,
            c_int,
            *const u8,
            c_int,
            *const u8,
            c_int,
            c_int,
            c_int,
            *mut u8,
        ) -> c_int,
    >,
    cipher: Option<CipherFn>,
    get_cipher: Option<unsafe extern "C" fn(*mut c_void) -> *const c_char>,
    get_key_sz: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    get_iv_sz: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    get_block_sz: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    get_hmac_sz: Option<unsafe extern "C" fn(*mut c_void, c_int) -> c_int>,
    ctx_init: Option<unsafe extern "C" fn(*mut *mut c_void) -> c_int>,
    ctx_free: Option<unsafe extern "C" fn(*mut *mut c_void) -> c_int>,
    fips_status: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    get_provider_version: Option<unsafe extern "C" fn(*mut c_void) -> *const c_char>,
    next: *mut Provider,
}

extern "C" {
    fn sqlcipher_get_provider() -> *mut Provider;
    fn sqlcipher_register_provider(p: *mut Provider) -> c_int;
    fn sqlcipher_malloc(sz: u64) -> *mut c_void;
    fn sqlcipher_version() -> *mut c_char;
}

/// OpenSSL's functions, for what this module does not do itself.
#[derive(Clone, Copy)]
struct OpenSsl {
    hmac: HmacFn,
    cipher: CipherFn,
}

/// Whether `install` registered the provider (set by the first call).
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// OpenSSL's functions for the cases this module hands back (set before registration).
static FALLBACK: OnceLock<OpenSsl> = OnceLock::new();

/// The name `PRAGMA cipher_provider` reports for connections using this module.
pub const PROVIDER_NAME: &str = "rustcrypto";
const PROVIDER_NAME_C: &CStr = c"rustcrypto";

/// Registers the RustCrypto page cryptography with SQLCipher (once per process; later calls do
/// nothing). Returns whether it is in use: `false` when the linked SQLCipher is not the release
/// whose provider layout this module knows, or registration failed (OpenSSL then stays).
pub fn install() -> bool {
    *INSTALLED.get_or_init(register)
}

fn register() -> bool {
    // SAFETY: sqlite3_initialize may be called any number of times; it runs SQLCipher's
    // initialisation, which registers the OpenSSL provider.
    if unsafe { rusqlite::ffi::sqlite3_initialize() } != SQLITE_OK {
        return false;
    }
    if !linked_release_matches() {
        tracing::warn!(
            "SQLCipher is not {SQLCIPHER_RELEASE}x; page cryptography stays with OpenSSL"
        );
        return false;
    }
    // SAFETY: after initialisation SQLCipher's default provider is a valid, never-freed (until
    // process exit) struct with the layout of `Provider` (same release, checked above).
    let current = unsafe { sqlcipher_get_provider() };
    if current.is_null() {
        return false;
    }
    let mut ours = unsafe { *current };
    let (Some(hmac), Some(cipher)) = (ours.hmac, ours.cipher) else {
        return false;
    };
    // Set before registering: the functions below read it.
    let _ = FALLBACK.set(OpenSsl { hmac, cipher });
    ours.init = None; // OpenSSL is initialised already, and
    ours.shutdown = None; // shut down once, through its own entry.
    ours.get_provider_name = Some(provider_name);
    ours.hmac = Some(page_hmac);
    ours.cipher = Some(page_cipher);
    ours.next = std::ptr::null_mut();
    // SQLCipher frees every registered provider with sqlcipher_free at shutdown: allocate ours
    // with its allocator.
    // SAFETY: sqlcipher_malloc returns memory for `size` bytes (or null), suitably aligned
    // for any C struct; we write a whole `Provider` into it before handing it over.
    let slot = unsafe { sqlcipher_malloc(std::mem::size_of::<Provider>() as u64) } as *mut Provider;
    if slot.is_null() {
        return false;
    }
    unsafe {
        slot.write(ours);
        sqlcipher_register_provider(slot) == SQLITE_OK
    }
}

fn linked_release_matches() -> bool {
    // SAFETY: sqlcipher_version returns a string from sqlite3_mprintf (or null), which we free.
    unsafe {
        let v = sqlcipher_version();
        if v.is_null() {
            return false;
        }
        let ok = CStr::from_ptr(v)
            .to_str()
            .is_ok_and(|s| s.starts_with(SQLCIPHER_RELEASE));
        rusqlite::ffi::sqlite3_free(v as *mut c_void);
        ok
    }
}

unsafe extern "C" fn provider_name(_ctx: *mut c_void) -> *const c_char {
    PROVIDER_NAME_C.as_ptr()
}

/// HMAC-SHA256 or HMAC-SHA512 of `input || input2` under `key`, written to `out` (32 or 64
/// bytes, SQLCipher's `get_hmac_sz`); other algorithms go to OpenSSL.
unsafe extern "C" fn page_hmac(
    ctx: *mut c_void,
    algorithm: c_int,
    key: *const u8,
    key_sz: c_int,
    input: *const u8,
    in_sz: c_int,
    input2: *const u8,
    in2_sz: c_int,
    out: *mut u8,
) -> c_int {
    if key.is_null() || input.is_null() || out.is_null() || key_sz < 0 || in_sz < 0 || in2_sz < 0 {
        return SQLITE_ERROR;
    }
    // SAFETY (for the slices): SQLCipher passes buffers of the stated sizes.
    let key = std::slice::from_raw_parts(key, key_sz as usize);
    let data = std::slice::from_raw_parts(input, in_sz as usize);
    let extra: &[u8] = if input2.is_null() {
        &[]
    } else {
        std::slice::from_raw_parts(input2, in2_sz as usize)
    };
    match algorithm {
        SQLCIPHER_HMAC_SHA256 => mac::<Hmac<Sha256>>(key, data, extra, out, 32),
        SQLCIPHER_HMAC_SHA512 => mac::<Hmac<Sha512>>(key, data, extra, out, 64),
        _ => match FALLBACK.get() {
            Some(o) => (o.hmac)(
                ctx,
                algorithm,
                key.as_ptr(),
                key_sz,
                input,
                in_sz,
                input2,
                in2_sz,
                out,
            ),
            None => SQLITE_ERROR,
        },
    }
}

/// One HMAC over two inputs into `out` (`len` bytes); the keyed state is wiped before
/// returning.
unsafe fn mac<M>(key: &[u8], data: &[u8], extra: &[u8], out: *mut u8, len: usize) -> c_int
where
    M: Mac + KeyInit + FixedOutputReset,
{
    let Ok(mut m) = <M as Mac>::new_from_slice(key) else {
        return SQLITE_ERROR;
    };
    Mac::update(&mut m, data);
    Mac::update(&mut m, extra);
    let mut tag = m.finalize_reset().into_bytes();
    let ok = tag.len() == len;
    if ok {
        std::ptr::copy_nonoverlapping(tag.as_ptr(), out, len);
    }
    tag.as_mut_slice().zeroize();
    // The MAC holds its padded keys (inner and outer hash states); overwrite them.
    // SAFETY: the bytes of `m` are ours to write; an HMAC over SHA-2 owns no heap memory
    // and has no drop glue, and `m` is forgotten, never read or dropped, after the wipe.
    std::slice::from_raw_parts_mut(&mut m as *mut M as *mut u8, std::mem::size_of::<M>()).zeroize();
    std::mem::forget(m);
    if ok {
        SQLITE_OK
    } else {
        SQLITE_ERROR
    }
}

/// AES-256-CBC without padding over `in_sz` bytes (a whole number of blocks); other key sizes
/// go to OpenSSL.
unsafe extern "C" fn page_cipher(
    ctx: *mut c_void,
    mode: c_int,
    key: *const u8,
    key_sz: c_int,
    iv: *const u8,
    input: *const u8,
    in_sz: c_int,
    out: *mut u8,
) -> c_int {
    if key_sz != 32 {
        return match FALLBACK.get() {
            Some(o) => (o.cipher)(ctx, mode, key, key_sz, iv, input, in_sz, out),
            None => SQLITE_ERROR,
        };
    }
    if key.is_null() || iv.is_null() || input.is_null() || out.is_null() || in_sz < 0 {
        return SQLITE_ERROR;
    }
    let len = in_sz as usize;
    if !len.is_multiple_of(16) {
        return SQLITE_ERROR;
    }
    // SAFETY (for the slices): SQLCipher passes a 32-byte key, a 16-byte IV and page buffers
    // of `in_sz` bytes.
    let key = std::slice::from_raw_parts(key, 32);
    let iv = std::slice::from_raw_parts(iv, 16);
    let same = std::ptr::eq(input, out);
    if !same {
        let (a, b) = (input as usize, out as usize);
        if a < b + len && b < a + len {
            return SQLITE_ERROR; // partly overlapping buffers: never passed by SQLCipher
        }
    }
    let ok = match mode {
        SQLCIPHER_ENCRYPT => {
            let c = cbc::Encryptor::<Aes256>::new(key.into(), iv.into());
            if same {
                let buf = std::slice::from_raw_parts_mut(out, len);
                c.encrypt_padded_mut::<NoPadding>(buf, len).is_ok()
            } else {
                let src = std::slice::from_raw_parts(input, len);
                let dst = std::slice::from_raw_parts_mut(out, len);
                c.encrypt_padded_b2b_mut::<NoPadding>(src, dst).is_ok()
            }
        }
        SQLCIPHER_DECRYPT => {
            let c = cbc::Decryptor::<Aes256>::new(key.into(), iv.into());
            if same {
                let buf = std::slice::from_raw_parts_mut(out, len);
                c.decrypt_padded_mut::<NoPadding>(buf).is_ok()
            } else {
                let src = std::slice::from_raw_parts(input, len);
                let dst = std::slice::from_raw_parts_mut(out, len);
                c.decrypt_padded_b2b_mut::<NoPadding>(src, dst).is_ok()
            }
        }
        _ => false,
    };
    if ok {
        SQLITE_OK
    } else {
        SQLITE_ERROR
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;
    use std::ptr::null_mut;

    /// OpenSSL's functions, as SQLCipher registered them (neither reads its context argument).
    fn openssl() -> OpenSsl {
        assert!(
            install(),
            "the provider is registered with the linked SQLCipher"
        );
        *FALLBACK.get().unwrap()
    }

    fn random(n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        rand::thread_rng().fill_bytes(&mut v);
        v
    }

    #[test]
    fn the_page_mac_is_openssls_for_every_algorithm_and_size() {
        let o = openssl();
        // SHA-1 is not ours: it goes to OpenSSL and must come back the same.
        for (algorithm, len) in [
            (0, 20),
            (SQLCIPHER_HMAC_SHA256, 32),
            (SQLCIPHER_HMAC_SHA512, 64),
        ] {
            for size in [0usize, 1, 63, 4016, 4096, 16_384] {
                let key = random(32);
                let data = random(size);
                let pgno = random(4);
                for extra in [Some(&pgno), None] {
                    let (p2, n2) = extra.map_or((std::ptr::null(), 0), |e| (e.as_ptr(), 4));
                    let run = |f: HmacFn| {
                        let mut out = [0u8; 64];
                        let rc = unsafe {
                            f(
                                null_mut(),
                                algorithm,
                                key.as_ptr(),
                                32,
                                data.as_ptr(),
                                size as c_int,
                                p2,
                                n2,
                                out.as_mut_ptr(),
                            )
                        };
                        (rc, out)
                    };
                    let ((a, ours), (b, theirs)) = (run(page_hmac), run(o.hmac));
                    assert_eq!((a, b), (SQLITE_OK, SQLITE_OK));
                    assert_eq!(
                        ours[..len],
                        theirs[..len],
                        "algorithm {algorithm}, {size} bytes"
                    );
                    assert!(
                        ours[len..].iter().all(|b| *b == 0),
                        "writes {len} bytes only"
                    );
                }
            }
        }
    }

    #[test]
    fn pages_encrypt_and_decrypt_as_openssl_does() {
        let o = openssl();
        for size in [0usize, 16, 4016, 4096 - 80, 16_384 - 80] {
            let key = random(32);
            let iv = random(16);
            let plain = random(size);
            let run = |f: CipherFn, mode: c_int, input: &[u8]| {
                let mut out = vec![0u8; size];
                let rc = unsafe {
                    f(
                        null_mut(),
                        mode,
                        key.as_ptr(),
                        32,
                        iv.as_ptr(),
                        input.as_ptr(),
                        size as c_int,
                        out.as_mut_ptr(),
                    )
                };
                assert_eq!(rc, SQLITE_OK);
                out
            };
            let ours = run(page_cipher, SQLCIPHER_ENCRYPT, &plain);
            assert_eq!(
                ours,
                run(o.cipher, SQLCIPHER_ENCRYPT, &plain),
                "{size} bytes"
            );
            if size > 0 {
                assert_ne!(ours, plain);
            }
            assert_eq!(run(page_cipher, SQLCIPHER_DECRYPT, &ours), plain);
            assert_eq!(run(o.cipher, SQLCIPHER_DECRYPT, &ours), plain);
            // In place (same input and output buffer).
            let mut buf = ours.clone();
            let rc = unsafe {
                page_cipher(
                    null_mut(),
                    SQLCIPHER_DECRYPT,
                    key.as_ptr(),
                    32,
                    iv.as_ptr(),
                    buf.as_ptr(),
                    size as c_int,
                    buf.as_mut_ptr(),
                )
            };
            assert_eq!((rc, &buf), (SQLITE_OK, &plain));
        }
    }

    #[test]
    fn bad_arguments_are_errors_not_reads() {
        openssl();
        let key = random(32);
        let iv = random(16);
        let mut out = vec![0u8; 64];
        // Not a whole number of AES blocks.
        let rc = unsafe {
            page_cipher(
                null_mut(),
                SQLCIPHER_DECRYPT,
                key.as_ptr(),
                32,
                iv.as_ptr(),
                out.clone().as_ptr(),
                15,
                out.as_mut_ptr(),
            )
        };
        assert_eq!(rc, SQLITE_ERROR);
        // Partly overlapping buffers.
        let rc = unsafe {
            page_cipher(
                null_mut(),
                SQLCIPHER_ENCRYPT,
                key.as_ptr(),
                32,
                iv.as_ptr(),
                out.as_ptr(),
                32,
                out.as_mut_ptr().add(16),
            )
        };
        assert_eq!(rc, SQLITE_ERROR);
        // No input.
        let rc = unsafe {
            page_hmac(
                null_mut(),
                SQLCIPHER_HMAC_SHA256,
                key.as_ptr(),
                32,
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
                out.as_mut_ptr(),
            )
        };
        assert_eq!(rc, SQLITE_ERROR);
    }

    #[test]
    fn keyed_connections_use_it() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::keys::DataKey::generate();
        let conn = crate::db::open(
            &dir.path().join("t.db"),
            &key,
            crate::db::CipherProfile::NEW,
            true,
        )
        .unwrap();
        let name: String = conn
            .query_row("PRAGMA cipher_provider", [], |r| r.get(0))
            .unwrap();
        assert_eq!(name, PROVIDER_NAME);
    }
}
