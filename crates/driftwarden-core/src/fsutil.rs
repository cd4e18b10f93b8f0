//! File writes that never leave a half-written file behind.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{CoreError, Result};

/// Writes `bytes` to a temporary file beside `path`, syncs it, renames it over `path`, and syncs
/// the folder: a crash leaves either the old or the new file, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| CoreError::io(format!("creating {}", dir.display()), e))?;
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let res = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        write_all_or_fault(path, &mut f, bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    res.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        CoreError::io(format!("writing {}", path.display()), e)
    })
}

/// A named point where tests can stop the process (`DRIFTWARDEN_FAULT=<name>`), to prove that a
/// stop there leaves a consistent registry. Does nothing unless that variable names the point.
pub fn fault_point(name: &str) {
    if std::env::var("DRIFTWARDEN_FAULT").is_ok_and(|v| v == name) {
        eprintln!("driftwarden: stopped at fault point {name}");
        std::process::abort();
    }
}

/// Writes `bytes` to `f`, the file being written for `path`. Tests can make this fail half-way, as
/// a full disk does: with `DRIFTWARDEN_FAULT=short-write:<ending>`, writing any file whose path
/// ends with `<ending>` writes half of its bytes and then fails.
pub fn write_all_or_fault(path: &Path, f: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    if let Ok(fault) = std::env::var("DRIFTWARDEN_FAULT") {
        if let Some(ending) = fault.strip_prefix("short-write:") {
            if !ending.is_empty() && path.to_string_lossy().ends_with(ending) {
                f.write_all(&bytes[..bytes.len() / 2])?;
                f.flush()?;
                return Err(std::io::Error::new(
                    std::io::ErrorKind::StorageFull,
                    "no space left on device (short write injected by DRIFTWARDEN_FAULT)",
                ));
            }
        }
    }
    f.write_all(bytes)
}
