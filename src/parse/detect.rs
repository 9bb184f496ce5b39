//! Format detection from content, never from file names.
//!
//! The first decoded bytes of an input decide: a `{"Records"` envelope, a
//! JSON array or a pretty-printed object is a *document*, read whole; a JSON
//! object per line is CloudTrail (it has `eventName`/`eventSource`) or an
//! application log whose fields are mapped by [`FieldMap`]; text lines are an
//! access log when most of them parse as one. Anything else is skipped with
//! a reason the analyst can act on: CloudTrail digest files, error logs,
//! binary data, JSON without a time field.

use serde_json::Value;

use super::combined;
use super::mapping::{FieldMap, UserMap};
use super::{Format, for_each_line};

/// How an input is cut into records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One record per line, parsed in parallel chunks.
    Lines,
    /// One JSON document (envelope, array or single object), read whole.
    Document,
}

/// What to do with an input.
#[derive(Clone, Debug, PartialEq)]
pub enum Detection {
    Parse {
        format: Format,
        layout: Layout,
        mapping: Option<FieldMap>,
    },
    Skip(String),
}

/// Lines looked at to decide a line format.
const SAMPLE_LINES: usize = 200;

/// Decides how to read an input from its first decoded bytes. `complete`
/// says whether `sample` is the whole input (needed to recognise a
/// pretty-printed document). `forced` is the `--format` choice.
pub fn detect(
    sample: &[u8],
    complete: bool,
    forced: Option<Format>,
    user: Option<&UserMap>,
) -> Detection {
    let sample = sample.strip_prefix(b"\xef\xbb\xbf").unwrap_or(sample);
    let trimmed = sample.trim_ascii_start();
    if trimmed.is_empty() {
        return Detection::Skip("empty input".into());
    }
    if memchr::memchr(0, trimmed).is_some() && forced.is_none() {
        return Detection::Skip("binary data, not a text log".into());
    }
    if trimmed[0] == b'{' || is_json_array(trimmed) {
        detect_json(trimmed, complete, forced, user)
    } else {
        detect_text(sample, forced, user)
    }
}

/// `[` followed by an object, array, string or `]`: error logs also start
/// with `[` (`[Sun Dec 04 ...]`), JSON arrays of records do not continue so.
fn is_json_array(s: &[u8]) -> bool {
    s.first() == Some(&b'[')
        && matches!(
            s[1..].trim_ascii_start().first(),
            Some(b'{' | b'[' | b'"' | b']')
        )
}

fn detect_json(
    sample: &[u8],
    complete: bool,
    forced: Option<Format>,
    user: Option<&UserMap>,
) -> Detection {
    let first_line = sample.split(|&b| b == b'\n').next().unwrap_or_default();
    let first: Option<Value> = serde_json::from_slice(first_line).ok();
    match first {
        Some(Value::Object(obj)) if sample[0] == b'{' => {
            let first = Value::Object(obj);
            if first.get("Records").is_some() {
                return document(Format::CloudTrail);
            }
            if let Some(reason) = non_log_json(&first) {
                return Detection::Skip(reason);
            }
            if forced == Some(Format::CloudTrail)
                || (forced.is_none() && is_cloudtrail_record(&first))
            {
                return lines(Format::CloudTrail, None);
            }
            json_lines(&sample_records(sample), user)
        }
        _ => detect_json_document(sample, complete, forced),
    }
}

/// A document: an array, an envelope split over lines, or a pretty event.
fn detect_json_document(sample: &[u8], complete: bool, forced: Option<Format>) -> Detection {
    let head = &sample[..sample.len().min(64 << 10)];
    let has = |needle: &str| memchr::memmem::find(head, needle.as_bytes()).is_some();
    if has("\"digestStartTime\"") || has("\"digestS3Object\"") {
        return Detection::Skip("CloudTrail digest file (integrity hashes), not a log".into());
    }
    let cloudtrail = has("\"Records\"")
        || has("\"eventName\"")
        || has("\"eventSource\"")
        || has("\"eventVersion\"");
    if forced == Some(Format::CloudTrail) || (forced.is_none() && cloudtrail) {
        return document(Format::CloudTrail);
    }
    if !complete && forced.is_none() {
        return document(Format::JsonLines);
    }
    document(forced.unwrap_or(Format::JsonLines))
}

/// Maps the fields of a JSON document of application records.
pub fn map_document(doc: &[u8], user: Option<&UserMap>) -> Result<FieldMap, String> {
    let value: Value = match serde_json::from_slice(doc) {
        Ok(v) => v,
        // A broken document still has records before the break: map from
        // the elements that can be read.
        Err(_) => Value::Array(salvage_elements(doc)),
    };
    let records = match value {
        Value::Array(items) => items.into_iter().take(SAMPLE_LINES).collect(),
        obj @ Value::Object(_) => vec![obj],
        _ => Vec::new(),
    };
    match json_lines(&records, user) {
        Detection::Parse {
            mapping: Some(map), ..
        } => Ok(map),
        Detection::Skip(reason) => Err(reason),
        Detection::Parse { .. } => Err("no field mapping".into()),
    }
}

fn salvage_elements(doc: &[u8]) -> Vec<Value> {
    let inner = doc.trim_ascii_start().strip_prefix(b"[").unwrap_or(doc);
    let mut out = Vec::new();
    let mut rest = inner;
    while out.len() < SAMPLE_LINES {
        rest = rest.trim_ascii_start();
        rest = rest.strip_prefix(b",").unwrap_or(rest);
        let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(v)) => {
                let used = stream.byte_offset();
                out.push(v);
                rest = &rest[used..];
            }
            _ => break,
        }
    }
    out
}

fn document(format: Format) -> Detection {
    Detection::Parse {
        format,
        layout: Layout::Document,
        mapping: None,
    }
}

fn lines(format: Format, mapping: Option<FieldMap>) -> Detection {
    Detection::Parse {
        format,
        layout: Layout::Lines,
        mapping,
    }
}

fn is_cloudtrail_record(v: &Value) -> bool {
    let has = |k| v.get(k).is_some();
    (has("eventName") || has("eventSource"))
        && (has("eventTime") || has("@timestamp") || has("eventVersion"))
}

/// JSON that is known not to be a log.
fn non_log_json(v: &Value) -> Option<String> {
    let has = |k| v.get(k).is_some();
    if has("digestStartTime") || has("digestS3Object") || has("digestPublicKeyFingerprint") {
        return Some("CloudTrail digest file (integrity hashes), not a log".into());
    }
    None
}

fn sample_records(sample: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    for_each_line(sample, |_, line| {
        if out.len() < SAMPLE_LINES {
            if let Ok(v @ Value::Object(_)) = serde_json::from_slice::<Value>(line) {
                out.push(v);
            }
        }
    });
    out
}

fn json_lines(records: &[Value], user: Option<&UserMap>) -> Detection {
    let mut map = FieldMap::infer(records);
    if let Some(user) = user {
        map.apply(user);
    }
    if !map.has_time() {
        return Detection::Skip(
            "JSON records without a recognisable time field: name it with --map (ts = FIELD)"
                .into(),
        );
    }
    lines(Format::JsonLines, Some(map))
}

fn detect_text(sample: &[u8], forced: Option<Format>, user: Option<&UserMap>) -> Detection {
    match forced {
        Some(f @ (Format::Combined | Format::Common)) => return lines(f, None),
        Some(Format::CloudTrail) => return lines(Format::CloudTrail, None),
        Some(Format::JsonLines) => return json_lines(&sample_records(sample), user),
        None => {}
    }
    let (mut seen, mut parsed, mut with_agent) = (0usize, 0usize, 0usize);
    let mut first = Vec::new();
    for_each_line(sample, |_, line| {
        if seen >= SAMPLE_LINES || line.trim_ascii().is_empty() {
            return;
        }
        if first.is_empty() {
            first = line[..line.len().min(60)].to_vec();
        }
        seen += 1;
        let mut ev = crate::frame::EventRef::default();
        if combined::parse_line(line, &mut ev).is_ok() {
            parsed += 1;
            with_agent += usize::from(combined::is_combined(line));
        }
    });
    if seen > 0 && parsed * 2 > seen {
        let format = if with_agent * 2 >= parsed {
            Format::Combined
        } else {
            Format::Common
        };
        return lines(format, None);
    }
    Detection::Skip(describe_unknown(&first))
}

fn describe_unknown(first: &[u8]) -> String {
    let shown: String = String::from_utf8_lossy(first)
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect();
    let error_log = first.starts_with(b"[") && first.get(1).is_some_and(u8::is_ascii_alphabetic);
    if error_log {
        format!("looks like a server error log, not an access log (first line: '{shown}')")
    } else {
        format!("not a recognised log format (first line: '{shown}')")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format_of(d: &Detection) -> Option<(Format, Layout)> {
        match d {
            Detection::Parse { format, layout, .. } => Some((*format, *layout)),
            Detection::Skip(_) => None,
        }
    }

    #[test]
    fn access_logs() {
        let combined =
            b"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl/8\"\n";
        assert_eq!(
            format_of(&detect(combined, true, None, None)),
            Some((Format::Combined, Layout::Lines))
        );
        let common = b"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n";
        assert_eq!(
            format_of(&detect(common, true, None, None)),
            Some((Format::Common, Layout::Lines))
        );
    }

    #[test]
    fn cloudtrail_layouts() {
        let envelope = br#"{"Records":[{"eventTime":"2024-01-01T00:00:00Z","eventName":"X"}]}"#;
        assert_eq!(
            format_of(&detect(envelope, true, None, None)),
            Some((Format::CloudTrail, Layout::Document))
        );
        let per_line = br#"{"eventName":"X","eventSource":"s3.amazonaws.com","@timestamp":"2024-01-01T00:00:00Z"}"#;
        assert_eq!(
            format_of(&detect(per_line, true, None, None)),
            Some((Format::CloudTrail, Layout::Lines))
        );
        let array = b"[\n  {\n    \"eventName\": \"X\",\n    \"eventTime\": \"2024-01-01T00:00:00Z\"\n  }\n]";
        assert_eq!(
            format_of(&detect(array, true, None, None)),
            Some((Format::CloudTrail, Layout::Document))
        );
        let pretty = b"{\n  \"eventVersion\": \"1.08\",\n  \"eventName\": \"X\"\n}";
        assert_eq!(
            format_of(&detect(pretty, true, None, None)),
            Some((Format::CloudTrail, Layout::Document))
        );
    }

    #[test]
    fn skips_say_why() {
        let digest = br#"{"awsAccountId":"1","digestStartTime":"2024-01-01T00:00:00Z","digestS3Object":"x"}"#;
        assert!(
            matches!(detect(digest, true, None, None), Detection::Skip(r) if r.contains("digest"))
        );
        let error_log = b"[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties\n";
        assert!(
            matches!(detect(error_log, true, None, None), Detection::Skip(r) if r.contains("error log"))
        );
        assert!(
            matches!(detect(b"\x00\x01\x02", true, None, None), Detection::Skip(r) if r.contains("binary"))
        );
        assert!(matches!(
            detect(b"  \n", true, None, None),
            Detection::Skip(_)
        ));
        let no_time = b"{\"a\": 1, \"b\": \"x\"}\n";
        assert!(
            matches!(detect(no_time, true, None, None), Detection::Skip(r) if r.contains("--map"))
        );
    }

    #[test]
    fn json_lines_get_a_mapping() {
        let s = b"{\"ts\":\"2024-01-01T00:00:00Z\",\"clientIp\":\"1.2.3.4\",\"path\":\"/a\"}\n";
        match detect(s, true, None, None) {
            Detection::Parse {
                format: Format::JsonLines,
                layout: Layout::Lines,
                mapping: Some(map),
            } => {
                assert!(map.has_time());
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn gateway_arrays_are_mapped_even_when_cut() {
        let doc = br#"[{"time":"2024-01-01T00:00:00Z","ip":"1.2.3.4"},{"time":"2024-01-01T00:00:01Z","ip":"1.2"#;
        let map = map_document(doc, None).expect("mapped");
        assert!(map.has_time());
    }
}
