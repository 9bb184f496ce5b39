//! The incident, step by step, and the answer key derived from it.
//!
//! On the last day, after a password spray from one address, the attacker
//! signs in as the phished support agent (from a new address, with a script,
//! without MFA), enumerates customer records, downloads documents and a
//! full export from a second address in parallel with the same session,
//! reads the admin configuration (which holds an AWS access key), mints an
//! API key for a partner and uses it from an IPv6 address, turns off the
//! agent's MFA, then uses the leaked AWS key to list and download exports,
//! creates an access key for another IAM user and, with that one, opens the
//! export bucket's policy.
//!
//! [`Truth`] lists what a correct scoping reports, in the vocabulary of
//! `findings.json`, and the decoys it must not report.

use std::collections::BTreeSet;

use rand::RngExt;
use serde::Serialize;
use serde_json::json;

use super::world::{VICTIM, VICTIM_PARTNER, World, hex, upper};
use super::{AwsAccount, AwsCall, AwsIdentity, Request, rng};
use crate::time::format_rfc3339;

const NS: i64 = 1_000_000_000;
const MIN: i64 = 60 * NS;

/// The attacker's addresses.
pub const SPRAY_IP: &str = "203.0.113.77";
pub const ATTACKER_IP: &str = "203.0.113.66";
pub const SECOND_IP: &str = "198.51.100.23";
pub const IPV6_IP: &str = "2001:db8:dead::beef";

const SCRIPT_UA: &str = "python-requests/2.31.0";
const BROWSER_UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:122.0) Gecko/20100101 Firefox/122.0";
const SPRAY_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                        (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36";
const CLI_UA: &str =
    "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0-1014-aws exe/x86_64.ubuntu.22 prompt/off";

/// The planned attack: its log events and its answer key.
pub struct Attack {
    pub requests: Vec<Request>,
    pub aws: Vec<AwsCall>,
    pub truth: Truth,
}

/// A data access in the answer key.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Access {
    pub principal: String,
    pub resource_type: String,
    pub resource_id: String,
}

/// A lateral movement in the answer key.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Movement {
    pub from: String,
    pub to: String,
    pub kind: String,
}

/// A change in the answer key.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub principal: String,
    pub action: String,
    pub target: String,
}

/// A detection the answer key expects at medium severity or above.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expected {
    pub rule: String,
    pub subject: String,
}

/// Activity that looks unusual but is benign; none of it may be reported.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Decoys {
    pub ips: BTreeSet<String>,
    pub principals: BTreeSet<String>,
    pub credentials: BTreeSet<String>,
}

/// The answer key of a generated incident.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Truth {
    pub attacker_ips: BTreeSet<String>,
    pub compromised_credentials: BTreeSet<String>,
    pub compromised_principals: BTreeSet<String>,
    pub affected_data_subjects: BTreeSet<String>,
    pub data_accessed: BTreeSet<Access>,
    pub lateral_movement: BTreeSet<Movement>,
    pub unauthorized_changes: BTreeSet<Change>,
    pub detections: BTreeSet<Expected>,
    pub first_malicious_event: String,
    pub last_malicious_event: String,
    /// Requests (counted once even when logged by edge and gateway) plus
    /// AWS calls.
    pub attacker_events: u64,
    pub decoys: Decoys,
}

/// Collects the attack's events at a moving clock.
struct Plan<'w> {
    world: &'w World,
    aws: &'w AwsAccount,
    rng: rand_pcg::Pcg64Mcg,
    requests: Vec<Request>,
    calls: Vec<AwsCall>,
}

impl Attack {
    /// Plans the attack on `day` (days since the epoch).
    pub fn plan(seed: u64, world: &World, aws: &AwsAccount, day: i64) -> Attack {
        let t0 = day * 86_400 * NS + 9 * 60 * MIN;
        let mut p = Plan {
            world,
            aws,
            rng: rng(seed, "attack"),
            requests: Vec::new(),
            calls: Vec::new(),
        };
        let session = format!("sess_{}", hex(&mut p.rng, 24));
        let minted_key = format!("ak_live_{}", hex(&mut p.rng, 16));
        let backup_key = format!("AKIA{}", upper(&mut p.rng, 16));
        p.spray(t0 + 2 * MIN);
        p.rest_intrusion(t0 + 47 * MIN, &session, &minted_key);
        p.aws_intrusion(t0 + 85 * MIN, &backup_key, day);
        let truth = p.truth(&session, &minted_key, &backup_key);
        Attack {
            requests: p.requests,
            aws: p.calls,
            truth,
        }
    }
}

impl Plan<'_> {
    fn request(
        &mut self,
        ts: i64,
        ip: &str,
        ua: &str,
        method: &'static str,
        path: String,
    ) -> &mut Request {
        let service = if path.starts_with("/api/v1/auth") {
            "auth-api"
        } else if path.starts_with("/api/v1/admin") {
            "admin-api"
        } else if path.starts_with("/api/v1/partners") {
            "partner-api"
        } else {
            "customers-api"
        };
        let latency = self.rng.random_range(8..90);
        self.requests.push(Request {
            ts,
            ip: ip.into(),
            principal: None,
            credential: None,
            method,
            path,
            query: None,
            status: 200,
            bytes: 0,
            ua: ua.into(),
            referer: None,
            service,
            mfa: None,
            issued: None,
            to_gateway: true,
            latency_ms: latency,
            attack: true,
        });
        let last = self.requests.len() - 1;
        &mut self.requests[last]
    }

    /// One failed login per member of staff, six seconds apart.
    fn spray(&mut self, t: i64) {
        let names: Vec<String> = self
            .world
            .staff
            .iter()
            .take(36)
            .map(|s| s.name.clone())
            .collect();
        for (i, name) in names.into_iter().enumerate() {
            let r = self.request(
                t + i as i64 * 6 * NS,
                SPRAY_IP,
                SPRAY_UA,
                "POST",
                "/api/v1/auth/login".into(),
            );
            r.principal = Some(name);
            r.status = 401;
            r.bytes = 64;
        }
    }

    fn as_victim(
        &mut self,
        ts: i64,
        ip: &str,
        ua: &str,
        method: &'static str,
        path: String,
        session: &str,
    ) -> &mut Request {
        let r = self.request(ts, ip, ua, method, path);
        r.principal = Some(VICTIM.into());
        r.credential = Some(session.into());
        r
    }

    fn rest_intrusion(&mut self, t: i64, session: &str, minted_key: &str) {
        let r = self.request(
            t,
            ATTACKER_IP,
            SCRIPT_UA,
            "POST",
            "/api/v1/auth/login".into(),
        );
        r.principal = Some(VICTIM.into());
        r.mfa = Some(false);
        r.issued = Some(session.into());
        r.bytes = 497;
        self.as_victim(
            t + 30 * NS,
            ATTACKER_IP,
            SCRIPT_UA,
            "GET",
            "/api/v1/me".into(),
            session,
        )
        .bytes = 612;
        let r = self.as_victim(
            t + 55 * NS,
            ATTACKER_IP,
            SCRIPT_UA,
            "GET",
            "/api/v1/customers".into(),
            session,
        );
        r.query = Some("search=a&limit=50".into());
        r.bytes = 18_230;
        self.enumerate(t + 2 * MIN, session);
        self.documents_and_export(t + 18 * MIN, session);
        self.admin_actions(t + 25 * MIN, session, minted_key);
        self.use_minted_key(t + 53 * MIN, minted_key);
    }

    /// Customer records fetched one id after another, faster than a person.
    fn enumerate(&mut self, t: i64, session: &str) {
        for (i, id) in (99_992..100_000).chain(100_500..100_900).enumerate() {
            let ts = t + i as i64 * 1_700_000_000;
            let bytes = self.rng.random_range(1_100..2_100);
            let r = self.as_victim(
                ts,
                ATTACKER_IP,
                SCRIPT_UA,
                "GET",
                format!("/api/v1/customers/{id}"),
                session,
            );
            if id < 100_000 {
                r.status = 404;
                r.bytes = 71;
            } else {
                r.bytes = bytes;
            }
        }
    }

    /// The same session, used at the same time from a second address.
    fn documents_and_export(&mut self, t: i64, session: &str) {
        for (i, id) in (100_500..100_540).enumerate() {
            let bytes = self.rng.random_range(20_000..80_000);
            let path = format!("/api/v1/customers/{id}/documents");
            self.as_victim(
                t + i as i64 * 9 * NS,
                SECOND_IP,
                BROWSER_UA,
                "GET",
                path,
                session,
            )
            .bytes = bytes;
        }
        let r = self.as_victim(
            t + 6 * MIN + 30 * NS,
            SECOND_IP,
            BROWSER_UA,
            "GET",
            "/api/v1/reports/export".into(),
            session,
        );
        r.query = Some(format!(
            "format=csv&scope=all-customers&access_token={session}"
        ));
        r.bytes = 31_457_280;
        r.latency_ms = 41_200;
    }

    fn admin_actions(&mut self, t: i64, session: &str, minted_key: &str) {
        self.as_victim(
            t,
            ATTACKER_IP,
            SCRIPT_UA,
            "GET",
            "/api/v1/admin/config".into(),
            session,
        )
        .bytes = 3_817;
        let r = self.as_victim(
            t + 3 * MIN,
            ATTACKER_IP,
            SCRIPT_UA,
            "POST",
            "/api/v1/admin/api-keys".into(),
            session,
        );
        r.status = 201;
        r.bytes = 311;
        r.issued = Some(minted_key.into());
        let path = format!("/api/v1/admin/users/{VICTIM}/mfa");
        self.as_victim(
            t + 6 * MIN + 34 * NS,
            ATTACKER_IP,
            SCRIPT_UA,
            "PATCH",
            path,
            session,
        )
        .bytes = 96;
    }

    /// The minted partner key pages through every transaction.
    fn use_minted_key(&mut self, t: i64, key: &str) {
        for page in 1..=120 {
            let bytes = self.rng.random_range(180_000..250_000);
            let path = "/api/v1/partners/transactions".to_string();
            let r = self.request(t + (page - 1) * 30 * NS, IPV6_IP, "curl/8.4.0", "GET", path);
            r.principal = Some(VICTIM_PARTNER.into());
            r.credential = Some(key.into());
            r.query = Some(format!("since=2020-01-01&page={page}"));
            r.bytes = bytes;
        }
    }

    fn aws_call(
        &mut self,
        ts: i64,
        ip: &str,
        ident: AwsIdentity,
        source: &'static str,
        name: &'static str,
    ) -> &mut AwsCall {
        let mut call = self.aws.call(ts, ip, ident, source, name);
        call.ua = CLI_UA;
        call.attack = true;
        self.calls.push(call);
        let last = self.calls.len() - 1;
        &mut self.calls[last]
    }

    fn aws_intrusion(&mut self, t: i64, backup_key: &str, day: i64) {
        let reporting = AwsIdentity::IamUser {
            name: "svc-reporting".into(),
            key: self.aws.reporting_key.clone(),
        };
        let exports = format!("exports/{}", super::date_of((day - 1) * 86_400 * NS));
        self.aws_call(
            t,
            ATTACKER_IP,
            reporting.clone(),
            "sts.amazonaws.com",
            "GetCallerIdentity",
        );
        self.aws_call(
            t + 17 * NS,
            ATTACKER_IP,
            reporting.clone(),
            "s3.amazonaws.com",
            "ListBuckets",
        );
        let c = self.aws_call(
            t + 38 * NS,
            ATTACKER_IP,
            reporting.clone(),
            "s3.amazonaws.com",
            "ListObjects",
        );
        c.params = json!({"bucketName": "nw-customer-exports", "prefix": "exports/"});
        for part in 0..12 {
            let bytes = self.rng.random_range(2_000_000..5_000_000);
            let c = self.aws_call(
                t + MIN + part * 12 * NS,
                ATTACKER_IP,
                reporting.clone(),
                "s3.amazonaws.com",
                "GetObject",
            );
            c.params = json!({
                "bucketName": "nw-customer-exports",
                "key": format!("{exports}/customers-part-{part:02}.csv")
            });
            c.bytes_out = Some(bytes);
            c.extra = json!({"bytesTransferredOut": bytes});
        }
        self.aws_call(
            t + 6 * MIN,
            ATTACKER_IP,
            reporting.clone(),
            "iam.amazonaws.com",
            "ListUsers",
        );
        let c = self.aws_call(
            t + 6 * MIN + 15 * NS,
            ATTACKER_IP,
            reporting.clone(),
            "iam.amazonaws.com",
            "CreateUser",
        );
        c.params = json!({"userName": "support-temp"});
        c.error = Some("AccessDenied");
        c.read_only = false;
        let c = self.aws_call(
            t + 6 * MIN + 30 * NS,
            ATTACKER_IP,
            reporting,
            "iam.amazonaws.com",
            "CreateAccessKey",
        );
        c.params = json!({"userName": "svc-backup"});
        c.response = json!({"accessKey": {
            "accessKeyId": backup_key,
            "status": "Active",
            "userName": "svc-backup"
        }});
        c.read_only = false;
        let backup = AwsIdentity::IamUser {
            name: "svc-backup".into(),
            key: backup_key.into(),
        };
        let c = self.aws_call(
            t + 27 * MIN,
            SECOND_IP,
            backup.clone(),
            "s3.amazonaws.com",
            "PutBucketPolicy",
        );
        c.params = json!({
            "bucketName": "nw-customer-exports",
            "bucketPolicy": {"Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
            ]}
        });
        c.read_only = false;
        for part in 0..3 {
            let bytes = self.rng.random_range(2_000_000..3_000_000);
            let c = self.aws_call(
                t + 28 * MIN + part * 15 * NS,
                SECOND_IP,
                backup.clone(),
                "s3.amazonaws.com",
                "GetObject",
            );
            c.params = json!({
                "bucketName": "nw-customer-exports",
                "key": format!("{exports}/customers-part-{part:02}.csv")
            });
            c.bytes_out = Some(bytes);
            c.extra = json!({"bytesTransferredOut": bytes});
        }
    }

    fn truth(&self, session: &str, minted_key: &str, backup_key: &str) -> Truth {
        let mut t = Truth {
            attacker_ips: [SPRAY_IP, ATTACKER_IP, SECOND_IP, IPV6_IP]
                .map(String::from)
                .into(),
            compromised_credentials: [session, minted_key, &self.aws.reporting_key, backup_key]
                .map(String::from)
                .into(),
            compromised_principals: [VICTIM, VICTIM_PARTNER, "svc-reporting", "svc-backup"]
                .map(String::from)
                .into(),
            ..Truth::default()
        };
        self.data_truth(&mut t);
        t.lateral_movement = [
            (VICTIM, minted_key, "minted key"),
            (VICTIM, VICTIM_PARTNER, "second principal"),
            (VICTIM, "svc-reporting", "new service or account"),
            ("svc-reporting", backup_key, "minted key"),
            ("svc-reporting", "svc-backup", "second principal"),
        ]
        .into_iter()
        .map(|(f, to, k)| Movement {
            from: f.into(),
            to: to.into(),
            kind: k.into(),
        })
        .collect();
        t.unauthorized_changes = [
            (
                VICTIM,
                "POST /api/v1/admin/api-keys",
                "/api/v1/admin/api-keys",
            ),
            (VICTIM, "PATCH /api/v1/admin/users/{id}/mfa", VICTIM),
            ("svc-reporting", "CreateAccessKey", "svc-backup"),
            ("svc-backup", "PutBucketPolicy", "nw-customer-exports"),
        ]
        .into_iter()
        .map(|(p, a, x)| Change {
            principal: p.into(),
            action: a.into(),
            target: x.into(),
        })
        .collect();
        t.detections = [
            ("password-spray", SPRAY_IP),
            ("new-ip-login", VICTIM),
            ("credential-parallel-ips", session),
            ("credential-new-ip", self.aws.reporting_key.as_str()),
            ("enumeration", VICTIM),
            ("bulk-access", VICTIM),
            ("bulk-access", VICTIM_PARTNER),
            ("bulk-access", "svc-reporting"),
            ("unauthorized-change", VICTIM),
            ("unauthorized-change", "svc-reporting"),
            ("unauthorized-change", "svc-backup"),
        ]
        .into_iter()
        .map(|(r, s)| Expected {
            rule: r.into(),
            subject: s.into(),
        })
        .collect();
        let times = self
            .requests
            .iter()
            .map(|r| r.ts)
            .chain(self.calls.iter().map(|c| c.ts));
        let (first, last) = times.fold((i64::MAX, i64::MIN), |(a, b), ts| (a.min(ts), b.max(ts)));
        t.first_malicious_event = format_rfc3339(first);
        t.last_malicious_event = format_rfc3339(last);
        t.attacker_events = (self.requests.len() + self.calls.len()) as u64;
        t.decoys = self.decoys();
        t
    }

    /// Reads of data by the attacker, and whose data it was.
    fn data_truth(&self, t: &mut Truth) {
        let access = |p: &str, ty: &str, id: &str| Access {
            principal: p.into(),
            resource_type: ty.into(),
            resource_id: id.into(),
        };
        for r in self
            .requests
            .iter()
            .filter(|r| r.method == "GET" && r.status < 300)
        {
            let principal = r.principal.clone().unwrap_or_default();
            let parts: Vec<&str> = r.path.trim_start_matches("/api/v1/").split('/').collect();
            let a = match parts.as_slice() {
                ["customers", id] => access(&principal, "customer", id),
                ["customers", id, sub] => access(&principal, &format!("customer.{sub}"), id),
                _ => access(&principal, "route", &r.path),
            };
            if a.resource_type.starts_with("customer") {
                t.affected_data_subjects.insert(a.resource_id.clone());
            }
            t.data_accessed.insert(a);
        }
        for c in self
            .calls
            .iter()
            .filter(|c| c.error.is_none() && c.read_only)
        {
            let AwsIdentity::IamUser { name, .. } = &c.identity else {
                continue;
            };
            let bucket = c.params.get("bucketName").and_then(|b| b.as_str());
            let key = c.params.get("key").and_then(|k| k.as_str());
            match (bucket, key) {
                (Some(b), Some(k)) => {
                    let id = format!("{b}/{k}");
                    t.affected_data_subjects.insert(id.clone());
                    t.data_accessed.insert(access(name, "s3-object", &id));
                }
                (Some(b), None) => {
                    t.data_accessed.insert(access(name, "s3-bucket", b));
                }
                _ => {}
            }
        }
    }

    fn decoys(&self) -> Decoys {
        let w = self.world;
        let mut d = Decoys::default();
        d.ips.insert(w.office_nat.clone());
        d.ips.insert(w.scanner_ip.clone());
        d.ips.insert("2001:db8:70::15".into());
        d.ips.insert("10.0.1.25".into());
        d.ips.insert("10.0.3.15".into());
        if let Some(v) = w.staff_named(VICTIM) {
            d.ips.insert(v.home_ip.clone());
        }
        d.ips.extend(w.carrier_ips.iter().cloned());
        for name in [
            super::world::ADMIN,
            super::world::TRAVELLER,
            "alice.ops",
            "bob.ops",
        ] {
            d.principals.insert(name.into());
        }
        for p in w.partners.iter().filter(|p| p.principal != VICTIM_PARTNER) {
            d.principals.insert(p.principal.clone());
            d.credentials.extend(p.keys.iter().cloned());
        }
        if let Some(p) = w.partner(VICTIM_PARTNER) {
            d.credentials.extend(p.keys.iter().cloned());
        }
        d
    }
}
