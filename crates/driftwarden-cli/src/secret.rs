//! Where passphrases come from: a file, an environment variable, or a prompt on a terminal.
//! They live in zeroizing buffers and are never printed.

use std::io::IsTerminal;
use std::path::Path;

use driftwarden_core::CoreError;
use zeroize::Zeroizing;

fn from_file(path: &Path) -> Result<Zeroizing<String>, CoreError> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
        CoreError::invalid(
            "passphrase-file",
            format!("cannot read {}: {e}", path.display()),
        )
    })?);
    let line = text.lines().next().unwrap_or("");
    Ok(Zeroizing::new(line.to_string()))
}

fn from_env(var: &str) -> Option<Zeroizing<String>> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Zeroizing::new)
}

fn prompt(label: &str) -> Result<Zeroizing<String>, CoreError> {
    if !std::io::stdin().is_terminal() {
        return Err(CoreError::invalid(
            "passphrase",
            "no passphrase given: use --passphrase-file FILE or DRIFTWARDEN_PASSPHRASE, or run on a terminal",
        ));
    }
    rpassword::prompt_password(label)
        .map(Zeroizing::new)
        .map_err(|e| {
            CoreError::invalid(
                "passphrase",
                format!("cannot read it from the terminal: {e}"),
            )
        })
}

/// The acting member's passphrase.
pub fn passphrase(file: Option<&Path>) -> Result<Zeroizing<String>, CoreError> {
    if let Some(f) = file {
        return from_file(f);
    }
    if let Some(p) = from_env("DRIFTWARDEN_PASSPHRASE") {
        return Ok(p);
    }
    prompt("Passphrase: ")
}

/// A new passphrase (registry creation, a new member): file, `env_var`, or prompted twice.
pub fn new_passphrase(file: Option<&Path>, env_var: &str) -> Result<Zeroizing<String>, CoreError> {
    if let Some(f) = file {
        return from_file(f);
    }
    if let Some(p) = from_env(env_var) {
        return Ok(p);
    }
    let first = prompt("New passphrase (it cannot be recovered): ")?;
    let second = prompt("Repeat it: ")?;
    if *first != *second {
        return Err(CoreError::invalid("passphrase", "the two entries differ"));
    }
    Ok(first)
}
