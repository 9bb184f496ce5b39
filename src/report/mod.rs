//! Report stage: machine outputs first (manifest, rejects, Parquet, tables),
//! then the human ones. Writers take their data from earlier stages and
//! never reach back into them; every text that an attacker may have written
//! goes through [`escape`] for its medium.

pub mod containment;
pub mod escape;
pub mod findings;
pub mod html;
pub mod manifest;
pub mod markdown;
pub mod narrative;
pub mod notify;
pub mod parquet;
pub mod rejects;
pub mod tabular;
pub mod timeline;
