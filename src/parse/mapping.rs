//! Which JSON field feeds which event column.
//!
//! Gateways and applications name the same thing differently (`remote_addr`,
//! `clientIp`, `source.ip`, `identity.sourceIp`). A [`FieldMap`] is built per
//! input from a sample of its records in three steps:
//!
//! 1. known names: every field path is normalised (case folded, `_` and `-`
//!    dropped, so `client_ip`, `clientIp` and `Client-IP` meet) and looked up
//!    in the alias table below, nested objects and dotted keys alike;
//! 2. shapes: columns still unmapped are inferred from the values of the
//!    remaining fields (addresses, ISO times, HTTP methods, paths, statuses,
//!    user agents);
//! 3. the user's `--map` file, whose lines `column = field.path` win over
//!    both.
//!
//! The map records how each column was found, so the manifest can show the
//! analyst what was read from where.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use hashbrown::{HashMap, HashSet};
use serde_json::Value;
use thiserror::Error;

use crate::time::{Zone, parse_any};

/// A `--map` file that cannot be used.
#[derive(Debug, Error)]
pub enum MapError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} line {line}: expected 'column = field.path', found '{text}'")]
    Syntax {
        path: String,
        line: usize,
        text: String,
    },
    #[error("{path} line {line}: '{column}' is not a column that can be mapped (one of: {known})")]
    UnknownColumn {
        path: String,
        line: usize,
        column: String,
        known: String,
    },
}

/// An event column a JSON field can feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Ts,
    Ip,
    ForwardedFor,
    Principal,
    Credential,
    Service,
    Method,
    Path,
    /// A path with its query string, possibly a full URL.
    Url,
    Query,
    /// A whole request line, `GET /x HTTP/1.1`.
    Request,
    Status,
    Bytes,
    UserAgent,
    Referer,
    RequestId,
    Action,
    ErrorCode,
    MintedCredential,
    Mfa,
}

impl Target {
    /// Every target, in report order.
    pub const ALL: [Target; 20] = [
        Target::Ts,
        Target::Ip,
        Target::ForwardedFor,
        Target::Principal,
        Target::Credential,
        Target::Service,
        Target::Method,
        Target::Path,
        Target::Url,
        Target::Query,
        Target::Request,
        Target::Status,
        Target::Bytes,
        Target::UserAgent,
        Target::Referer,
        Target::RequestId,
        Target::Action,
        Target::ErrorCode,
        Target::MintedCredential,
        Target::Mfa,
    ];

    /// Name used in mapping files and reports (a frame column name, or `url`
    /// and `request` for the composite fields).
    pub fn name(self) -> &'static str {
        use crate::frame::columns as c;
        match self {
            Target::Ts => c::TS,
            Target::Ip => c::IP,
            Target::ForwardedFor => c::FORWARDED_FOR,
            Target::Principal => c::PRINCIPAL,
            Target::Credential => c::CREDENTIAL,
            Target::Service => c::SERVICE,
            Target::Method => c::METHOD,
            Target::Path => c::PATH,
            Target::Url => "url",
            Target::Query => c::QUERY,
            Target::Request => "request",
            Target::Status => c::STATUS,
            Target::Bytes => c::BYTES,
            Target::UserAgent => c::USER_AGENT,
            Target::Referer => c::REFERER,
            Target::RequestId => c::REQUEST_ID,
            Target::Action => c::ACTION,
            Target::ErrorCode => c::ERROR_CODE,
            Target::MintedCredential => c::MINTED_CREDENTIAL,
            Target::Mfa => c::MFA,
        }
    }

    fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Known field names, normalised, best first within a target.
const ALIASES: &[(Target, &[&str])] = &[
    (
        Target::Ts,
        &[
            "@timestamp",
            "timestamp",
            "timeiso8601",
            "time",
            "datetime",
            "eventtime",
            "requesttime",
            "requesttimeepoch",
            "timelocal",
            "logtime",
            "ts",
            "date",
            "msec",
            "starttime",
        ],
    ),
    (
        Target::Ip,
        &[
            "source.ip",
            "client.ip",
            "clientip",
            "remoteaddr",
            "sourceip",
            "identity.sourceip",
            "requestcontext.identity.sourceip",
            "realip",
            "xrealip",
            "remoteip",
            "callerip",
            "sourceipaddress",
            "clientaddress",
            "client.address",
            "source.address",
            "ip",
            "ipaddress",
            "addr",
        ],
    ),
    (
        Target::ForwardedFor,
        &[
            "httpxforwardedfor",
            "xforwardedfor",
            "forwardedfor",
            "http.request.headers.xforwardedfor",
        ],
    ),
    (
        Target::Principal,
        &[
            "user.name",
            "username",
            "remoteuser",
            "user",
            "principal",
            "principalid",
            "authorizer.principalid",
            "requestcontext.authorizer.principalid",
            "identity.user",
            "identity.caller",
            "caller",
            "user.email",
            "email",
            "userid",
            "user.id",
            "account",
            "login",
            "sub",
            "subject",
            "actor",
        ],
    ),
    (
        Target::Credential,
        &[
            "apikeyid",
            "identity.apikeyid",
            "requestcontext.identity.apikeyid",
            "apikey",
            "identity.apikey",
            "keyid",
            "accesskeyid",
            "credentialid",
            "credential",
            "tokenid",
            "jti",
            "sessionid",
            "session.id",
            "session",
            "token",
            "clientid",
        ],
    ),
    (
        Target::Service,
        &[
            "service",
            "service.name",
            "servicename",
            "host",
            "httphost",
            "vhost",
            "servername",
            "server",
            "domainname",
            "url.domain",
            "host.name",
            "apiid",
            "api",
            "upstream",
            "backend",
        ],
    ),
    (
        Target::Method,
        &[
            "http.request.method",
            "method",
            "httpmethod",
            "requestmethod",
            "verb",
        ],
    ),
    (
        Target::Path,
        &[
            "url.path",
            "path",
            "uri",
            "urlpath",
            "requestpath",
            "resourcepath",
            "uripath",
        ],
    ),
    (
        Target::Url,
        &[
            "requesturi",
            "url.original",
            "url",
            "requesturl",
            "fullurl",
            "url.full",
        ],
    ),
    (
        Target::Query,
        &["url.query", "querystring", "query", "args", "queryparams"],
    ),
    (Target::Request, &["request", "requestline"]),
    (
        Target::Status,
        &[
            "http.response.statuscode",
            "status",
            "statuscode",
            "httpstatus",
            "responsestatus",
            "responsecode",
            "response.status",
        ],
    ),
    (
        Target::Bytes,
        &[
            "http.response.body.bytes",
            "http.response.bytes",
            "bodybytessent",
            "bytessent",
            "responselength",
            "responsesize",
            "responsebytes",
            "bytesout",
            "bytes",
            "size",
            "contentlength",
        ],
    ),
    (
        Target::UserAgent,
        &[
            "useragent.original",
            "useragent",
            "httpuseragent",
            "identity.useragent",
            "requestcontext.identity.useragent",
            "ua",
            "agent",
        ],
    ),
    (
        Target::Referer,
        &[
            "http.request.referrer",
            "httpreferer",
            "referer",
            "referrer",
        ],
    ),
    (
        Target::RequestId,
        &[
            "requestid",
            "http.request.id",
            "requestcontext.requestid",
            "xrequestid",
            "httpxrequestid",
            "reqid",
            "correlationid",
            "traceid",
            "extendedrequestid",
            "id",
        ],
    ),
    (
        Target::Action,
        &[
            "event.action",
            "action",
            "operation",
            "operationname",
            "eventname",
        ],
    ),
    (
        Target::ErrorCode,
        &[
            "error.code",
            "errorcode",
            "error.type",
            "errortype",
            "error",
        ],
    ),
    (
        Target::MintedCredential,
        &[
            "issuedcredential",
            "issuedtoken",
            "issuedsession",
            "createdkeyid",
            "createdapikeyid",
            "newkeyid",
            "mintedkeyid",
            "issuedkeyid",
            "minted",
        ],
    ),
    (
        Target::Mfa,
        &[
            "mfa",
            "mfaused",
            "mfaauthenticated",
            "user.mfa",
            "auth.mfa",
            "authmfa",
        ],
    ),
];

/// How a column's field was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    Alias,
    Inferred,
    UserMap,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Alias => "known name",
            Origin::Inferred => "inferred from values",
            Origin::UserMap => "--map",
        })
    }
}

/// Field paths of a JSON log and the columns they feed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldMap {
    /// Every key of every JSON line is looked up here, so the tables hash
    /// with hashbrown's foldhash rather than std's SipHash (a tenth of the
    /// time of a JSON run went to SipHash). Attacker-chosen keys are only
    /// looked up, never inserted: the tables keep their few entries, and a
    /// crafted key costs one probe like any other.
    by_path: HashMap<Box<str>, Target>,
    /// Object paths that lead to a mapped field; others are skipped unread.
    prefixes: HashSet<Box<str>>,
    chosen: BTreeMap<Target, (String, Origin)>,
}

impl FieldMap {
    /// The column fed by the field at `path` (dotted), if any.
    #[inline]
    pub fn target(&self, path: &str) -> Option<Target> {
        self.by_path.get(path).copied()
    }

    /// Whether the object at `path` holds a mapped field.
    #[inline]
    pub fn is_prefix(&self, path: &str) -> bool {
        self.prefixes.contains(path)
    }

    /// Whether a time field was found; without one no event can be built.
    pub fn has_time(&self) -> bool {
        self.chosen.contains_key(&Target::Ts)
    }

    /// `(column, field, how)` for every mapped column, in column order.
    pub fn describe(&self) -> Vec<(&'static str, String, Origin)> {
        self.chosen
            .iter()
            .map(|(t, (path, origin))| (t.name(), path.clone(), *origin))
            .collect()
    }

    fn set(&mut self, target: Target, path: &str, origin: Origin) {
        if let Some((old, _)) = self.chosen.remove(&target) {
            self.by_path.remove(old.as_str());
        }
        self.by_path.insert(path.into(), target);
        self.chosen.insert(target, (path.to_string(), origin));
        self.rebuild_prefixes();
    }

    fn rebuild_prefixes(&mut self) {
        self.prefixes.clear();
        for path in self.by_path.keys() {
            let mut end = 0;
            while let Some(dot) = path[end..].find('.') {
                end += dot;
                self.prefixes.insert(path[..end].into());
                end += 1;
            }
        }
    }

    /// Builds the map from sample records (JSON objects).
    pub fn infer(samples: &[Value]) -> FieldMap {
        let fields = collect_fields(samples);
        let mut map = FieldMap::default();
        map_aliases(&mut map, &fields);
        infer_shapes(&mut map, &fields);
        map
    }

    /// Applies a user mapping on top of the inferred one.
    pub fn apply(&mut self, user: &UserMap) {
        for (target, path) in &user.entries {
            match path {
                Some(path) => self.set(*target, path, Origin::UserMap),
                None => {
                    if let Some((old, _)) = self.chosen.remove(target) {
                        self.by_path.remove(old.as_str());
                        self.rebuild_prefixes();
                    }
                }
            }
        }
    }
}

/// A mapping read from a `--map` file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserMap {
    /// Column and field path; `None` unmaps the column (`column = -`).
    entries: Vec<(Target, Option<String>)>,
}

impl UserMap {
    /// Reads `column = field.path` lines; `#` starts a comment.
    pub fn load(path: &Path) -> Result<UserMap, MapError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| MapError::Io {
            path: name.clone(),
            source,
        })?;
        UserMap::parse(&text, &name)
    }

    /// Parses the text of a mapping file named `name`.
    pub fn parse(text: &str, name: &str) -> Result<UserMap, MapError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let syntax = || MapError::Syntax {
                path: name.into(),
                line: i + 1,
                text: raw.trim().into(),
            };
            let (column, field) = line.split_once('=').ok_or_else(syntax)?;
            let (column, field) = (column.trim(), field.trim());
            if column.is_empty() || field.is_empty() {
                return Err(syntax());
            }
            let target = Target::from_name(column).ok_or_else(|| MapError::UnknownColumn {
                path: name.into(),
                line: i + 1,
                column: column.into(),
                known: Target::ALL.map(Target::name).join(", "),
            })?;
            entries.push((target, (field != "-").then(|| field.to_string())));
        }
        Ok(UserMap { entries })
    }
}

/// Leaf field paths of the samples with up to a few of their values.
fn collect_fields(samples: &[Value]) -> BTreeMap<String, Vec<Value>> {
    let mut fields = BTreeMap::new();
    for sample in samples {
        if let Value::Object(obj) = sample {
            walk("", obj, &mut fields);
        }
    }
    fields
}

fn walk(
    prefix: &str,
    obj: &serde_json::Map<String, Value>,
    out: &mut BTreeMap<String, Vec<Value>>,
) {
    for (key, value) in obj {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(inner) => walk(&path, inner, out),
            Value::Null => {
                out.entry(path).or_default();
            }
            _ => {
                let values = out.entry(path).or_default();
                if values.len() < 32 {
                    values.push(value.clone());
                }
            }
        }
    }
}

/// Lower case without `_`, `-` and spaces, per dotted segment.
pub fn normalise(path: &str) -> String {
    path.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

fn map_aliases(map: &mut FieldMap, fields: &BTreeMap<String, Vec<Value>>) {
    let normalised: Vec<(String, &String)> = fields.keys().map(|k| (normalise(k), k)).collect();
    let mut taken: HashSet<&str> = HashSet::new();
    for (target, aliases) in ALIASES {
        let found = aliases.iter().find_map(|alias| {
            normalised.iter().find(|(norm, orig)| {
                norm == alias && !taken.contains(orig.as_str()) && fits(*target, &fields[*orig])
            })
        });
        if let Some((_, orig)) = found {
            taken.insert(orig.as_str());
            map.set(*target, orig, Origin::Alias);
        }
    }
}

/// Whether the sampled values could belong to `target` (a field named
/// `time` holding `"slow"` is not a timestamp).
fn fits(target: Target, values: &[Value]) -> bool {
    let present: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
    if present.is_empty() {
        return true;
    }
    let share = |pred: &dyn Fn(&Value) -> bool| {
        present.iter().filter(|v| pred(v)).count() * 2 > present.len()
    };
    match target {
        Target::Ts => share(&|v| is_time(v)),
        Target::Status => share(&|v| as_int(v).is_some_and(|n| (100..600).contains(&n))),
        Target::Bytes => share(&|v| as_int(v).is_some_and(|n| n >= 0)),
        Target::Method => share(&|v| v.as_str().is_some_and(is_method)),
        Target::Ip | Target::Path | Target::Url | Target::UserAgent => share(&|v| v.is_string()),
        _ => true,
    }
}

/// A test on one sampled value.
type ValuePredicate = fn(&Value) -> bool;

fn infer_shapes(map: &mut FieldMap, fields: &BTreeMap<String, Vec<Value>>) {
    let unmapped = |map: &FieldMap, path: &str| map.target(path).is_none();
    let rules: [(Target, ValuePredicate); 6] = [
        (Target::Ts, is_time),
        (Target::Ip, |v| {
            v.as_str()
                .is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok())
        }),
        (Target::Method, |v| v.as_str().is_some_and(is_method)),
        (Target::Path, |v| {
            v.as_str()
                .is_some_and(|s| s.starts_with('/') && !s.contains(' '))
        }),
        (Target::UserAgent, |v| {
            v.as_str()
                .is_some_and(|s| s.starts_with("Mozilla/") || s.contains("curl/"))
        }),
        (Target::Status, |v| {
            as_int(v).is_some_and(|n| (100..600).contains(&n))
        }),
    ];
    for (target, pred) in rules {
        if map.chosen.contains_key(&target) {
            continue;
        }
        let candidate = fields.iter().find(|(path, values)| {
            unmapped(map, path)
                && !values.is_empty()
                && values.iter().all(pred)
                && name_allows(target, path)
        });
        if let Some((path, _)) = candidate {
            map.set(target, path, Origin::Inferred);
        }
    }
}

/// A status is only inferred from a field whose name suggests it: many
/// numbers fall in 100..600.
fn name_allows(target: Target, path: &str) -> bool {
    match target {
        Target::Status => {
            let n = normalise(path);
            n.contains("status") || n.ends_with("code")
        }
        _ => true,
    }
}

fn is_time(v: &Value) -> bool {
    match v {
        Value::String(s) => parse_any(s.as_bytes(), Zone::Utc).is_some(),
        Value::Number(n) => n.as_f64().is_some_and(|x| x > 1e9),
        _ => false,
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Whether `s` is an HTTP method.
pub fn is_method(s: &str) -> bool {
    matches!(
        s,
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" | "CONNECT" | "TRACE"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapped(map: &FieldMap) -> Vec<(&'static str, String)> {
        map.describe().into_iter().map(|(c, f, _)| (c, f)).collect()
    }

    #[test]
    fn nginx_json_names() {
        let s = json!({"time_iso8601": "2024-03-05T10:11:12+00:00", "remote_addr": "203.0.113.4",
            "remote_user": "-", "request_uri": "/api/x?y=1", "request_method": "GET", "status": "200",
            "body_bytes_sent": "12", "http_user_agent": "curl/8", "http_referer": "-"});
        let map = FieldMap::infer(&[s]);
        let m = mapped(&map);
        assert!(m.contains(&("ts", "time_iso8601".into())));
        assert!(m.contains(&("ip", "remote_addr".into())));
        assert!(m.contains(&("url", "request_uri".into())));
        assert!(m.contains(&("method", "request_method".into())));
        assert!(m.contains(&("status", "status".into())));
        assert!(m.contains(&("bytes", "body_bytes_sent".into())));
        assert!(m.contains(&("user_agent", "http_user_agent".into())));
        assert!(m.contains(&("principal", "remote_user".into())));
    }

    #[test]
    fn ecs_nested_and_dotted() {
        let nested = json!({"@timestamp": "2024-03-05T10:11:12Z", "source": {"ip": "2001:db8::1"},
            "user": {"name": "bob", "id": "u-1"}, "http": {"request": {"method": "POST"},
            "response": {"status_code": 201}}, "url": {"path": "/login"},
            "user_agent": {"original": "Mozilla/5.0"}});
        let map = FieldMap::infer(&[nested]);
        assert_eq!(map.target("source.ip"), Some(Target::Ip));
        assert_eq!(map.target("user.name"), Some(Target::Principal));
        assert_eq!(
            map.target("http.response.status_code"),
            Some(Target::Status)
        );
        assert_eq!(map.target("url.path"), Some(Target::Path));
        assert!(map.is_prefix("http.response"));
        assert!(map.is_prefix("http"));
        let dotted = json!({"@timestamp": "2024-03-05T10:11:12Z", "source.ip": "10.0.0.1",
            "http.request.method": "GET"});
        let map = FieldMap::infer(&[dotted]);
        assert_eq!(map.target("source.ip"), Some(Target::Ip));
        assert_eq!(map.target("http.request.method"), Some(Target::Method));
    }

    #[test]
    fn camel_case_aliases_and_api_gateway() {
        let s = json!({"requestId": "abc", "ip": "198.51.100.2", "requestTime": "05/Mar/2024:10:11:12 +0000",
            "httpMethod": "GET", "resourcePath": "/pets/{id}", "status": "200", "protocol": "HTTP/1.1",
            "responseLength": "44", "apiKeyId": "k1", "userAgent": "curl/8"});
        let map = FieldMap::infer(&[s]);
        let m = mapped(&map);
        assert!(m.contains(&("ts", "requestTime".into())));
        assert!(m.contains(&("credential", "apiKeyId".into())));
        assert!(m.contains(&("request_id", "requestId".into())));
        assert!(m.contains(&("path", "resourcePath".into())));
    }

    #[test]
    fn unknown_names_are_inferred_from_values() {
        let s = json!({"when": "2024-03-05T10:11:12Z", "peer": "192.0.2.7", "verb_x": "DELETE",
            "target": "/api/v1/items/9", "result_status": 204});
        let map = FieldMap::infer(&[s]);
        let d = map.describe();
        assert!(d.contains(&("ts", "when".into(), Origin::Inferred)));
        assert!(d.contains(&("ip", "peer".into(), Origin::Inferred)));
        assert!(d.contains(&("method", "verb_x".into(), Origin::Inferred)));
        assert!(d.contains(&("path", "target".into(), Origin::Inferred)));
        assert!(d.contains(&("status", "result_status".into(), Origin::Inferred)));
    }

    #[test]
    fn user_map_overrides_and_rejects_unknown_columns() {
        let s =
            json!({"time": "2024-03-05T10:11:12Z", "ip": "192.0.2.7", "xff_real": "203.0.113.1"});
        let mut map = FieldMap::infer(&[s]);
        let user = UserMap::parse("# real client\nip = xff_real\n", "m.txt").expect("valid");
        map.apply(&user);
        assert_eq!(map.target("xff_real"), Some(Target::Ip));
        assert_eq!(map.target("ip"), None);
        let err = UserMap::parse("colour = x", "m.txt").expect_err("unknown column");
        assert!(
            err.to_string()
                .starts_with("m.txt line 1: 'colour' is not a column")
        );
        assert!(UserMap::parse("just text", "m.txt").is_err());
    }
}
