//! Integration tests of the drift engine: the shared fixtures (values computed by Evidently
//! 0.7.23 and scipy), malformed inputs, missing values and type handling.

mod common;
mod fixtures;
mod inputs;
