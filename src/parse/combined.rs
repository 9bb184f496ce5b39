//! nginx / Apache access logs: `combined`, `common` and their real variants.
//!
//! The line is read left to right by hand, anchored on the bracketed time,
//! because the fields before it vary the most in the wild:
//!
//! ```text
//! [vhost[:port]] client[, client...] ident user [time] "request" status size
//!     ["referer" "agent"] [extra...]
//! ```
//!
//! The client part may be a single address, a host name, an
//! `X-Forwarded-For` list (bare or quoted) followed by the proxy address, and
//! may be preceded by a virtual host. The event's `ip` is the right-most
//! public address of that chain (the first hop a trusted proxy could not
//! have invented), or the connecting address when none is public; the full
//! chain is kept in `forwarded_for`. Quoted fields keep their escapes as
//! logged (`\"`, `\x22`): evidence is not rewritten.

use std::net::IpAddr;

use crate::frame::{Cat, EventRef, Outcome};
use crate::time::ClfDays;

/// Why a line is not an access-log line.
pub type Reason = &'static str;

/// Parses one access-log line into `ev` (except `line`).
pub fn parse_line<'a>(line: &'a [u8], ev: &mut EventRef<'a>) -> Result<(), Reason> {
    LineParser::default().parse_line(line, ev)
}

/// Parses the lines of one chunk, remembering the date of the last time
/// read (see [`ClfDays`]).
#[derive(Default)]
pub struct LineParser {
    days: ClfDays,
}

impl LineParser {
    /// Parses one access-log line into `ev` (except `line`).
    pub fn parse_line<'a>(&mut self, line: &'a [u8], ev: &mut EventRef<'a>) -> Result<(), Reason> {
        let (open, close, ts) =
            find_time(line, &mut self.days).ok_or("no [day/month/year:time zone] field")?;
        ev.ts = ts;
        parse_head(&line[..open], ev)?;
        let rest = line.get(close + 1..).unwrap_or_default();
        let rest = rest.strip_prefix(b" ").ok_or("no request after the time")?;
        let (request, rest) = quoted(rest).ok_or("request is not a closed quoted string")?;
        parse_request(request, ev);
        let (status, rest) = token(rest).ok_or("no status after the request")?;
        if status != b"-" {
            let code = parse_u64(status)
                .filter(|c| (100..1000).contains(c))
                .ok_or("status is not a number")?;
            ev.status = Some(code as i32);
            ev.set_str(Cat::Outcome, Outcome::from_status(code as i32).as_str());
        }
        let (size, rest) = token(rest).ok_or("no size after the status")?;
        if size != b"-" {
            ev.bytes = Some(parse_u64(size).ok_or("size is not a number")?);
        }
        parse_tail(rest, ev)
    }
}

/// Whether a line carries the referer and user-agent fields of `combined`.
pub fn is_combined(line: &[u8]) -> bool {
    let mut ev = EventRef::default();
    parse_line(line, &mut ev).is_ok() && (ev.get(Cat::UserAgent).is_some() || has_quoted_tail(line))
}

fn has_quoted_tail(line: &[u8]) -> bool {
    line.iter().filter(|&&b| b == b'"').count() >= 6
}

/// Finds `[dd/Mon/yyyy:hh:mm:ss zone]`, trying each `[` in turn.
fn find_time(line: &[u8], days: &mut ClfDays) -> Option<(usize, usize, i64)> {
    for open in memchr::memchr_iter(b'[', line).take(8) {
        let body = &line[open + 1..];
        // The time is nearly always the 26 bytes `dd/Mon/yyyy:hh:mm:ss +zzzz`.
        let len = match body.get(26) {
            Some(b']') => Some(26),
            _ => memchr::memchr(b']', body),
        };
        let Some(len) = len else {
            break;
        };
        if let Some(ts) = days.parse(&body[..len]) {
            return Some((open, open + 1 + len, ts));
        }
    }
    None
}

/// Reads `[vhost] client... ident user ` before the time.
fn parse_head<'a>(head: &'a [u8], ev: &mut EventRef<'a>) -> Result<(), Reason> {
    let head = trim(head);
    let (rest, user) = rsplit_token(head).ok_or("no user field before the time")?;
    let (client, _ident) = rsplit_token(rest).ok_or("no ident field before the time")?;
    let client = trim(client);
    if client.is_empty() {
        return Err("no client address before the time");
    }
    if user != b"-" {
        ev.set(Cat::Principal, user);
    }
    parse_client(client, ev);
    Ok(())
}

/// Splits off the last space-separated token.
fn rsplit_token(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let s = trim(s);
    if s.is_empty() {
        return None;
    }
    match rfind_near(b' ', s) {
        Some(i) => Some((&s[..i], &s[i + 1..])),
        None => Some((&[], s)),
    }
}

/// A group of client addresses: one token, a comma list, or a quoted list.
struct Group<'a> {
    text: &'a [u8],
    single: bool,
}

fn client_groups(s: &[u8]) -> Vec<Group<'_>> {
    let mut groups = Vec::with_capacity(3);
    let mut i = 0;
    while i < s.len() {
        if s[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        if s[i] == b'"' {
            let end = memchr::memchr(b'"', &s[i + 1..]).map_or(s.len(), |e| i + 1 + e + 1);
            groups.push(Group {
                text: &s[start..end],
                single: false,
            });
            i = end;
            continue;
        }
        // A token, extended while it ends with a comma (", " lists).
        let mut single = true;
        loop {
            let end = memchr::memchr(b' ', &s[i..]).map_or(s.len(), |e| i + e);
            i = end;
            if s[end - 1] == b',' && end < s.len() {
                single = false;
                i += 1;
                continue;
            }
            break;
        }
        groups.push(Group {
            text: &s[start..i],
            single,
        });
    }
    groups
}

fn parse_client<'a>(client: &'a [u8], ev: &mut EventRef<'a>) {
    // Most lines hold one address: no list to split, nothing to allocate.
    // A scan by hand: an address is a few bytes, too short for memchr3.
    if !client.iter().any(|&b| matches!(b, b' ' | b',' | b'"')) {
        ev.set(Cat::Ip, client);
        return;
    }
    let groups = client_groups(client);
    let mut chain_start = 0;
    if groups.len() >= 2 && groups[0].single {
        ev.set(Cat::Service, strip_port(groups[0].text));
        chain_start = 1;
    }
    let chain_text = match groups.get(chain_start) {
        Some(g) => trim(&client[offset_in(client, g.text)..]),
        None => client,
    };
    let addrs: Vec<&[u8]> = groups[chain_start..]
        .iter()
        .flat_map(|g| g.text.split(|&b| b == b',' || b == b'"' || b == b' '))
        .filter(|a| !a.is_empty())
        .collect();
    let Some(&remote) = addrs.last() else { return };
    let chosen = addrs
        .iter()
        .rev()
        .find(|a| is_public(a))
        .copied()
        .unwrap_or(remote);
    ev.set(Cat::Ip, chosen);
    if addrs.len() > 1 {
        ev.set(Cat::ForwardedFor, chain_text);
    }
}

fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    inner.as_ptr() as usize - outer.as_ptr() as usize
}

/// `example.com:80` → `example.com`; IPv6 addresses are left alone.
fn strip_port(host: &[u8]) -> &[u8] {
    match memchr::memrchr(b':', host) {
        Some(i) if memchr::memchr(b':', &host[..i]).is_none() && i + 1 < host.len() => {
            if host[i + 1..].iter().all(u8::is_ascii_digit) {
                &host[..i]
            } else {
                host
            }
        }
        _ => host,
    }
}

/// Whether `addr` is an IP address routable on the Internet. Documentation
/// ranges count as public: they stand in for real addresses in examples.
pub fn is_public(addr: &[u8]) -> bool {
    let Some(ip) = std::str::from_utf8(addr)
        .ok()
        .and_then(|s| s.parse::<IpAddr>().ok())
    else {
        return false;
    };
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            let shared = a == 100 && (64..128).contains(&b);
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || shared)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            let unique_local = first & 0xfe00 == 0xfc00;
            let link_local = first & 0xffc0 == 0xfe80;
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || unique_local
                || link_local)
        }
    }
}

/// Reads `"..."` at the start of `s`, honouring backslash escapes; returns the
/// content and what follows the closing quote.
fn quoted(s: &[u8]) -> Option<(&[u8], &[u8])> {
    if s.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while let Some(j) = memchr::memchr2(b'"', b'\\', &s[i..]) {
        let at = i + j;
        if s[at] == b'\\' {
            i = at + 2;
            if i > s.len() {
                return None;
            }
            continue;
        }
        return Some((&s[1..at], &s[at + 1..]));
    }
    None
}

/// Reads a space-delimited token after one leading space.
fn token(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let s = s.strip_prefix(b" ")?;
    let end = find_near(b' ', s).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((&s[..end], &s[end..]))
}

/// Splits `METHOD target PROTOCOL`; an empty, `-` or garbage request leaves
/// method and path unset (the line is still a valid log line).
fn parse_request<'a>(req: &'a [u8], ev: &mut EventRef<'a>) {
    let Some(sp) = find_near(b' ', req) else {
        return;
    };
    let method = &req[..sp];
    if method.is_empty()
        || !method
            .iter()
            .all(|b| b.is_ascii_uppercase() || *b == b'_' || *b == b'-')
    {
        return;
    }
    let mut target = &req[sp + 1..];
    if let Some(last) = rfind_near(b' ', target) {
        if target[last + 1..].starts_with(b"HTTP/") {
            target = &target[..last];
        }
    }
    ev.set(Cat::Method, method);
    match memchr::memchr(b'?', target) {
        Some(q) => {
            ev.set(Cat::Path, &target[..q]);
            ev.set(Cat::Query, &target[q + 1..]);
        }
        None => ev.set(Cat::Path, target),
    }
}

/// Reads the optional `"referer" "agent"` and any extra fields after them. A
/// quoted field that never closes means the line was cut: it is rejected.
fn parse_tail<'a>(rest: &'a [u8], ev: &mut EventRef<'a>) -> Result<(), Reason> {
    let rest = trim(rest);
    if rest.is_empty() {
        return Ok(());
    }
    let (referer, rest) = quoted(rest).ok_or("referer is not a closed quoted string")?;
    ev.set(Cat::Referer, referer);
    let rest = trim(rest);
    if rest.is_empty() {
        return Ok(());
    }
    let (agent, rest) = quoted(rest).ok_or("user agent is not a closed quoted string")?;
    ev.set(Cat::UserAgent, agent);
    parse_extra(trim(rest), ev);
    Ok(())
}

/// nginx configurations often append `"$http_x_forwarded_for"`; when it
/// holds addresses and the client part did not, it is the client chain.
fn parse_extra<'a>(rest: &'a [u8], ev: &mut EventRef<'a>) {
    let Some((first, _)) = quoted(rest) else {
        return;
    };
    if ev.get(Cat::ForwardedFor).is_some() || first == b"-" || first.is_empty() {
        return;
    }
    let addrs: Vec<&[u8]> = first
        .split(|&b| b == b',')
        .map(trim)
        .filter(|a| !a.is_empty())
        .collect();
    if addrs
        .iter()
        .all(|a| std::str::from_utf8(a).is_ok_and(|s| s.parse::<IpAddr>().is_ok()))
    {
        ev.set(Cat::ForwardedFor, first);
        if !ev.get(Cat::Ip).is_some_and(is_public) {
            if let Some(public) = addrs.iter().rev().find(|a| is_public(a)) {
                ev.set(Cat::Ip, public);
            }
        }
    }
}

/// Bytes compared one at a time before a search is handed to `memchr`.
/// Most fields of a log line end within a few bytes (a method, a status, the
/// protocol after the path), where setting up a vector search costs more
/// than the scan itself.
const NEAR: usize = 16;

/// Position of the first `byte` in `s`.
#[inline]
fn find_near(byte: u8, s: &[u8]) -> Option<usize> {
    let near = s.len().min(NEAR);
    match s[..near].iter().position(|&b| b == byte) {
        Some(i) => Some(i),
        None => memchr::memchr(byte, &s[near..]).map(|i| near + i),
    }
}

/// Position of the last `byte` in `s`.
#[inline]
fn rfind_near(byte: u8, s: &[u8]) -> Option<usize> {
    let far = s.len().saturating_sub(NEAR);
    match s[far..].iter().rposition(|&b| b == byte) {
        Some(i) => Some(far + i),
        None => memchr::memrchr(byte, &s[..far]),
    }
}

fn trim(s: &[u8]) -> &[u8] {
    s.trim_ascii()
}

fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{Zone, naive_to_ns};

    #[test]
    fn near_searches_agree_with_memchr_on_both_sides_of_the_cut() {
        for len in 0..40 {
            for at in [
                None,
                Some(0),
                Some(1),
                Some(NEAR - 1),
                Some(NEAR),
                Some(NEAR + 1),
                Some(39),
            ] {
                let mut s = vec![b'a'; len];
                if let Some(i) = at.filter(|&i| i < len) {
                    s[i] = b' ';
                    if i + 3 < len {
                        s[i + 3] = b' ';
                    }
                }
                assert_eq!(
                    find_near(b' ', &s),
                    memchr::memchr(b' ', &s),
                    "{len} {at:?}"
                );
                assert_eq!(
                    rfind_near(b' ', &s),
                    memchr::memrchr(b' ', &s),
                    "{len} {at:?}"
                );
            }
        }
    }

    fn parse(line: &str) -> EventRef<'_> {
        let mut ev = EventRef::default();
        parse_line(line.as_bytes(), &mut ev).unwrap_or_else(|r| panic!("{line}: {r}"));
        ev
    }

    fn get<'e>(ev: &'e EventRef<'_>, c: Cat) -> Option<&'e str> {
        ev.get(c).map(|b| std::str::from_utf8(b).expect("utf-8"))
    }

    #[test]
    fn plain_combined() {
        let ev = parse(
            r#"203.0.113.9 - alice [10/Oct/2023:13:55:36 -0700] "GET /api/v1/customers/42?expand=1 HTTP/1.1" 200 2326 "https://app.example/" "Mozilla/5.0 (X11)""#,
        );
        assert_eq!(
            ev.ts,
            naive_to_ns("2023-10-10 20:55:36", Zone::Utc).expect("time")
        );
        assert_eq!(get(&ev, Cat::Ip), Some("203.0.113.9"));
        assert_eq!(get(&ev, Cat::Principal), Some("alice"));
        assert_eq!(get(&ev, Cat::Method), Some("GET"));
        assert_eq!(get(&ev, Cat::Path), Some("/api/v1/customers/42"));
        assert_eq!(get(&ev, Cat::Query), Some("expand=1"));
        assert_eq!(ev.status, Some(200));
        assert_eq!(get(&ev, Cat::Outcome), Some("success"));
        assert_eq!(ev.bytes, Some(2326));
        assert_eq!(get(&ev, Cat::Referer), Some("https://app.example/"));
        assert_eq!(get(&ev, Cat::UserAgent), Some("Mozilla/5.0 (X11)"));
        assert_eq!(get(&ev, Cat::Service), None);
    }

    #[test]
    fn common_without_referer_and_dash_request() {
        let ev = parse(r#"::1 - - [26/Dec/2016:16:16:48 +0200] "-" 408 -"#);
        assert_eq!(get(&ev, Cat::Ip), Some("::1"));
        assert_eq!(get(&ev, Cat::Method), None);
        assert_eq!(ev.status, Some(408));
        assert_eq!(ev.bytes, None);
        let ev = parse(r#"127.0.0.1 - - [12/Apr/2018:09:48:40 +0200] "" 400 0 "-" "-""#);
        assert_eq!(get(&ev, Cat::UserAgent), None);
        let ev = parse(
            r#"example.com:80 unix: - - [26/Feb/2019:15:39:42 +0100] "hello" 400 173 "-" "-""#,
        );
        assert_eq!(get(&ev, Cat::Service), Some("example.com"));
        assert_eq!(get(&ev, Cat::Ip), Some("unix:"));
        assert_eq!(get(&ev, Cat::Method), None);
    }

    #[test]
    fn forwarded_lists_pick_rightmost_public() {
        let ev = parse(
            r#"10.0.0.2, 10.0.0.1, 85.181.35.98 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "UA""#,
        );
        assert_eq!(get(&ev, Cat::Ip), Some("85.181.35.98"));
        assert_eq!(
            get(&ev, Cat::ForwardedFor),
            Some("10.0.0.2, 10.0.0.1, 85.181.35.98")
        );
        let ev = parse(
            r#"example.com:80 "10.5.102.222, 175.16.199.1, 204.246.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /assets/xxxx?q=100 HTTP/1.1" 200 25507 "-" "Amazon CloudFront""#,
        );
        assert_eq!(get(&ev, Cat::Service), Some("example.com"));
        assert_eq!(get(&ev, Cat::Ip), Some("204.246.1.1"));
        let ev = parse(
            r#"1.128.3.4 2a02:cf40:10ff:f00f:0000:0000:0:8000, 10.225.192.17 10.2.2.121 - - [30/Dec/2016:06:47:09 +0000] "GET /test.html HTTP/1.1" 404 8571 "-" "Facebot""#,
        );
        assert_eq!(get(&ev, Cat::Service), Some("1.128.3.4"));
        assert_eq!(
            get(&ev, Cat::Ip),
            Some("2a02:cf40:10ff:f00f:0000:0000:0:8000")
        );
        let ev = parse(
            r#"vhost1.domaine.fr 123.123.123.123 - - [04/Jul/2019:09:20:46 +0200] "GET / HTTP/1.1" 200 32953 "-" "Chrome""#,
        );
        assert_eq!(get(&ev, Cat::Service), Some("vhost1.domaine.fr"));
        assert_eq!(get(&ev, Cat::Ip), Some("123.123.123.123"));
        assert_eq!(get(&ev, Cat::ForwardedFor), None);
    }

    #[test]
    fn trailing_forwarded_for_field() {
        let ev = parse(
            r#"10.1.1.1 - - [29/May/2017:19:02:48 +0000] "GET /x HTTP/1.1" 404 612 "-" "UA" "198.51.100.7, 10.0.0.1""#,
        );
        assert_eq!(get(&ev, Cat::Ip), Some("198.51.100.7"));
        assert_eq!(get(&ev, Cat::ForwardedFor), Some("198.51.100.7, 10.0.0.1"));
        let ev = parse(
            r#"172.17.0.1 - - [29/May/2017:19:02:48 +0000] "GET /x HTTP/1.1" 404 612 "-" "UA" "-""#,
        );
        assert_eq!(get(&ev, Cat::Ip), Some("172.17.0.1"));
    }

    #[test]
    fn escaped_quotes_stay_inside_fields() {
        let ev = parse(
            r#"198.51.100.1 - - [01/Jan/2024:00:00:00 +0000] "GET /a\"b HTTP/1.1" 200 1 "-" "evil \"agent\" 1.0""#,
        );
        assert_eq!(get(&ev, Cat::Path), Some(r#"/a\"b"#));
        assert_eq!(get(&ev, Cat::UserAgent), Some(r#"evil \"agent\" 1.0"#));
    }

    #[test]
    fn rejects_say_why() {
        let mut ev = EventRef::default();
        let cut = br#"66.249.73.135 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "Googlebot (+http://www.google.com/bot.html"#;
        assert_eq!(
            parse_line(cut, &mut ev),
            Err("user agent is not a closed quoted string")
        );
        assert!(
            parse_line(
                b"[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok",
                &mut ev
            )
            .is_err()
        );
        assert!(parse_line(b"", &mut ev).is_err());
        assert_eq!(
            parse_line(
                br#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" abc 1"#,
                &mut ev
            ),
            Err("status is not a number")
        );
    }

    #[test]
    fn public_addresses() {
        assert!(is_public(b"8.8.8.8"));
        assert!(is_public(b"203.0.113.5"));
        assert!(!is_public(b"10.1.2.3"));
        assert!(!is_public(b"100.64.0.1"));
        assert!(!is_public(b"::1"));
        assert!(!is_public(b"fd00::1"));
        assert!(is_public(b"2a03:0000:10ff:f00f:0000:0000:0:8000"));
        assert!(!is_public(b"localhost"));
    }
}
