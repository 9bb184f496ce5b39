//! Byte-string helpers for the hot paths of parsing, where a call to
//! `memcmp` for a value of a few bytes costs more than the comparison.

/// Byte equality tuned for the short values of log fields: up to 16 bytes
/// are compared as two overlapping words each (bytes for the shortest),
/// without a call to `memcmp`. Methods and outcomes, compared on nearly
/// every row, are three to seven bytes long.
#[inline]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or([0; 8]));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or([0; 4]));
    match n {
        0 => true,
        // The first, middle and last byte cover every byte of up to three.
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_compare_byte_for_byte() {
        let text = b"0123456789abcdefghij";
        for n in 0..=text.len() {
            let a = &text[..n];
            // A copy elsewhere in memory: equal bytes, not the same slice.
            let copy = a.to_vec();
            assert!(same_bytes(a, &copy));
            for i in 0..n {
                let mut b = a.to_vec();
                b[i] ^= 1;
                assert!(!same_bytes(a, &b), "length {n}, byte {i}");
            }
            assert!(!same_bytes(a, &text[..n.saturating_sub(1)]) || n == 0);
        }
    }
}
