//! Scenario tests of the real `driftwarden` binary against real registries on disk.

mod common;
mod crash;
mod drift;
mod foundation;
mod governance;
mod nhi;
mod pack;
