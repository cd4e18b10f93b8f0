//! Integration tests of the core against real SQLCipher registries on disk.

mod calendar;
mod common;
mod faults;
mod foundation;
mod governance;
mod inbox;
mod nhi;
mod nhi_sql;
mod pages;
mod properties;
mod storage;
mod tamper;
