//! AWS CloudTrail records, in every layout they are exported in.
//!
//! S3 delivery writes `{"Records": [...]}` files; the console and tools write
//! bare arrays or single pretty-printed events; log shippers write one
//! record per line, often with `@timestamp` and without `eventTime`. All of
//! them come down to [`parse_record`].
//!
//! Besides the schema columns, the parser reads what only CloudTrail knows
//! and later stages need: the resource acted on (from `requestParameters`),
//! credentials minted by the call (from `responseElements`), whether MFA was
//! used, whether the call was read-only, and whether the credential is an
//! EC2 instance-role session.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::Tally;
use crate::frame::{Cat, EventRef, Flag, Outcome};
use crate::time::{Zone, parse_iso};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    #[serde(borrow)]
    event_time: Option<Cow<'a, str>>,
    #[serde(rename = "@timestamp", borrow)]
    at_timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_source: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    aws_region: Option<Cow<'a, str>>,
    #[serde(rename = "sourceIPAddress", borrow)]
    source_ip_address: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_agent: Option<Cow<'a, str>>,
    #[serde(borrow)]
    error_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    error_message: Option<Cow<'a, str>>,
    #[serde(rename = "requestID", borrow)]
    request_id: Option<Cow<'a, str>>,
    #[serde(rename = "eventID", borrow)]
    event_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    recipient_account_id: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "lenient_bool")]
    read_only: Option<bool>,
    #[serde(borrow)]
    user_identity: Option<Identity<'a>>,
    #[serde(borrow)]
    request_parameters: Option<&'a RawValue>,
    #[serde(borrow)]
    response_elements: Option<&'a RawValue>,
    #[serde(borrow)]
    additional_event_data: Option<&'a RawValue>,
    #[serde(borrow)]
    insight_details: Option<InsightDetails<'a>>,
    #[serde(default)]
    resources: Vec<ResourceRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    principal_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    arn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    account_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    access_key_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    invoked_by: Option<Cow<'a, str>>,
    #[serde(borrow)]
    session_context: Option<SessionContext<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext<'a> {
    #[serde(borrow)]
    attributes: Option<Attributes<'a>>,
    #[serde(borrow)]
    ec2_role_delivery: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Attributes<'a> {
    #[serde(borrow)]
    mfa_authenticated: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InsightDetails<'a> {
    #[serde(borrow)]
    event_source: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ResourceRef {
    #[serde(rename = "ARN")]
    arn: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    })
}

/// Facts read from the nested JSON of a record, owned because they are
/// built from several fields.
#[derive(Default)]
struct Derived {
    resource_type: Option<&'static str>,
    resource_id: Option<String>,
    minted: Option<String>,
    bytes: Option<u64>,
    mfa: Option<bool>,
    login_failed: bool,
}

/// Parses one record given as one line.
pub fn parse_line<'a>(
    line: &'a [u8],
    ev: &mut EventRef<'a>,
    zone: Zone,
) -> Result<(), Cow<'static, str>> {
    match std::str::from_utf8(line) {
        // Nearly every line: checked as UTF-8 once here, so the reader does
        // not check each string again.
        Ok(text) => parse_record(text, ev, zone),
        // Bad bytes may sit in a field that is not read; such a line is
        // still read, and rejected only if a read field holds them.
        Err(_) => fill_record(serde_json::from_slice(line), ev, zone),
    }
}

/// Parses one record already known to be text: a valid line, or an
/// element of a document.
fn parse_record<'a>(
    text: &'a str,
    ev: &mut EventRef<'a>,
    zone: Zone,
) -> Result<(), Cow<'static, str>> {
    fill_record(serde_json::from_str(text), ev, zone)
}

fn fill_record<'a>(
    rec: serde_json::Result<Record<'a>>,
    ev: &mut EventRef<'a>,
    zone: Zone,
) -> Result<(), Cow<'static, str>> {
    let rec = rec.map_err(|e| format!("not a CloudTrail record: {e}"))?;
    let derived = derive(&rec);
    fill_event(rec, derived, ev, zone)
}

fn fill_event<'a>(
    rec: Record<'a>,
    d: Derived,
    ev: &mut EventRef<'a>,
    zone: Zone,
) -> Result<(), Cow<'static, str>> {
    ev.ts = record_time(&rec, zone)?;
    set_opt(ev, Cat::Ip, rec.source_ip_address);
    set_opt(ev, Cat::UserAgent, rec.user_agent);
    set_opt(ev, Cat::Region, rec.aws_region);
    set_opt(ev, Cat::Account, rec.recipient_account_id);
    set_opt(ev, Cat::EventType, rec.event_type);
    match rec.insight_details {
        Some(ins) => {
            set_opt(ev, Cat::Service, ins.event_source.or(rec.event_source));
            set_opt(ev, Cat::Action, ins.event_name.or(rec.event_name));
        }
        None => {
            set_opt(ev, Cat::Service, rec.event_source);
            set_opt(ev, Cat::Action, rec.event_name);
        }
    }
    if let Some(id) = rec.request_id.or(rec.event_id) {
        ev.set_request_id(id);
    }
    if let Some(identity) = rec.user_identity {
        set_identity(identity, ev);
    }
    if let Some(ro) = rec.read_only {
        ev.set_flag(Flag::ReadOnly, ro);
    }
    if let Some(mfa) = d.mfa {
        ev.set_flag(Flag::Mfa, mfa);
    }
    if let Some(t) = d.resource_type {
        ev.set_str(Cat::ResourceType, t);
    }
    set_opt(ev, Cat::ResourceId, d.resource_id.map(Cow::Owned));
    set_opt(ev, Cat::MintedCredential, d.minted.map(Cow::Owned));
    ev.bytes = d.bytes;
    let outcome = match (&rec.error_code, d.login_failed) {
        (Some(code), _) => Outcome::from_error_code(code),
        (None, true) => Outcome::Failure,
        (None, false) => Outcome::Success,
    };
    set_opt(
        ev,
        Cat::ErrorCode,
        rec.error_code
            .or(rec.error_message.filter(|_| d.login_failed)),
    );
    ev.set_str(Cat::Outcome, outcome.as_str());
    Ok(())
}

fn set_opt<'a>(ev: &mut EventRef<'a>, col: Cat, value: Option<Cow<'a, str>>) {
    if let Some(v) = value {
        ev.set_cow(col, v);
    }
}

fn record_time(rec: &Record<'_>, zone: Zone) -> Result<i64, Cow<'static, str>> {
    let text = rec
        .event_time
        .as_deref()
        .or(rec.at_timestamp.as_deref())
        .ok_or("record has no eventTime")?;
    parse_iso(text.as_bytes(), zone).ok_or_else(|| format!("unreadable eventTime '{text}'").into())
}

fn set_identity<'a>(id: Identity<'a>, ev: &mut EventRef<'a>) {
    let kind = id.kind.as_deref().unwrap_or_default();
    let principal = match kind {
        "IAMUser" => id.user_name.or(id.arn),
        "Root" => id.arn.or(id.user_name),
        "AWSService" => id.invoked_by,
        "AWSAccount" => id.account_id.or(id.principal_id),
        "AssumedRole" | "FederatedUser" => id.arn.or(id.principal_id),
        _ => id.user_name.or(id.arn).or(id.principal_id),
    };
    set_opt(ev, Cat::Principal, principal);
    set_opt(ev, Cat::IdentityType, id.kind);
    set_opt(ev, Cat::Credential, id.access_key_id);
    if let Some(ctx) = id.session_context {
        if let Some(mfa) = ctx.attributes.and_then(|a| a.mfa_authenticated) {
            if ev.flag(Flag::Mfa).is_none() {
                ev.set_flag(Flag::Mfa, mfa == "true");
            }
        }
        if ctx.ec2_role_delivery.is_some() {
            ev.set_flag(Flag::InstanceCredential, true);
        }
    }
}

/// Reads resources, minted credentials, bytes and MFA from the nested JSON.
fn derive(rec: &Record<'_>) -> Derived {
    let mut d = Derived::default();
    let params: Option<Value> = rec
        .request_parameters
        .and_then(|r| serde_json::from_str(r.get()).ok());
    let response: Option<Value> = rec
        .response_elements
        .and_then(|r| serde_json::from_str(r.get()).ok());
    let extra: Option<Value> = rec
        .additional_event_data
        .and_then(|r| serde_json::from_str(r.get()).ok());
    let name = rec.event_name.as_deref().unwrap_or_default();
    if let Some(p) = &params {
        (d.resource_type, d.resource_id) = resource_of(name, p);
    }
    if d.resource_type.is_none() {
        if let Some((t, id)) = resource_from_arns(&rec.resources) {
            d.resource_type = Some(t);
            d.resource_id = Some(id);
        }
    }
    if let Some(r) = &response {
        d.minted = minted_of(name, r, params.as_ref());
        d.login_failed = r.get("ConsoleLogin").and_then(Value::as_str) == Some("Failure");
    }
    if let Some(x) = &extra {
        d.bytes = x
            .get("bytesTransferredOut")
            .and_then(Value::as_f64)
            .map(|b| b as u64);
        d.mfa = x.get("MFAUsed").and_then(Value::as_str).map(|v| v == "Yes");
    }
    d
}

fn str_at<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The resource a call acted on, from its request parameters.
fn resource_of(event: &str, p: &Value) -> (Option<&'static str>, Option<String>) {
    if let Some(bucket) = str_at(p, "bucketName") {
        return match str_at(p, "key") {
            Some(key) => (Some("s3-object"), Some(format!("{bucket}/{key}"))),
            None => (Some("s3-bucket"), Some(bucket.to_string())),
        };
    }
    let keyed: [(&str, &'static str); 16] = [
        ("accessKeyId", "access-key"),
        ("userName", "iam-user"),
        ("roleName", "iam-role"),
        ("roleArn", "iam-role"),
        ("groupName", "iam-group"),
        ("policyArn", "iam-policy"),
        ("secretId", "secret"),
        ("name", "named-resource"),
        ("functionName", "lambda-function"),
        ("tableName", "dynamodb-table"),
        ("keyId", "kms-key"),
        ("snapshotId", "ebs-snapshot"),
        ("dBInstanceIdentifier", "rds-instance"),
        ("dBSnapshotIdentifier", "rds-snapshot"),
        ("trailName", "trail"),
        ("instanceId", "ec2-instance"),
    ];
    for (key, kind) in keyed {
        if let Some(v) = str_at(p, key) {
            let kind = if kind == "named-resource" {
                named_kind(event)
            } else {
                kind
            };
            return (Some(kind), Some(v.to_string()));
        }
    }
    if let Some(id) = p
        .pointer("/instancesSet/items/0/instanceId")
        .and_then(Value::as_str)
    {
        return (Some("ec2-instance"), Some(id.to_string()));
    }
    if let Some(Value::Array(ids)) = p.get("instanceIds") {
        if let Some(id) = ids.first().and_then(Value::as_str) {
            return (Some("ec2-instance"), Some(id.to_string()));
        }
    }
    (None, None)
}

/// `name` means different things per service; the event name tells which.
fn named_kind(event: &str) -> &'static str {
    if event.contains("Parameter") {
        "ssm-parameter"
    } else if event.contains("Trail")
        || event.contains("Logging")
        || event.contains("EventSelectors")
    {
        "trail"
    } else {
        "resource"
    }
}

fn resource_from_arns(resources: &[ResourceRef]) -> Option<(&'static str, String)> {
    let r = resources.iter().find(|r| r.arn.is_some())?;
    let kind = match r.kind.as_deref() {
        Some("AWS::S3::Object") => "s3-object",
        Some("AWS::S3::Bucket") => "s3-bucket",
        Some("AWS::IAM::Role") => "iam-role",
        Some("AWS::IAM::User") => "iam-user",
        Some("AWS::KMS::Key") => "kms-key",
        _ => "aws-resource",
    };
    let arn = r.arn.as_deref()?;
    let id = arn.strip_prefix("arn:aws:s3:::").unwrap_or(arn);
    Some((kind, id.to_string()))
}

/// A credential created by the call: a new access key, temporary session
/// credentials, or a console password set for a user.
fn minted_of(event: &str, r: &Value, params: Option<&Value>) -> Option<String> {
    if let Some(key) = r.pointer("/accessKey/accessKeyId").and_then(Value::as_str) {
        return Some(key.to_string());
    }
    if let Some(key) = r
        .pointer("/credentials/accessKeyId")
        .and_then(Value::as_str)
    {
        return Some(key.to_string());
    }
    if matches!(event, "CreateLoginProfile" | "UpdateLoginProfile") {
        let user = params
            .and_then(|p| str_at(p, "userName"))
            .unwrap_or("unknown");
        return Some(format!("console-password:{user}"));
    }
    None
}

/// Calls `f` with each record of a JSON document (`{"Records": [...]}`, an
/// array, or a single object) and its 1-based number. A document that breaks off
/// keeps the records before the break; the break is one reject.
pub(crate) fn for_each_raw_record<'d>(
    doc: &'d [u8],
    tally: &mut Tally,
    mut f: impl FnMut(&'d RawValue, u64, &mut Tally),
) {
    let mut n = 0u64;
    let mut de = serde_json::Deserializer::from_slice(doc);
    let result = DocSeed {
        f: &mut |raw: &'d RawValue| {
            n += 1;
            f(raw, n, tally);
        },
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    if let Err(e) = result {
        let line = n + 1;
        let reason = format!("document breaks off after record {n}: {e}");
        tally.reject(line, reason.into(), tail_of(doc, &e));
    }
}

/// The bytes around a JSON error, for the reject record.
fn tail_of<'d>(doc: &'d [u8], e: &serde_json::Error) -> &'d [u8] {
    let line_start = doc
        .split(|&b| b == b'\n')
        .take(e.line().saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum::<usize>();
    let at = (line_start + e.column()).min(doc.len());
    &doc[at.saturating_sub(256)..at]
}

/// Walks a document, handing each record over as raw JSON.
struct DocSeed<'f, 'd> {
    f: &'f mut dyn FnMut(&'d RawValue),
}

impl<'de> DeserializeSeed<'de> for DocSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CloudTrail document")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            (self.f)(raw);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Either the envelope with a `Records` array, or a single record.
        let Some(first) = map.next_key::<Cow<'de, str>>()? else {
            return Ok(());
        };
        if first == "Records" {
            map.next_value_seed(DocSeed { f: self.f })?;
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        Err(de::Error::custom(SINGLE_RECORD))
    }
}

/// Marker error: the document is one record, to be reparsed whole.
const SINGLE_RECORD: &str = "single record document";

/// Parses a CloudTrail document into `tally`.
pub(crate) fn parse_document(doc: &[u8], tally: &mut Tally, zone: Zone) {
    if is_single_object(doc) {
        let mut ev = EventRef::at_line(1);
        match parse_line(doc, &mut ev, zone) {
            Ok(()) => tally.accept(&ev),
            Err(reason) => tally.reject(1, reason, doc),
        }
        return;
    }
    for_each_raw_record(doc, tally, |raw, n, tally| {
        let mut ev = EventRef::at_line(n);
        match parse_record(raw.get(), &mut ev, zone) {
            Ok(()) => tally.accept(&ev),
            Err(reason) => tally.reject(n, reason, raw.get().as_bytes()),
        }
    });
}

/// Whether the document is one object that is not a `Records` envelope.
fn is_single_object(doc: &[u8]) -> bool {
    let trimmed = doc.trim_ascii_start();
    if !trimmed.starts_with(b"{") {
        return false;
    }
    let head = &trimmed[1..trimmed.len().min(64)];
    let key = head.trim_ascii_start();
    !key.starts_with(b"\"Records\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_identity_resource_and_bytes() {
        let line = br#"{"requestParameters":{"key":"ring.txt","bucketName":"bank-bucket"},"userAgent":"[aws-cli/1.18.136]","awsRegion":"us-east-1","eventType":"AwsApiCall","userIdentity":{"arn":"arn:aws:sts::1:assumed-role/WAF/i-0317f6c6b66ae9c40","type":"AssumedRole","sessionContext":{"attributes":{"mfaAuthenticated":"false"},"ec2RoleDelivery":"1.0"},"accessKeyId":"ASIAEXAMPLE"},"recipientAccountId":"1","eventName":"GetObject","sourceIPAddress":"1.2.3.4","eventSource":"s3.amazonaws.com","requestID":"878DA","@timestamp":"2020-09-14T01:13:20.000Z","readOnly":true,"additionalEventData":{"bytesTransferredOut":89.0}}"#;
        let mut ev = EventRef::default();
        parse_line(line, &mut ev, Zone::Utc).expect("parses");
        let get = |c| ev.get(c).map(|b| String::from_utf8_lossy(b).into_owned());
        assert_eq!(
            get(Cat::Principal).as_deref(),
            Some("arn:aws:sts::1:assumed-role/WAF/i-0317f6c6b66ae9c40")
        );
        assert_eq!(get(Cat::Credential).as_deref(), Some("ASIAEXAMPLE"));
        assert_eq!(get(Cat::ResourceType).as_deref(), Some("s3-object"));
        assert_eq!(
            get(Cat::ResourceId).as_deref(),
            Some("bank-bucket/ring.txt")
        );
        assert_eq!(get(Cat::Action).as_deref(), Some("GetObject"));
        assert_eq!(get(Cat::Outcome).as_deref(), Some("success"));
        assert_eq!(ev.bytes, Some(89));
        assert!(ev.flag(Flag::InstanceCredential).unwrap_or(false));
        assert_eq!(ev.flag(Flag::Mfa), Some(false));
    }

    #[test]
    fn minted_keys_and_failed_console_logins() {
        let create = br#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"CreateAccessKey","userIdentity":{"type":"IAMUser","userName":"dev"},"requestParameters":{"userName":"backup"},"responseElements":{"accessKey":{"accessKeyId":"AKIANEW","status":"Active","userName":"backup"}}}"#;
        let mut ev = EventRef::default();
        parse_line(create, &mut ev, Zone::Utc).expect("parses");
        assert_eq!(ev.get(Cat::MintedCredential), Some(&b"AKIANEW"[..]));
        assert_eq!(ev.get(Cat::ResourceType), Some(&b"iam-user"[..]));
        let login = br#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"ConsoleLogin","eventType":"AwsConsoleSignIn","userIdentity":{"type":"IAMUser","userName":"dev"},"errorMessage":"Failed authentication","responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"No"}}"#;
        let mut ev = EventRef::default();
        parse_line(login, &mut ev, Zone::Utc).expect("parses");
        assert_eq!(ev.get(Cat::Outcome), Some(&b"failure"[..]));
        assert_eq!(ev.flag(Flag::Mfa), Some(false));
        let denied = br#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"ListUsers","errorCode":"AccessDenied"}"#;
        let mut ev = EventRef::default();
        parse_line(denied, &mut ev, Zone::Utc).expect("parses");
        assert_eq!(ev.get(Cat::Outcome), Some(&b"denied"[..]));
    }

    #[test]
    fn bad_utf8_rejects_a_record_only_where_it_is_read() {
        let mut unread =
            br#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"GetObject","zz":"caf?"}"#.to_vec();
        let at = unread.iter().position(|&b| b == b'?').expect("marker");
        unread[at] = 0xE9;
        let mut ev = EventRef::default();
        parse_line(&unread, &mut ev, Zone::Utc).expect("an unread field may hold any bytes");
        assert_eq!(ev.get(Cat::Action), Some(&b"GetObject"[..]));
        let mut read = br#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"Get?"}"#.to_vec();
        let at = read.iter().position(|&b| b == b'?').expect("marker");
        read[at] = 0xE9;
        let mut ev = EventRef::default();
        let e = parse_line(&read, &mut ev, Zone::Utc).expect_err("read field");
        assert!(e.starts_with("not a CloudTrail record"), "{e}");
    }

    #[test]
    fn records_without_time_are_rejected() {
        let mut ev = EventRef::default();
        assert_eq!(
            parse_line(br#"{"eventName":"X"}"#, &mut ev, Zone::Utc).expect_err("no time"),
            "record has no eventTime"
        );
    }
}
