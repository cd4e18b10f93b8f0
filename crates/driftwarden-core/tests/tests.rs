//! Integration tests of the core against real SQLCipher registries on disk.

mod calendar;
mod common;
mod foundation;
mod governance;
mod inbox;
mod nhi;
