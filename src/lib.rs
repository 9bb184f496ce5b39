//! breachscope: an offline forensic engine for REST-API incidents.
//!
//! The modules follow the pipeline of the design:
//!
//! ```text
//! source → decode → parse → frame → enrich → scope → report
//! ```
//!
//! [`source`] finds and fingerprints inputs, [`decode`] turns them into
//! line-aligned chunks, [`parse`] has one parser per format filling the
//! column builders of [`frame`], and [`load`] drives those four stages in
//! parallel into one Polars frame of events. [`sweep`] searches raw bytes
//! for indicators without parsing. [`report`] writes what the analyst reads.
//! [`generate`] writes simulated incidents with their answer key.
//! [`cli`] is the command line around it all.

pub mod bytes;
pub mod cli;
pub mod decode;
pub mod enrich;
pub mod frame;
pub mod generate;
pub mod load;
pub mod parallel;
pub mod parse;
pub mod report;
pub mod scope;
pub mod source;
pub mod sweep;
pub mod time;
pub mod timing;
