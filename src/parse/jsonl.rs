//! JSON lines from API gateways and applications.
//!
//! Each line is walked once by a serde visitor that looks every field path up
//! in the input's [`FieldMap`]: mapped values are borrowed straight from the
//! line (copied only when they contain escapes), nested objects that hold no
//! mapped field are skipped without being built, and nothing is allocated per
//! line in the common case. The same visitor reads the elements of a JSON
//! array document.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::Tally;
use super::combined;
use super::mapping::{FieldMap, Target};
use crate::bytes::same_bytes;
use crate::frame::{Cat, EventRef, Flag, Outcome};
use crate::time::{Zone, epoch_int_to_ns, epoch_to_ns, parse_any};

/// A mapped value as found in the record.
#[derive(Clone, Debug)]
enum Val<'de> {
    Str(Cow<'de, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// The mapped values of one record, by target.
#[derive(Default)]
struct Record<'de> {
    values: [Option<Val<'de>>; Target::ALL.len()],
}

/// Reads JSON lines with one field map.
pub struct LineParser<'m> {
    map: &'m FieldMap,
    zone: Zone,
    path: String,
    outer: KeyMemo,
}

/// Where a key leads: a mapped leaf, an object holding mapped fields, or
/// nothing read.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Step {
    Leaf(Target),
    Object,
    Skip,
}

impl Step {
    fn of(map: &FieldMap, path: &str) -> Step {
        if let Some(target) = map.target(path) {
            Step::Leaf(target)
        } else if map.is_prefix(path) {
            Step::Object
        } else {
            Step::Skip
        }
    }
}

/// The keys of the last line's outer object, in order, with their steps.
///
/// Lines written by one program repeat their keys in one order, so the
/// i-th key of a line is nearly always the i-th key of the line before.
/// Comparing it with that key costs less than hashing it into the field
/// map; a key that differs is looked up and replaces the remembered one.
#[derive(Default)]
struct KeyMemo {
    keys: Vec<(Box<str>, Step)>,
}

impl KeyMemo {
    /// The step of `key`, the `i`-th key of an outer object.
    #[inline]
    fn step(&mut self, i: usize, key: &str, map: &FieldMap) -> Step {
        if let Some((known, step)) = self.keys.get(i)
            && same_bytes(known.as_bytes(), key.as_bytes())
        {
            return *step;
        }
        let step = Step::of(map, key);
        let entry = (Box::from(key), step);
        match self.keys.get_mut(i) {
            Some(slot) => *slot = entry,
            None => self.keys.push(entry),
        }
        step
    }
}

impl<'m> LineParser<'m> {
    /// A parser for lines described by `map`; zone-less times are read in
    /// `zone`.
    pub fn new(map: &'m FieldMap, zone: Zone) -> LineParser<'m> {
        LineParser {
            map,
            zone,
            path: String::new(),
            outer: KeyMemo::default(),
        }
    }

    /// Parses one line into `ev`.
    pub fn parse_line<'a>(
        &mut self,
        line: &'a [u8],
        ev: &mut EventRef<'a>,
    ) -> Result<(), Cow<'static, str>> {
        let mut rec = Record::default();
        let walked = match std::str::from_utf8(line) {
            // Nearly every line: checked as UTF-8 once here, so the reader
            // does not check each string again.
            Ok(text) => self.walk(serde_json::Deserializer::from_str(text), &mut rec),
            // Bad bytes may sit in a field that is not read; such a line is
            // still read, and rejected only if a read field holds them.
            Err(_) => self.walk(serde_json::Deserializer::from_slice(line), &mut rec),
        };
        if let Err(e) = walked {
            return Err(json_error(&e, line));
        }
        fill_event(&mut rec, self.zone, ev)
    }

    /// Walks the object of one line into `rec`.
    fn walk<'de, R: serde_json::de::Read<'de>>(
        &mut self,
        mut de: serde_json::Deserializer<R>,
        rec: &mut Record<'de>,
    ) -> Result<(), serde_json::Error> {
        // A line that failed half-way leaves its path behind.
        self.path.clear();
        let seed = ObjectSeed {
            map: self.map,
            path: &mut self.path,
            outer: Some(&mut self.outer),
            rec,
        };
        seed.deserialize(&mut de).and_then(|()| de.end())
    }
}

fn json_error(e: &serde_json::Error, line: &[u8]) -> Cow<'static, str> {
    if std::str::from_utf8(line).is_err() {
        return "line is not valid UTF-8 JSON".into();
    }
    format!("not a JSON object: {e}").into()
}

/// Walks one JSON object, recording mapped leaves.
struct ObjectSeed<'p, 'r, 'de> {
    map: &'p FieldMap,
    path: &'p mut String,
    /// The memo of outer keys, for the outer object only.
    outer: Option<&'p mut KeyMemo>,
    rec: &'r mut Record<'de>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut access: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(key) = access.next_key::<Key<'de>>()? {
            let base = self.path.len();
            // An outer key is its own path: it is written out only when an
            // object below it needs the prefix, not for every key of every
            // line.
            let step = match self.outer.as_deref_mut() {
                Some(memo) => {
                    let step = memo.step(i, &key.0, self.map);
                    if step == Step::Object {
                        push_key(self.path, &key.0);
                    }
                    step
                }
                None => {
                    push_key(self.path, &key.0);
                    Step::of(self.map, self.path)
                }
            };
            i += 1;
            match step {
                Step::Leaf(target) => {
                    let value: Option<Val<'de>> = access.next_value::<ValSeed<'de>>()?.0;
                    let slot = &mut self.rec.values[target as usize];
                    if slot.is_none() {
                        *slot = value;
                    }
                }
                Step::Object => access.next_value_seed(ObjectSeed {
                    map: self.map,
                    path: &mut *self.path,
                    outer: None,
                    rec: &mut *self.rec,
                })?,
                Step::Skip => {
                    access.next_value::<IgnoredAny>()?;
                }
            }
            self.path.truncate(base);
        }
        Ok(())
    }

    // A mapped prefix that turns out not to be an object is ignored.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Appends `key` to a dotted field path.
fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

/// An object key, borrowed when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A leaf value; objects and arrays under a mapped name are ignored.
struct ValSeed<'de>(Option<Val<'de>>);

impl<'de> de::Deserialize<'de> for ValSeed<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ValSeed<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<ValSeed<'de>, E> {
                Ok(ValSeed(Some(Val::Str(Cow::Borrowed(v)))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ValSeed<'de>, E> {
                Ok(ValSeed(Some(Val::Str(Cow::Owned(v.to_owned())))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ValSeed<'de>, E> {
                Ok(ValSeed(Some(Val::Int(v))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ValSeed<'de>, E> {
                Ok(ValSeed(Some(
                    i64::try_from(v).map_or(Val::Float(v as f64), Val::Int),
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ValSeed<'de>, E> {
                Ok(ValSeed(Some(Val::Float(v))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ValSeed<'de>, E> {
                Ok(ValSeed(Some(Val::Bool(v))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ValSeed<'de>, E> {
                Ok(ValSeed(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<ValSeed<'de>, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ValSeed(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<ValSeed<'de>, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ValSeed(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Turns the mapped values into event columns.
fn fill_event<'a>(
    rec: &mut Record<'a>,
    zone: Zone,
    ev: &mut EventRef<'a>,
) -> Result<(), Cow<'static, str>> {
    ev.ts = match rec.values[Target::Ts as usize].take() {
        Some(Val::Str(s)) => {
            parse_any(s.as_bytes(), zone).ok_or_else(|| format!("unreadable time '{s}'"))?
        }
        Some(Val::Int(n)) => epoch_int_to_ns(n).ok_or("unreadable epoch time")?,
        Some(Val::Float(x)) => epoch_to_ns(x).ok_or("unreadable epoch time")?,
        _ => return Err("record has no time field".into()),
    };
    ev.status = rec.values[Target::Status as usize]
        .take()
        .as_ref()
        .and_then(as_int)
        .map(|n| n as i32);
    ev.bytes = rec.values[Target::Bytes as usize]
        .take()
        .as_ref()
        .and_then(as_int)
        .and_then(|n| u64::try_from(n).ok());
    if let Some(v) = rec.values[Target::Mfa as usize]
        .take()
        .as_ref()
        .and_then(as_bool)
    {
        ev.set_flag(Flag::Mfa, v);
    }
    // Taken in place: the record is 20 slots wide, and moving it would
    // copy them all for every line.
    for (i, value) in rec.values.iter_mut().enumerate() {
        let text = match value.take() {
            Some(Val::Str(s)) => s,
            Some(other) => Cow::Owned(render(&other)),
            None => continue,
        };
        set_target(Target::ALL[i], text, ev);
    }
    set_outcome(ev);
    Ok(())
}

fn set_target<'a>(target: Target, s: Cow<'a, str>, ev: &mut EventRef<'a>) {
    match target {
        Target::Ip => set_ip(s, ev),
        Target::ForwardedFor => ev.set_cow(Cat::ForwardedFor, s),
        Target::Principal => ev.set_cow(Cat::Principal, s),
        Target::Credential => ev.set_cow(Cat::Credential, s),
        Target::Service => ev.set_cow(Cat::Service, s),
        Target::Method => ev.set_cow(Cat::Method, s),
        Target::Path => set_path(s, ev),
        Target::Url => set_url(s, ev),
        Target::Query => ev.set_cow(Cat::Query, strip_prefix_cow(s, "?")),
        Target::Request => set_request(s, ev),
        Target::UserAgent => ev.set_cow(Cat::UserAgent, s),
        Target::Referer => ev.set_cow(Cat::Referer, s),
        Target::RequestId => ev.set_request_id(s),
        Target::Action => ev.set_cow(Cat::Action, s),
        Target::ErrorCode => ev.set_cow(Cat::ErrorCode, s),
        Target::MintedCredential => ev.set_cow(Cat::MintedCredential, s),
        Target::Ts | Target::Status | Target::Bytes | Target::Mfa => {}
    }
}

/// Sub-slices of borrowed text stay borrowed; of owned text they are copied.
fn sub<'a>(s: &Cow<'a, str>, range: std::ops::Range<usize>) -> Cow<'a, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(&b[range]),
        Cow::Owned(o) => Cow::Owned(o[range].to_string()),
    }
}

fn strip_prefix_cow<'a>(s: Cow<'a, str>, prefix: &str) -> Cow<'a, str> {
    if s.starts_with(prefix) {
        sub(&s, prefix.len()..s.len())
    } else {
        s
    }
}

/// An address field may hold an `X-Forwarded-For` list.
fn set_ip<'a>(s: Cow<'a, str>, ev: &mut EventRef<'a>) {
    if !s.contains(',') {
        ev.set_cow(Cat::Ip, s);
        return;
    }
    let mut chosen = None;
    let mut last = None;
    let mut start = 0;
    for part in s.split(',') {
        let lead = part.len() - part.trim_start().len();
        let range = start + lead..start + lead + part.trim().len();
        start += part.len() + 1;
        if range.is_empty() {
            continue;
        }
        if combined::is_public(s[range.clone()].as_bytes()) {
            chosen = Some(range.clone());
        }
        last = Some(range);
    }
    if let Some(range) = chosen.or(last) {
        ev.set_cow(Cat::Ip, sub(&s, range));
    }
    ev.set_cow(Cat::ForwardedFor, s);
}

fn set_path<'a>(s: Cow<'a, str>, ev: &mut EventRef<'a>) {
    match s.find('?') {
        Some(q) => {
            ev.set_cow(Cat::Path, sub(&s, 0..q));
            if ev.get(Cat::Query).is_none() {
                ev.set_cow(Cat::Query, sub(&s, q + 1..s.len()));
            }
        }
        None => ev.set_cow(Cat::Path, s),
    }
}

/// `/a?b`, or a full URL whose host becomes the service when none is mapped.
fn set_url<'a>(s: Cow<'a, str>, ev: &mut EventRef<'a>) {
    let scheme = ["https://", "http://"]
        .into_iter()
        .find(|p| s.starts_with(p))
        .map_or(0, str::len);
    if scheme == 0 {
        return set_path(s, ev);
    }
    let slash = s[scheme..].find('/').map_or(s.len(), |i| scheme + i);
    if ev.get(Cat::Service).is_none() {
        ev.set_cow(Cat::Service, sub(&s, scheme..slash));
    }
    if slash < s.len() {
        set_path(sub(&s, slash..s.len()), ev);
    } else {
        ev.set_str(Cat::Path, "/");
    }
}

fn set_request<'a>(s: Cow<'a, str>, ev: &mut EventRef<'a>) {
    let Some(sp) = s.find(' ') else { return };
    if !super::mapping::is_method(&s[..sp]) {
        return;
    }
    let rest = &s[sp + 1..];
    let end = rest.find(' ').map_or(s.len(), |i| sp + 1 + i);
    ev.set_cow(Cat::Method, sub(&s, 0..sp));
    set_path(sub(&s, sp + 1..end), ev);
}

fn set_outcome(ev: &mut EventRef<'_>) {
    let outcome = match (ev.status, ev.get(Cat::ErrorCode)) {
        (Some(s), _) => Some(Outcome::from_status(s)),
        (None, Some(code)) => Some(Outcome::from_error_code(&String::from_utf8_lossy(code))),
        (None, None) => None,
    };
    if let Some(o) = outcome {
        ev.set_str(Cat::Outcome, o.as_str());
    }
}

fn render(v: &Val<'_>) -> String {
    match v {
        Val::Str(s) => s.to_string(),
        Val::Int(n) => n.to_string(),
        Val::Float(x) => x.to_string(),
        Val::Bool(b) => b.to_string(),
    }
}

fn as_int(v: &Val<'_>) -> Option<i64> {
    match v {
        Val::Int(n) => Some(*n),
        Val::Float(x) if x.fract() == 0.0 => Some(*x as i64),
        Val::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_bool(v: &Val<'_>) -> Option<bool> {
    match v {
        Val::Bool(b) => Some(*b),
        Val::Str(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => None,
        },
        Val::Int(n) => Some(*n != 0),
        Val::Float(_) => None,
    }
}

/// Parses a JSON array of records (or one record) with `map`.
pub(crate) fn parse_document(doc: &[u8], map: &FieldMap, tally: &mut Tally, zone: Zone) {
    let mut parser = LineParser::new(map, zone);
    super::cloudtrail::for_each_raw_record(doc, tally, |raw, n, tally| {
        let mut ev = EventRef::at_line(n);
        match parser.parse_line(raw.get().as_bytes(), &mut ev) {
            Ok(()) => tally.accept(&ev),
            Err(reason) => tally.reject(n, reason, raw.get().as_bytes()),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Dictionary, EventBuilder};
    use crate::time::naive_to_ns;
    use serde_json::json;

    fn map_for(sample: serde_json::Value) -> FieldMap {
        FieldMap::infer(&[sample])
    }

    fn text(ev: &EventRef<'_>, c: Cat) -> Option<String> {
        ev.get(c).map(|b| String::from_utf8_lossy(b).into_owned())
    }

    #[test]
    fn reads_mapped_fields_and_skips_the_rest() {
        let line = r#"{"time":"2024-03-05T10:11:12Z","clientIp":"203.0.113.9","user":"alice","apiKeyId":"key-1","method":"GET","path":"/api/v1/customers/7?x=1","status":200,"bytes":512,"userAgent":"python-requests/2.31","requestId":"r-1","extra":{"deep":[1,2,{"a":"b"}]}}"#;
        let map = map_for(serde_json::from_str(line).expect("json"));
        let mut p = LineParser::new(&map, Zone::Utc);
        let mut ev = EventRef::default();
        p.parse_line(line.as_bytes(), &mut ev).expect("parses");
        assert_eq!(
            ev.ts,
            naive_to_ns("2024-03-05 10:11:12", Zone::Utc).expect("time")
        );
        assert_eq!(text(&ev, Cat::Ip).as_deref(), Some("203.0.113.9"));
        assert_eq!(text(&ev, Cat::Principal).as_deref(), Some("alice"));
        assert_eq!(text(&ev, Cat::Credential).as_deref(), Some("key-1"));
        assert_eq!(text(&ev, Cat::Path).as_deref(), Some("/api/v1/customers/7"));
        assert_eq!(text(&ev, Cat::Query).as_deref(), Some("x=1"));
        assert_eq!(text(&ev, Cat::Outcome).as_deref(), Some("success"));
        assert_eq!((ev.status, ev.bytes), (Some(200), Some(512)));
        assert_eq!(ev.request_id.as_deref(), Some(&b"r-1"[..]));
    }

    #[test]
    fn escapes_numbers_and_nesting() {
        let sample = json!({"@timestamp": 1709633472123_i64, "source": {"ip": "10.0.0.1, 198.51.100.3"},
            "user": {"id": 42}, "url": {"original": "https://api.example.com/v1/a?b=c"},
            "user_agent": {"original": "say \"hi\""}, "http": {"response": {"status_code": "403"}}});
        let map = map_for(sample.clone());
        let line = serde_json::to_vec(&sample).expect("json");
        let mut p = LineParser::new(&map, Zone::Utc);
        let mut ev = EventRef::default();
        p.parse_line(&line, &mut ev).expect("parses");
        assert_eq!(
            ev.ts,
            naive_to_ns("2024-03-05 10:11:12", Zone::Utc).expect("time") + 123_000_000
        );
        assert_eq!(text(&ev, Cat::Ip).as_deref(), Some("198.51.100.3"));
        assert_eq!(text(&ev, Cat::Principal).as_deref(), Some("42"));
        assert_eq!(text(&ev, Cat::Service).as_deref(), Some("api.example.com"));
        assert_eq!(text(&ev, Cat::Path).as_deref(), Some("/v1/a"));
        assert_eq!(text(&ev, Cat::UserAgent).as_deref(), Some("say \"hi\""));
        assert_eq!(text(&ev, Cat::Outcome).as_deref(), Some("denied"));
        let mut b = EventBuilder::new(Dictionary::global());
        b.push(&ev);
        assert_eq!(b.rows(), 1);
    }

    #[test]
    fn keys_in_a_new_order_are_read_by_name_not_position() {
        let map = map_for(json!({"time": "2024-03-05T10:11:12Z", "ip": "1.2.3.4",
            "user": {"name": "alice"}, "method": "GET"}));
        let mut p = LineParser::new(&map, Zone::Utc);
        let lines = [
            r#"{"time": "2024-03-05T10:11:12Z", "ip": "1.2.3.4", "user": {"name": "alice"}, "method": "GET"}"#,
            // The same keys in another order: each position now holds a
            // key the memo remembers for a different position.
            r#"{"method": "PUT", "user": {"name": "bob"}, "ip": "5.6.7.8", "time": "2024-03-05T10:11:13Z"}"#,
            // An unread key first shifts every other key by one.
            r#"{"note": "x", "time": "2024-03-05T10:11:14Z", "ip": "9.9.9.9", "method": "GET", "user": {"name": "carol"}}"#,
            // A mapped object's name with a plain value, and a missing key.
            r#"{"note": "x", "time": "2024-03-05T10:11:15Z", "user": "dave"}"#,
        ];
        let mut seen = Vec::new();
        for line in lines {
            let mut ev = EventRef::default();
            p.parse_line(line.as_bytes(), &mut ev).expect("parses");
            seen.push((
                ev.ts / 1_000_000_000 % 60,
                text(&ev, Cat::Ip),
                text(&ev, Cat::Principal),
                text(&ev, Cat::Method),
            ));
        }
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            seen,
            vec![
                (12, s("1.2.3.4"), s("alice"), s("GET")),
                (13, s("5.6.7.8"), s("bob"), s("PUT")),
                (14, s("9.9.9.9"), s("carol"), s("GET")),
                (15, None, None, None),
            ]
        );
    }

    #[test]
    fn bad_lines_are_rejected_with_reasons() {
        let map = map_for(json!({"time": "2024-03-05T10:11:12Z", "ip": "1.2.3.4"}));
        let mut p = LineParser::new(&map, Zone::Utc);
        let mut ev = EventRef::default();
        let e = p
            .parse_line(br#"{"time": "2024-03-05T10:11:12Z", "ip": "1.2"#, &mut ev)
            .expect_err("cut");
        assert!(e.starts_with("not a JSON object"), "{e}");
        let mut ev = EventRef::default();
        let e = p
            .parse_line(br#"{"ip": "1.2.3.4"}"#, &mut ev)
            .expect_err("no time");
        assert_eq!(e, "record has no time field");
        let mut ev = EventRef::default();
        let e = p
            .parse_line(br#"{"time": "soon"}"#, &mut ev)
            .expect_err("bad time");
        assert_eq!(e, "unreadable time 'soon'");
    }

    #[test]
    fn bad_utf8_rejects_a_line_only_where_it_is_read() {
        let map = map_for(json!({"time": "2024-03-05T10:11:12Z", "ip": "1.2.3.4"}));
        let mut p = LineParser::new(&map, Zone::Utc);
        // A stray Latin-1 byte (0xe9) in a field no column reads.
        let mut unread =
            br#"{"time": "2024-03-05T10:11:12Z", "ip": "1.2.3.4", "note": "caf"#.to_vec();
        unread.extend_from_slice(&[0xe9, b'"', b'}']);
        let mut ev = EventRef::default();
        p.parse_line(&unread, &mut ev)
            .expect("unread field may hold it");
        assert_eq!(text(&ev, Cat::Ip).as_deref(), Some("1.2.3.4"));
        // The same byte in the address.
        let mut read = br#"{"time": "2024-03-05T10:11:12Z", "ip": "1.2.3."#.to_vec();
        read.extend_from_slice(&[0xe9, b'"', b'}']);
        let mut ev = EventRef::default();
        let e = p.parse_line(&read, &mut ev).expect_err("read field");
        assert_eq!(e, "line is not valid UTF-8 JSON");
    }
}
