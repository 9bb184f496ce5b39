//! Report stage: machine outputs first (manifest, rejects, Parquet, tables),
//! then the human ones. Writers take their data from earlier stages and
//! never reach back into them; every text that an attacker may have written
//! goes through [`escape`] for its medium.

pub mod escape;
pub mod manifest;
pub mod parquet;
pub mod rejects;
pub mod tabular;
