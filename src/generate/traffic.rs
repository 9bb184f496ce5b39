//! Benign traffic: what the logs hold when nothing is wrong, and the
//! unusual-but-innocent activity a good scoping must not mistake for the
//! attacker (the shared office NAT, a traveller, an admin's routine changes,
//! a scanner that never logs in, customers mistyping passwords).
//!
//! Traffic is generated window by window from a generator seeded with the
//! window's index, so any window can be produced on its own (in parallel)
//! and always comes out the same.

use rand::RngExt;
use rand::seq::IndexedRandom;
use rand_pcg::Pcg64Mcg;
use serde_json::json;

use super::world::{ADMIN, BROWSERS, Customer, Staff, TRAVELLER, World};
use super::{AwsCall, AwsIdentity, Request, Scenario, hashed, rng, session_id};

const NS: i64 = 1_000_000_000;
const HOUR: i64 = 3600 * NS;
const DAY: i64 = 24 * HOUR;

/// Share of requests by kind of client.
const CUSTOMER_SHARE: f64 = 0.62;
const STAFF_SHARE: f64 = 0.12;
const PARTNER_SHARE: f64 = 0.08;

/// Requests per second at the busiest hour, for a given total.
pub fn peak_rate(total_requests: u64, seconds: i64) -> f64 {
    // The daily profile averages about 0.55 of its peak.
    total_requests as f64 / (seconds as f64 * 0.55)
}

/// Relative load by hour of day (UTC), office hours busiest.
fn diurnal(ts: i64) -> f64 {
    let hour = ts.rem_euclid(DAY) / HOUR;
    match hour {
        0..=5 => 0.15,
        6..=7 => 0.45,
        8..=17 => 1.0,
        18..=21 => 0.7,
        _ => 0.35,
    }
}

/// Benign requests in `[start, end)`, unsorted.
pub fn requests(sc: &Scenario, window: u64, start: i64, end: i64) -> Vec<Request> {
    let mut rng = rng(
        sc.seed ^ window.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        "traffic",
    );
    let expected = sc.peak_rate * diurnal(start) * ((end - start) as f64 / NS as f64);
    let n =
        expected.floor() as usize + usize::from(rng.random_bool(expected.fract().clamp(0.0, 1.0)));
    let mut out = Vec::with_capacity(n + 8);
    for _ in 0..n {
        let ts = rng.random_range(start..end);
        let pick: f64 = rng.random();
        if pick < CUSTOMER_SHARE {
            out.push(customer_request(sc, &mut rng, ts));
        } else if pick < CUSTOMER_SHARE + STAFF_SHARE {
            if let Some(r) = staff_request(sc, &mut rng, ts) {
                out.push(r);
            }
        } else if pick < CUSTOMER_SHARE + STAFF_SHARE + PARTNER_SHARE {
            out.push(partner_request(&sc.world, &mut rng, ts));
        } else {
            out.push(web_request(&sc.world, &mut rng, ts));
        }
    }
    out.extend(scheduled_requests(sc, start, end));
    out
}

fn base(ts: i64, ip: &str, method: &'static str, path: String, ua: &str) -> Request {
    Request {
        ts,
        ip: ip.to_string(),
        principal: None,
        credential: None,
        method,
        path,
        query: None,
        status: 200,
        bytes: 0,
        ua: ua.to_string(),
        referer: None,
        service: "web",
        mfa: None,
        issued: None,
        to_gateway: false,
        latency_ms: 0,
        attack: false,
    }
}

fn api(mut r: Request, rng: &mut Pcg64Mcg, service: &'static str) -> Request {
    r.to_gateway = true;
    r.service = service;
    r.latency_ms = rng.random_range(4..120);
    r
}

fn customer_request(sc: &Scenario, rng: &mut Pcg64Mcg, ts: i64) -> Request {
    let c = sc
        .world
        .customers
        .choose(rng)
        .unwrap_or(&sc.world.customers[0]);
    let day = ts.div_euclid(DAY);
    let sess = session_id(sc.seed, &c.principal(), day);
    let roll: f64 = rng.random();
    let (method, path, bytes) = if roll < 0.08 {
        return customer_login(rng, c, ts, &sess);
    } else if roll < 0.30 {
        ("GET", "/api/v1/me".to_string(), rng.random_range(300..700))
    } else if roll < 0.60 {
        (
            "GET",
            "/api/v1/me/accounts".to_string(),
            rng.random_range(800..2400),
        )
    } else if roll < 0.92 {
        let acct = 10_000_000 + c.id * 3 + rng.random_range(0..3);
        (
            "GET",
            format!("/api/v1/me/accounts/{acct}/transactions"),
            rng.random_range(2_000..24_000),
        )
    } else {
        (
            "GET",
            "/api/v1/me/cards".to_string(),
            rng.random_range(400..1200),
        )
    };
    let mut r = api(base(ts, &c.ip, method, path, c.ua), rng, "accounts-api");
    if r.path.ends_with("/transactions") {
        r.query = Some(format!("page={}&size=50", rng.random_range(1..6)));
    }
    r.principal = Some(c.principal());
    r.credential = Some(sess);
    r.bytes = bytes;
    if rng.random_bool(0.004) {
        r.status = 500;
        r.bytes = 87;
    }
    r
}

/// A customer login; a few mistype their password first.
fn customer_login(rng: &mut Pcg64Mcg, c: &Customer, ts: i64, sess: &str) -> Request {
    let mut r = api(
        base(ts, &c.ip, "POST", "/api/v1/auth/login".into(), c.ua),
        rng,
        "auth-api",
    );
    r.principal = Some(c.principal());
    if rng.random_bool(0.03) {
        r.status = 401;
        r.bytes = 64;
        return r;
    }
    r.bytes = rng.random_range(400..520);
    r.issued = Some(sess.to_string());
    r.mfa = Some(c.ua.starts_with("NorthwindBank"));
    r
}

/// Where and when a member of staff works on `day`: login time and address.
pub fn staff_day(sc: &Scenario, s: &Staff, day: i64) -> (i64, String) {
    let mut rng = rng(sc.seed ^ hashed(&s.name) ^ day as u64, "staff-day");
    let login = day * DAY + 7 * HOUR + rng.random_range(0..3 * HOUR);
    let ip = if s.name == TRAVELLER && day == sc.attack_day {
        "2001:db8:70::15".to_string()
    } else if rng.random_bool(0.8) {
        sc.world.office_nat.clone()
    } else {
        s.home_ip.clone()
    };
    (login, ip)
}

fn staff_request(sc: &Scenario, rng: &mut Pcg64Mcg, ts: i64) -> Option<Request> {
    let s = sc.world.staff.choose(rng)?;
    let day = ts.div_euclid(DAY);
    let (login, ip) = staff_day(sc, s, day);
    let hour = ts.rem_euclid(DAY) / HOUR;
    if ts <= login || hour >= 18 {
        return None;
    }
    let sess = session_id(sc.seed, &s.name, day);
    let roll: f64 = rng.random();
    let id = sc.world.customers.choose(rng)?.id;
    let (method, path, bytes, service) = if roll < 0.55 {
        (
            "GET",
            format!("/api/v1/customers/{id}"),
            rng.random_range(900..2200),
            "customers-api",
        )
    } else if roll < 0.70 {
        (
            "GET",
            format!("/api/v1/customers/{id}/accounts"),
            rng.random_range(1500..4000),
            "customers-api",
        )
    } else if roll < 0.90 {
        (
            "GET",
            "/api/v1/tickets".to_string(),
            rng.random_range(3000..9000),
            "support-api",
        )
    } else {
        let t = rng.random_range(50_000..60_000);
        (
            "POST",
            format!("/api/v1/tickets/{t}/comments"),
            rng.random_range(200..400),
            "support-api",
        )
    };
    let mut r = api(base(ts, &ip, method, path, s.ua), rng, service);
    if r.path == "/api/v1/tickets" {
        r.query = Some(format!("status=open&assignee={}", s.name));
    }
    if method == "POST" {
        r.status = 201;
    }
    r.principal = Some(s.name.clone());
    r.credential = Some(sess);
    r.bytes = bytes;
    Some(r)
}

fn partner_request(world: &World, rng: &mut Pcg64Mcg, ts: i64) -> Request {
    let p = world.partners.choose(rng).unwrap_or(&world.partners[0]);
    let key = p.keys.choose(rng).cloned().unwrap_or_default();
    let mut r = api(
        base(
            ts,
            &p.ip,
            "GET",
            "/api/v1/partners/transactions".into(),
            p.ua,
        ),
        rng,
        "partner-api",
    );
    r.query = Some(format!(
        "since={}&page={}",
        super::date_of(ts - DAY),
        rng.random_range(1..4)
    ));
    r.principal = Some(p.principal.clone());
    r.credential = Some(key);
    r.bytes = rng.random_range(40_000..160_000);
    r
}

fn web_request(world: &World, rng: &mut Pcg64Mcg, ts: i64) -> Request {
    const PAGES: &[(&str, u64)] = &[
        ("/", 14_200),
        ("/about", 9_800),
        ("/static/app.js", 182_000),
        ("/static/app.css", 41_000),
        ("/favicon.ico", 4_286),
        ("/robots.txt", 68),
        ("/login", 7_400),
    ];
    let (path, bytes) = *PAGES.choose(rng).unwrap_or(&PAGES[0]);
    let crawler = rng.random_bool(0.2);
    let (ip, ua) = if crawler {
        (
            world.crawler_ips.choose(rng).cloned().unwrap_or_default(),
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        )
    } else {
        let c = world.customers.choose(rng).unwrap_or(&world.customers[0]);
        (c.ip.clone(), *BROWSERS.choose(rng).unwrap_or(&BROWSERS[0]))
    };
    let mut r = base(ts, &ip, "GET", path.into(), ua);
    r.bytes = bytes;
    r.referer = (!crawler && path != "/").then_some("https://www.northwind.example/");
    if rng.random_bool(0.02) {
        r.path = "/static/old-logo.png".into();
        r.status = 404;
        r.bytes = 153;
    }
    r
}

/// Requests that happen at set times: staff logins, the admin's routine
/// changes, and the scanner's sweep.
fn scheduled_requests(sc: &Scenario, start: i64, end: i64) -> Vec<Request> {
    let mut out = Vec::new();
    let day = start.div_euclid(DAY);
    let mut rng = rng(sc.seed ^ start as u64, "scheduled");
    for s in &sc.world.staff {
        let (login, ip) = staff_day(sc, s, day);
        if (start..end).contains(&login) {
            let mut r = api(
                base(login, &ip, "POST", "/api/v1/auth/login".into(), s.ua),
                &mut rng,
                "auth-api",
            );
            r.principal = Some(s.name.clone());
            r.bytes = 488;
            r.mfa = Some(true);
            r.issued = Some(session_id(sc.seed, &s.name, day));
            out.push(r);
        }
    }
    out.extend(admin_changes(sc, &mut rng, day, start, end));
    out.extend(scanner_probes(sc, &mut rng, day, start, end));
    out
}

/// The administrator adjusts settings a few times a day, every day.
fn admin_changes(
    sc: &Scenario,
    rng: &mut Pcg64Mcg,
    day: i64,
    start: i64,
    end: i64,
) -> Vec<Request> {
    let Some(admin) = sc.world.staff_named(ADMIN) else {
        return Vec::new();
    };
    let (login, ip) = staff_day(sc, admin, day);
    let mut out = Vec::new();
    for (k, setting) in ["rate-limits", "feature-flags", "maintenance-window"]
        .iter()
        .enumerate()
    {
        let ts = login + (k as i64 + 1) * 2 * HOUR + 17 * NS;
        if (start..end).contains(&ts) {
            let mut r = api(
                base(
                    ts,
                    &ip,
                    "PUT",
                    format!("/api/v1/admin/settings/{setting}"),
                    admin.ua,
                ),
                rng,
                "admin-api",
            );
            r.principal = Some(admin.name.clone());
            r.credential = Some(session_id(sc.seed, &admin.name, day));
            r.bytes = 220;
            out.push(r);
        }
    }
    out
}

/// A vulnerability scanner probes once a day for common files; it never
/// holds a credential.
fn scanner_probes(
    sc: &Scenario,
    rng: &mut Pcg64Mcg,
    day: i64,
    start: i64,
    end: i64,
) -> Vec<Request> {
    const PROBES: &[&str] = &[
        "/.env",
        "/.git/config",
        "/wp-login.php",
        "/phpmyadmin/",
        "/admin",
        "/server-status",
        "/api/v1/admin/config",
        "/api/v1/admin/users",
        "/actuator/env",
        "/config.json",
    ];
    let t0 = day * DAY + 3 * HOUR + 11 * 60 * NS;
    let mut out = Vec::new();
    for (i, probe) in PROBES.iter().cycle().take(60).enumerate() {
        let ts = t0 + i as i64 * 2 * NS + rng.random_range(0..NS);
        if !(start..end).contains(&ts) {
            continue;
        }
        let ua = "Mozilla/5.0 (compatible; Nuclei - Open-source project \
                  (github.com/projectdiscovery/nuclei))";
        let mut r = base(ts, &sc.world.scanner_ip, "GET", (*probe).to_string(), ua);
        if probe.starts_with("/api/") {
            r = api(r, rng, "admin-api");
            r.status = 401;
            r.bytes = 64;
        } else {
            r.status = 404;
            r.bytes = 153;
        }
        out.push(r);
    }
    out
}

/// Benign AWS activity in `[start, end)`: the API's instance role reading
/// statements, the nightly reporting job, operators in the console.
pub fn aws_calls(sc: &Scenario, window: u64, start: i64, end: i64) -> Vec<AwsCall> {
    let mut rng = rng(sc.seed ^ window.wrapping_mul(0xa076_1d64_78bd_642f), "aws");
    let mut out = Vec::new();
    let day = start.div_euclid(DAY);
    instance_role(sc, &mut rng, start, end, &mut out);
    reporting_job(sc, &mut rng, day, start, end, &mut out);
    operators(sc, &mut rng, day, start, end, &mut out);
    out
}

fn instance_role(sc: &Scenario, rng: &mut Pcg64Mcg, start: i64, end: i64, out: &mut Vec<AwsCall>) {
    let mut t = start + rng.random_range(0..90 * NS);
    while t < end {
        let epoch = t.div_euclid(6 * HOUR);
        let key = instance_key(sc.seed, epoch);
        if t - epoch * 6 * HOUR < 90 * NS {
            out.push(sc.aws.assume_instance_role(t, &key));
        }
        let object = format!(
            "statements/{}/stmt-{}.pdf",
            super::date_of(t),
            rng.random_range(100_000..104_999)
        );
        let (name, read) = if rng.random_bool(0.7) {
            ("GetObject", true)
        } else {
            ("PutObject", false)
        };
        let mut call = sc.aws.call(
            t,
            "10.0.1.25",
            sc.aws.instance_identity(&key),
            "s3.amazonaws.com",
            name,
        );
        call.ua = "aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.6 md/GOOS#linux api/s3#1.48.0";
        call.params = json!({"bucketName": "nw-statements", "key": object});
        call.read_only = read;
        call.bytes_out = read.then(|| rng.random_range(30_000..90_000));
        out.push(call);
        t += rng.random_range(60 * NS..240 * NS);
    }
}

/// The key an instance-role session uses during 6-hour epoch `epoch`.
pub fn instance_key(seed: u64, epoch: i64) -> String {
    let mut rng = rng(seed ^ epoch as u64, "instance-key");
    format!("ASIA{}", super::world::upper(&mut rng, 16))
}

fn reporting_job(
    sc: &Scenario,
    rng: &mut Pcg64Mcg,
    day: i64,
    start: i64,
    end: i64,
    out: &mut Vec<AwsCall>,
) {
    let t0 = day * DAY + 2 * HOUR + 5 * 60 * NS;
    let ident = || AwsIdentity::IamUser {
        name: "svc-reporting".into(),
        key: sc.aws.reporting_key.clone(),
    };
    for part in 0..12 {
        let t = t0 + part * 20 * NS;
        if !(start..end).contains(&t) {
            continue;
        }
        let mut call = sc
            .aws
            .call(t, "10.0.3.15", ident(), "s3.amazonaws.com", "PutObject");
        call.ua = "aws-sdk-java/2.21.0 Linux/5.10.205 OpenJDK_64-Bit_Server_VM/17.0.9 java/17.0.9";
        call.params = json!({"bucketName": "nw-customer-exports",
            "key": format!("exports/{}/customers-part-{part:02}.csv", super::date_of(t))});
        call.read_only = false;
        out.push(call);
    }
    let t = t0 + 5 * 60 * NS + rng.random_range(0..NS);
    if (start..end).contains(&t) {
        let mut call = sc
            .aws
            .call(t, "10.0.3.15", ident(), "s3.amazonaws.com", "ListObjects");
        call.ua = "aws-sdk-java/2.21.0 Linux/5.10.205 OpenJDK_64-Bit_Server_VM/17.0.9 java/17.0.9";
        call.params = json!({"bucketName": "nw-customer-exports", "prefix": "exports/"});
        out.push(call);
    }
}

fn operators(
    sc: &Scenario,
    rng: &mut Pcg64Mcg,
    day: i64,
    start: i64,
    end: i64,
    out: &mut Vec<AwsCall>,
) {
    for (k, name) in ["alice.ops", "bob.ops"].iter().enumerate() {
        let login = day * DAY + 8 * HOUR + k as i64 * 40 * 60 * NS + 13 * NS;
        let ident = || AwsIdentity::IamUser {
            name: (*name).into(),
            key: format!("ASIAOPS{k}{}", day.rem_euclid(97)),
        };
        let nat = sc.world.office_nat.clone();
        if (start..end).contains(&login) {
            out.push(sc.aws.console_login(login, &nat, name));
        }
        for i in 0..6 {
            let t = login + (i + 1) * 7 * 60 * NS + rng.random_range(0..30 * NS);
            if (start..end).contains(&t) {
                let (source, event) = [
                    ("ec2.amazonaws.com", "DescribeInstances"),
                    ("s3.amazonaws.com", "ListBuckets"),
                ][i as usize % 2];
                let mut call = sc.aws.call(t, &nat, ident(), source, event);
                call.ua = "console.amazonaws.com";
                out.push(call);
            }
        }
        // Alice keeps the statements bucket policy current: a routine change.
        let change = login + 3 * HOUR;
        if k == 0 && (start..end).contains(&change) {
            let mut call =
                sc.aws
                    .call(change, &nat, ident(), "s3.amazonaws.com", "PutBucketPolicy");
            call.ua = "console.amazonaws.com";
            call.params =
                json!({"bucketName": "nw-statements", "bucketPolicy": {"Version": "2012-10-17"}});
            call.read_only = false;
            out.push(call);
        }
    }
}
