//! A deterministic generator of spear-phishing incidents at a REST API.
//!
//! It writes what an analyst would be handed the day after, under `logs/`:
//! rotated nginx access logs of the edge (`edge/`), the API gateway's JSON
//! lines (`gateway/`), and the AWS account's CloudTrail (`cloudtrail/`, S3
//! layout, with a digest file as real exports have); beside it `truth.json`,
//! the answer key the tests grade scoping against. The same seed and size always give
//! the same bytes; the size scales from a few megabytes for tests to
//! gigabytes for benchmarks.
//!
//! [`world`] builds the organisation, [`traffic`] its benign activity with
//! the decoys that must not be mistaken for the attacker, [`attack`] the
//! incident itself and its ground truth, and [`write`] the log formats.

pub mod attack;
pub mod traffic;
pub mod world;
pub mod write;

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use serde_json::{Value, json};
use thiserror::Error;

pub use attack::Truth;
use world::World;

/// A generator run that could not complete.
#[derive(Debug, Error)]
pub enum GenerateError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
}

/// Format of the edge logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeFormat {
    /// nginx `combined`.
    Combined,
    /// nginx JSON lines (`remote_addr`, `time_iso8601`, `request_uri`, ...).
    Json,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenerateConfig {
    pub seed: u64,
    /// First day of the logs, `YYYY-MM-DD`.
    pub start: String,
    /// Days of logs; the attack happens on the last one.
    pub days: u32,
    /// Approximate uncompressed size of the edge logs, in bytes.
    pub size: u64,
    /// Number of rotated edge log files (default: one per day).
    pub edge_files: Option<u32>,
    pub edge_format: EdgeFormat,
    /// Write only the edge logs (for throughput benchmarks).
    pub edge_only: bool,
    /// Compress every edge file (dated names, as logrotate's `dateext`
    /// writes them) instead of keeping the newest two plain.
    pub gzip_all: bool,
    /// Write the authenticated principal as `$remote_user` in edge logs.
    pub edge_user: bool,
    /// Customers of the bank.
    pub customers: usize,
}

impl Default for GenerateConfig {
    fn default() -> GenerateConfig {
        GenerateConfig {
            seed: 7,
            start: "2026-03-09".into(),
            days: 3,
            size: 4 << 20,
            edge_files: None,
            edge_format: EdgeFormat::Combined,
            edge_only: false,
            gzip_all: false,
            edge_user: false,
            customers: 5_000,
        }
    }
}

/// One HTTP request, as the edge sees it (and the gateway, for API calls).
#[derive(Clone, Debug)]
pub struct Request {
    /// Arrival at the edge, UTC ns.
    pub ts: i64,
    pub ip: String,
    pub principal: Option<String>,
    pub credential: Option<String>,
    pub method: &'static str,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub bytes: u64,
    pub ua: String,
    pub referer: Option<&'static str>,
    /// Backend service the gateway routes to.
    pub service: &'static str,
    pub mfa: Option<bool>,
    /// Credential issued in the response (a session at login, a new key).
    pub issued: Option<String>,
    /// Whether the gateway logs it too (API routes).
    pub to_gateway: bool,
    pub latency_ms: u32,
    /// Part of the incident.
    pub attack: bool,
}

/// Who made an AWS call.
#[derive(Clone, Debug)]
pub enum AwsIdentity {
    IamUser {
        name: String,
        key: String,
    },
    InstanceRole {
        role: String,
        session: String,
        key: String,
    },
    Service {
        name: String,
    },
}

/// One AWS API call, as CloudTrail records it.
#[derive(Clone, Debug)]
pub struct AwsCall {
    pub ts: i64,
    pub ip: String,
    pub ua: &'static str,
    pub identity: AwsIdentity,
    pub source: &'static str,
    pub name: &'static str,
    pub event_type: &'static str,
    pub params: Value,
    pub response: Value,
    pub extra: Value,
    pub error: Option<&'static str>,
    pub read_only: bool,
    pub bytes_out: Option<u64>,
    pub attack: bool,
}

/// The AWS account of the bank.
pub struct AwsAccount {
    pub account: String,
    pub region: String,
    /// Access key of the IAM user `svc-reporting`, leaked by the API.
    pub reporting_key: String,
}

impl AwsAccount {
    /// A successful read-only call with no parameters.
    pub fn call(
        &self,
        ts: i64,
        ip: &str,
        identity: AwsIdentity,
        source: &'static str,
        name: &'static str,
    ) -> AwsCall {
        AwsCall {
            ts,
            ip: ip.to_string(),
            ua: "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 exe/x86_64.ubuntu.22",
            identity,
            source,
            name,
            event_type: "AwsApiCall",
            params: Value::Null,
            response: Value::Null,
            extra: Value::Null,
            error: None,
            read_only: true,
            bytes_out: None,
            attack: false,
        }
    }

    /// The identity of the API backend's instance role with session key `key`.
    pub fn instance_identity(&self, key: &str) -> AwsIdentity {
        AwsIdentity::InstanceRole {
            role: "api-backend-role".into(),
            session: "i-0a1b2c3d4e5f60718".into(),
            key: key.to_string(),
        }
    }

    /// EC2 handing the instance new role credentials.
    pub fn assume_instance_role(&self, ts: i64, key: &str) -> AwsCall {
        let mut call = self.call(
            ts,
            "ec2.amazonaws.com",
            AwsIdentity::Service {
                name: "ec2.amazonaws.com".into(),
            },
            "sts.amazonaws.com",
            "AssumeRole",
        );
        call.ua = "ec2.amazonaws.com";
        call.params = json!({
            "roleArn": format!("arn:aws:iam::{}:role/api-backend-role", self.account),
            "roleSessionName": "i-0a1b2c3d4e5f60718"
        });
        call.response = json!({"credentials": {"accessKeyId": key, "expiration": "in six hours"}});
        call
    }

    /// A console sign-in with MFA.
    pub fn console_login(&self, ts: i64, ip: &str, user: &str) -> AwsCall {
        let mut call = self.call(
            ts,
            ip,
            AwsIdentity::IamUser {
                name: user.into(),
                key: String::new(),
            },
            "signin.amazonaws.com",
            "ConsoleLogin",
        );
        call.event_type = "AwsConsoleSignIn";
        call.ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/122.0.0.0";
        call.response = json!({"ConsoleLogin": "Success"});
        call.extra = json!({"MFAUsed": "Yes", "LoginTo": "https://console.aws.amazon.com/"});
        call.read_only = false;
        call
    }
}

/// Everything fixed before any log line is written.
pub struct Scenario {
    pub seed: u64,
    pub world: World,
    /// First day, in days since the epoch.
    pub start_day: i64,
    pub days: i64,
    /// Day of the attack, in days since the epoch.
    pub attack_day: i64,
    /// Requests per second at the busiest hour.
    pub peak_rate: f64,
    pub aws: AwsAccount,
    pub attack: attack::Attack,
}

/// What a generator run wrote.
#[derive(Debug)]
pub struct Summary {
    pub files: Vec<PathBuf>,
    pub edge_lines: u64,
    pub gateway_lines: u64,
    pub cloudtrail_records: u64,
    pub truth: Truth,
}

/// Average length of an edge line, used to turn a size into a rate.
const AVG_EDGE_LINE: u64 = 182;

/// Builds the scenario for `cfg`.
pub fn scenario(cfg: &GenerateConfig) -> Result<Scenario, GenerateError> {
    let date = chrono::NaiveDate::parse_from_str(&cfg.start, "%Y-%m-%d").map_err(|_| {
        GenerateError::Config(format!("--start {}: expected YYYY-MM-DD", cfg.start))
    })?;
    if cfg.days < 2 {
        return Err(GenerateError::Config(
            "--days must be at least 2: the attack needs a day of baseline".into(),
        ));
    }
    let start_day = date
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp() / 86_400)
        .unwrap_or_default();
    let days = i64::from(cfg.days);
    let world = World::new(cfg.seed, cfg.customers.max(100));
    let aws = AwsAccount {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        reporting_key: format!(
            "AKIA{}",
            world::upper(&mut rng(cfg.seed, "reporting-key"), 16)
        ),
    };
    let total = (cfg.size / AVG_EDGE_LINE).max(1000);
    let peak_rate = traffic::peak_rate(total, days * 86_400);
    let attack_day = start_day + days - 1;
    let attack = attack::Attack::plan(cfg.seed, &world, &aws, attack_day);
    Ok(Scenario {
        seed: cfg.seed,
        world,
        start_day,
        days,
        attack_day,
        peak_rate,
        aws,
        attack,
    })
}

/// Writes an incident under `out` and returns what was written.
pub fn generate(cfg: &GenerateConfig, out: &Path) -> Result<Summary, GenerateError> {
    let sc = scenario(cfg)?;
    let summary = write::write_all(&sc, cfg, out)?;
    let truth_path = out.join("truth.json");
    let mut text =
        serde_json::to_string_pretty(&summary.truth).map_err(|e| io_err(&truth_path, e.into()))?;
    text.push('\n');
    std::fs::write(&truth_path, text).map_err(|e| io_err(&truth_path, e))?;
    Ok(summary)
}

pub(crate) fn io_err(path: &Path, source: std::io::Error) -> GenerateError {
    GenerateError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A generator for one purpose, derived from the seed.
pub fn rng(seed: u64, purpose: &str) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(seed ^ hashed(purpose))
}

/// A stable hash of a string (FNV-1a; `DefaultHasher` may change between
/// Rust releases, and the output must not).
pub fn hashed(s: &str) -> u64 {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    s.hash(&mut h);
    h.0
}

struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The session id `principal` holds on `day`.
pub fn session_id(seed: u64, principal: &str, day: i64) -> String {
    let mut r = rng(
        seed ^ hashed(principal) ^ (day as u64).wrapping_mul(31),
        "session",
    );
    format!("sess_{}", world::hex(&mut r, 24))
}

/// `YYYY-MM-DD` of an instant.
pub fn date_of(ts: i64) -> String {
    crate::time::day_of(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_scenario() {
        let cfg = GenerateConfig {
            size: 200_000,
            customers: 300,
            ..GenerateConfig::default()
        };
        let a = scenario(&cfg).expect("scenario");
        let b = scenario(&cfg).expect("scenario");
        assert_eq!(a.attack.requests.len(), b.attack.requests.len());
        assert_eq!(a.aws.reporting_key, b.aws.reporting_key);
        assert_eq!(session_id(1, "x", 3), session_id(1, "x", 3));
        assert_ne!(session_id(1, "x", 3), session_id(1, "x", 4));
        assert!(
            scenario(&GenerateConfig {
                days: 1,
                ..cfg.clone()
            })
            .is_err()
        );
        assert!(
            scenario(&GenerateConfig {
                start: "March".into(),
                ..cfg
            })
            .is_err()
        );
    }
}
