//! Column names of the normalised event table, in one place.
//!
//! Every stage refers to columns through these constants, never through string
//! literals, so a rename is a one-line change. The SQL in `queries/` uses the
//! same names; `tests/query.rs` checks that every name listed here exists in a
//! loaded frame.

/// Event instant, UTC, nanoseconds (`Datetime(ns, "UTC")`).
pub const TS: &str = "ts";
/// Input file the event came from, as given on the command line.
pub const SOURCE: &str = "source";
/// 1-based line number for line formats, 1-based record number for JSON
/// documents (`{"Records": [...]}` and arrays).
pub const LINE: &str = "line";
/// Parser that produced the row (`combined`, `common`, `jsonl`, `cloudtrail`).
pub const FORMAT: &str = "format";
/// Client address as text (v4 or v6), a host name, or the AWS service name
/// CloudTrail gives in `sourceIPAddress`.
pub const IP: &str = "ip";
/// The full client chain when a proxy logged `X-Forwarded-For`, left to right.
pub const FORWARDED_FOR: &str = "forwarded_for";
/// The identity acting: `$remote_user`, a user field, or the CloudTrail user
/// name (IAM users) or ARN (roles, federated users).
pub const PRINCIPAL: &str = "principal";
/// The secret or session used: API key id, token id, AWS access key id.
pub const CREDENTIAL: &str = "credential";
/// System that served the request: vhost, gateway stage, AWS `eventSource`.
pub const SERVICE: &str = "service";
/// HTTP method.
pub const METHOD: &str = "method";
/// Request path without the query string, as logged (still URL-encoded).
pub const PATH: &str = "path";
/// Query string without the leading `?`.
pub const QUERY: &str = "query";
/// HTTP status code; null for CloudTrail.
pub const STATUS: &str = "status";
/// CloudTrail `errorCode` or a gateway's error field.
pub const ERROR_CODE: &str = "error_code";
/// `success`, `failure` or `denied`, from the status or the error code.
pub const OUTCOME: &str = "outcome";
/// Response size in bytes (`$body_bytes_sent`, S3 `bytesTransferredOut`).
pub const BYTES: &str = "bytes";
/// Client user-agent string.
pub const USER_AGENT: &str = "user_agent";
/// HTTP referer.
pub const REFERER: &str = "referer";
/// Request id (gateway request id, CloudTrail `requestID`).
pub const REQUEST_ID: &str = "request_id";
/// What was done: CloudTrail `eventName`; for HTTP logs `METHOD route`,
/// filled in by enrichment.
pub const ACTION: &str = "action";
/// What it was done to: `customer`, `s3-object`, `iam-user`, ...
pub const RESOURCE_TYPE: &str = "resource_type";
/// Identifier of the resource: a customer id, `bucket/key`, a user name.
pub const RESOURCE_ID: &str = "resource_id";
/// A credential created by this event (CloudTrail `CreateAccessKey`,
/// `AssumeRole`, `GetSessionToken` responses; an API key minted over REST).
pub const MINTED_CREDENTIAL: &str = "minted_credential";
/// AWS account the event was recorded in.
pub const ACCOUNT: &str = "account";
/// AWS region.
pub const REGION: &str = "region";
/// CloudTrail `userIdentity.type` (`IAMUser`, `AssumedRole`, `Root`, ...).
pub const IDENTITY_TYPE: &str = "identity_type";
/// CloudTrail `eventType` (`AwsApiCall`, `AwsConsoleSignIn`, ...).
pub const EVENT_TYPE: &str = "event_type";
/// Whether the session was authenticated with a second factor, when logged.
pub const MFA: &str = "mfa";
/// CloudTrail `readOnly`.
pub const READ_ONLY: &str = "read_only";
/// The credential is an EC2 instance-role session (`ec2RoleDelivery`).
pub const INSTANCE_CREDENTIAL: &str = "instance_credential";

/// Columns added by the enrich stage.
pub mod enriched {
    /// Path with ids, UUIDs, hashes and e-mails replaced by placeholders.
    pub const ROUTE: &str = "route";
    /// The event is a login or token attempt.
    pub const IS_LOGIN: &str = "is_login";
    /// The event changed state (write method on data or configuration,
    /// non-read-only CloudTrail call).
    pub const IS_CHANGE: &str = "is_change";
    /// `browser`, `sdk`, `cli`, `script`, `scanner`, `bot`, `aws-internal`,
    /// `unknown`.
    pub const CLIENT_FAMILY: &str = "client_family";
    /// The request carried a credential in its query string.
    pub const CREDENTIAL_IN_QUERY: &str = "credential_in_query";
    /// Row index of the other log line of the same request, when the request
    /// was logged twice (edge proxy and gateway).
    pub const TWIN: &str = "twin";
    /// This row is the second log line of a request already counted through
    /// its twin.
    pub const DUPLICATE: &str = "duplicate";
}
