//! The same request logged twice: by the edge proxy and by the gateway.
//!
//! Both logs see the same client, method, path, query and status, a few
//! milliseconds apart on slightly different clocks. A line-format row
//! (edge) and a JSON row (gateway) with the same five values are paired when
//! their times are within [`TOLERANCE_NS`], nearest first. The row that
//! carries an identity (principal or credential) is kept as the event; the
//! other is marked `duplicate`, gets the identity copied over, and both
//! point at each other through `twin` so evidence can cite both lines.

use std::collections::HashMap;

use super::Rows;
use crate::frame::codes::Codes;

/// Largest clock difference between two logs of one request.
pub const TOLERANCE_NS: i64 = 2_000_000_000;

/// Pairs found: `twin[row]` is the other row, `duplicate[row]` marks the
/// copy that is not counted. Both are empty when the inputs hold only one
/// kind of log.
pub struct Twins {
    pub twin: Vec<Option<u32>>,
    pub duplicate: Vec<bool>,
}

/// Finds edge/gateway pairs. `line_format[row]` says whether a row comes
/// from a line format (access log) rather than JSON.
pub fn find(rows: &Rows<'_>, line_format: &[bool]) -> Twins {
    let n = rows.len();
    let has_both = line_format.iter().any(|&b| b) && line_format.iter().any(|&b| !b);
    if !has_both {
        // Nothing can be logged twice: no pairs, and nothing allocated.
        return Twins {
            twin: Vec::new(),
            duplicate: Vec::new(),
        };
    }
    let mut twins = Twins {
        twin: vec![None; n],
        duplicate: vec![false; n],
    };
    let gateway = index_json_rows(rows, line_format);
    let mut taken = vec![false; n];
    for (row, &is_edge) in line_format.iter().enumerate() {
        if !is_edge {
            continue;
        }
        let Some(key) = key_of(rows, row) else {
            continue;
        };
        let Some(candidates) = gateway.get(&key) else {
            continue;
        };
        if let Some(other) = nearest(rows, candidates, rows.ts[row], &taken) {
            taken[other] = true;
            pair(rows, &mut twins, row, other);
        }
    }
    twins
}

/// JSON rows by request key, each list sorted by time.
fn index_json_rows(rows: &Rows<'_>, line_format: &[bool]) -> HashMap<[u32; 5], Vec<u32>> {
    let mut index: HashMap<[u32; 5], Vec<u32>> = HashMap::new();
    for (row, &is_edge) in line_format.iter().enumerate() {
        if is_edge {
            continue;
        }
        if let Some(key) = key_of(rows, row) {
            index.entry(key).or_default().push(row as u32);
        }
    }
    for list in index.values_mut() {
        list.sort_by_key(|&r| rows.ts[r as usize]);
    }
    index
}

fn key_of(rows: &Rows<'_>, row: usize) -> Option<[u32; 5]> {
    let status = rows.status.get(row)?;
    let (ip, method, path) = (rows.ip.get(row), rows.method.get(row), rows.path.get(row));
    if ip == Codes::NULL || method == Codes::NULL || path == Codes::NULL {
        return None;
    }
    Some([ip, method, path, rows.query.get(row), status as u32])
}

/// The untaken candidate nearest in time to `ts`, within tolerance.
fn nearest(rows: &Rows<'_>, candidates: &[u32], ts: i64, taken: &[bool]) -> Option<usize> {
    let start = candidates.partition_point(|&r| rows.ts[r as usize] < ts - TOLERANCE_NS);
    candidates[start..]
        .iter()
        .map(|&r| r as usize)
        .take_while(|&r| rows.ts[r] <= ts + TOLERANCE_NS)
        .filter(|&r| !taken[r])
        .min_by_key(|&r| ((rows.ts[r] - ts).abs(), r))
}

fn pair(rows: &Rows<'_>, twins: &mut Twins, edge: usize, gateway: usize) {
    twins.twin[edge] = Some(gateway as u32);
    twins.twin[gateway] = Some(edge as u32);
    let identified =
        |r: usize| rows.principal.get(r) != Codes::NULL || rows.credential.get(r) != Codes::NULL;
    let copy = if identified(gateway) || !identified(edge) {
        edge
    } else {
        gateway
    };
    twins.duplicate[copy] = true;
}
