//! Scenario tests of the real `driftwarden` binary against real registries on disk.

mod at_rest;
mod common;
mod crash;
mod dev;
mod drift;
mod faults;
mod foundation;
mod governance;
mod nhi;
mod pack;
