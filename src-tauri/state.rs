//! The window's session: at most one unlocked registry.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

use driftwarden_core::{CoreError, ErrorBody, Registry, SessionInfo};

/// Error code of a command that needs an unlocked registry while none is open.
pub const LOCKED: &str = "locked";

#[derive(Default)]
pub struct AppState {
    registry: Mutex<Option<Registry>>,
    /// Inbox keys already announced by a desktop notification in this session.
    notified: Mutex<HashSet<String>>,
}

/// The desktop's SQLCipher page cache. Screens read pages, not tables (every list is paged), so
/// a small cache costs a few decrypted pages per screen; 64 MiB (the CLI's) filled up over a
/// session and counted against the app's ≤ 300 MiB (PSS with the 10,000-model registry open).
const DESKTOP_PAGE_CACHE_MIB: i64 = 16;

impl AppState {
    fn slot(&self) -> MutexGuard<'_, Option<Registry>> {
        // A panic while holding the lock leaves no half-written state here (the core writes
        // transactionally), so a poisoned lock is still usable.
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes `registry` the unlocked registry of this window (closing any previous one).
    pub fn unlock(&self, registry: Registry) -> Result<SessionInfo, ErrorBody> {
        registry.set_page_cache_mib(DESKTOP_PAGE_CACHE_MIB)?;
        let session = registry.session()?;
        *self.slot() = Some(registry);
        self.notified_keys().clear();
        Ok(session)
    }

    /// Closes the unlocked registry, if any.
    pub fn lock(&self) {
        self.slot().take();
        self.notified_keys().clear();
    }

    /// The keys of the decisions already announced in this session.
    pub fn notified_keys(&self) -> MutexGuard<'_, HashSet<String>> {
        self.notified
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `op` on the unlocked registry, or fails with the `locked` code.
    pub fn with<T>(
        &self,
        op: impl FnOnce(&Registry) -> Result<T, CoreError>,
    ) -> Result<T, ErrorBody> {
        let slot = self.slot();
        let registry = slot.as_ref().ok_or_else(locked)?;
        Ok(op(registry)?)
    }

    /// Runs `op` on the unlocked registry with write access, or fails with the `locked` code.
    pub fn with_mut<T>(
        &self,
        op: impl FnOnce(&mut Registry) -> Result<T, CoreError>,
    ) -> Result<T, ErrorBody> {
        let mut slot = self.slot();
        let registry = slot.as_mut().ok_or_else(locked)?;
        Ok(op(registry)?)
    }

    /// The current session, or `None` while locked.
    pub fn session(&self) -> Result<Option<SessionInfo>, ErrorBody> {
        match self.slot().as_ref() {
            Some(registry) => Ok(Some(registry.session()?)),
            None => Ok(None),
        }
    }
}

fn locked() -> ErrorBody {
    ErrorBody {
        code: LOCKED.to_string(),
        message: "the registry is locked; unlock it first".to_string(),
        field: None,
    }
}
