//! Integration tests of audit packs against real registries (the core's sample registry on
//! disk): writing, verifying, tampering, stock minisign, the PDF's text and the CSV tables.

mod common;
mod files;
mod report;
mod tamper;
