//! Integration tests of the core against real SQLCipher registries on disk.

mod common;
mod foundation;
mod governance;
mod inbox;
mod nhi;
