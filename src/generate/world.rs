//! The simulated organisation: staff, customers, partners, their addresses,
//! clients and credentials, all derived from the seed.
//!
//! Northwind Bank runs a REST API (`api.northwind.example`) behind an nginx
//! edge and an API gateway, with its data in AWS. Staff work from the office
//! NAT (one address shared by all of them) or from home; customers use the
//! mobile app or a browser from home and mobile-carrier addresses, v4 and
//! v6; partners call with API keys from data centres.

use rand::RngExt;
use rand::seq::IndexedRandom;
use rand_pcg::Pcg64Mcg;

/// A member of staff.
#[derive(Clone, Debug)]
pub struct Staff {
    pub name: String,
    pub home_ip: String,
    pub ua: &'static str,
    pub is_admin: bool,
}

/// A customer of the bank (a data subject).
#[derive(Clone, Debug)]
pub struct Customer {
    pub id: u32,
    pub ip: String,
    pub ua: &'static str,
}

impl Customer {
    /// The principal name the gateway logs.
    pub fn principal(&self) -> String {
        format!("cust-{}", self.id)
    }
}

/// A partner organisation calling with API keys.
#[derive(Clone, Debug)]
pub struct Partner {
    pub principal: String,
    pub keys: Vec<String>,
    pub ip: String,
    pub ua: &'static str,
}

/// Everyone and everything in the simulation.
pub struct World {
    pub staff: Vec<Staff>,
    pub customers: Vec<Customer>,
    pub partners: Vec<Partner>,
    /// Office NAT: every member of staff at work appears from here.
    pub office_nat: String,
    /// Mobile-carrier gateways shared by many customers.
    pub carrier_ips: Vec<String>,
    /// A scanner that probes for files and never authenticates.
    pub scanner_ip: String,
    pub crawler_ips: Vec<String>,
}

/// The member of staff the spear-phishing mail reached.
pub const VICTIM: &str = "dana.reyes";
/// An administrator who changes settings as routine.
pub const ADMIN: &str = "omar.haddad";
/// A member of staff who travels and logs in from a hotel.
pub const TRAVELLER: &str = "li.wei";
/// The partner whose identity the attacker takes over with a minted key.
pub const VICTIM_PARTNER: &str = "partner:acme-payroll";

const FIRST: &[&str] = &[
    "alex", "maria", "james", "sofia", "noah", "emma", "liam", "olivia", "lucas", "mia", "ethan",
    "ava", "mateo", "chloe", "ravi", "priya", "kenji", "yuki", "fatima", "omar", "lena", "jonas",
    "ines", "pablo", "nora", "ali", "sara", "david", "hana", "ivan",
];
const LAST: &[&str] = &[
    "smith", "garcia", "muller", "rossi", "kim", "tanaka", "nguyen", "okafor", "silva", "cohen",
    "novak", "berg", "costa", "ahmed", "petrov", "lopez", "meyer", "khan", "dubois", "jensen",
];

/// Browsers staff and customers use.
pub const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
     Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) \
     Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
];

/// The bank's mobile apps.
pub const APPS: &[&str] = &[
    "NorthwindBank/5.2.1 (iPhone; iOS 17.3.1; Scale/3.00)",
    "NorthwindBank/5.2.0 (Android 14; Pixel 8)",
    "NorthwindBank/5.1.9 (Android 13; SM-S911B)",
];

const PARTNER_NAMES: &[&str] = &[
    "acme-payroll",
    "globex-ledger",
    "initech-tax",
    "umbrella-insure",
    "stark-invest",
    "wayne-lending",
    "tyrell-credit",
    "cyberdyne-pay",
    "soylent-benefits",
    "hooli-fintech",
];

impl World {
    /// Builds the world for `seed` with `customers` customers.
    pub fn new(seed: u64, customers: usize) -> World {
        let mut rng = super::rng(seed, "world");
        let staff = make_staff(&mut rng);
        let carrier_ips: Vec<String> = (0..24)
            .map(|i| format!("172.58.{}.{}", i * 7 % 250, 1 + i))
            .collect();
        let customers = (0..customers as u32)
            .map(|i| make_customer(&mut rng, 100_000 + i, &carrier_ips))
            .collect();
        let partners = PARTNER_NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| Partner {
                principal: format!("partner:{name}"),
                keys: (0..1 + i % 2)
                    .map(|_| format!("ak_live_{}", hex(&mut rng, 16)))
                    .collect(),
                ip: format!(
                    "52.{}.{}.{}",
                    20 + i,
                    rng.random_range(0..250),
                    rng.random_range(1..250)
                ),
                ua: if i % 2 == 0 {
                    "python-requests/2.31.0"
                } else {
                    "partner-sync/3.4 (+https://partners.example)"
                },
            })
            .collect();
        World {
            staff,
            customers,
            partners,
            office_nat: "192.0.2.10".into(),
            carrier_ips,
            scanner_ip: "192.0.2.200".into(),
            crawler_ips: vec![
                "66.249.66.1".into(),
                "66.249.66.54".into(),
                "40.77.167.20".into(),
            ],
        }
    }

    /// The member of staff named `name`.
    pub fn staff_named(&self, name: &str) -> Option<&Staff> {
        self.staff.iter().find(|s| s.name == name)
    }

    /// The partner with principal `principal`.
    pub fn partner(&self, principal: &str) -> Option<&Partner> {
        self.partners.iter().find(|p| p.principal == principal)
    }
}

fn make_staff(rng: &mut Pcg64Mcg) -> Vec<Staff> {
    let mut names: Vec<String> = vec![VICTIM.into(), ADMIN.into(), TRAVELLER.into()];
    for f in FIRST {
        for l in LAST.iter().take(4) {
            names.push(format!("{f}.{l}"));
        }
    }
    names.sort();
    names.dedup();
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| Staff {
            is_admin: name == ADMIN || i % 29 == 0,
            home_ip: residential_ip(rng, i),
            ua: BROWSERS.choose(rng).copied().unwrap_or(BROWSERS[0]),
            name,
        })
        .collect()
}

fn make_customer(rng: &mut Pcg64Mcg, id: u32, carriers: &[String]) -> Customer {
    let mobile = rng.random_bool(0.55);
    let ip = if mobile && rng.random_bool(0.6) {
        carriers.choose(rng).cloned().unwrap_or_default()
    } else {
        residential_ip(rng, id as usize)
    };
    let ua = if mobile {
        APPS.choose(rng)
    } else {
        BROWSERS.choose(rng)
    };
    Customer {
        id,
        ip,
        ua: ua.copied().unwrap_or(APPS[0]),
    }
}

/// A home address: about a third IPv6.
fn residential_ip(rng: &mut Pcg64Mcg, i: usize) -> String {
    if rng.random_bool(0.3) {
        format!(
            "2a02:{:x}:{:x}::{:x}",
            0x8100 + i % 200,
            rng.random_range(1..0xffff_u32),
            rng.random_range(1..0xffff_u32)
        )
    } else {
        format!(
            "{}.{}.{}.{}",
            [81, 86, 91, 109, 151, 176, 188][i % 7],
            rng.random_range(0..256),
            rng.random_range(0..256),
            rng.random_range(1..255)
        )
    }
}

/// `n` random lowercase hex digits.
pub fn hex(rng: &mut Pcg64Mcg, n: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdef";
    (0..n)
        .map(|_| DIGITS[rng.random_range(0..16)] as char)
        .collect()
}

/// `n` random uppercase letters and digits, as in AWS key ids.
pub fn upper(rng: &mut Pcg64Mcg, n: usize) -> String {
    const DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    (0..n)
        .map(|_| DIGITS[rng.random_range(0..DIGITS.len())] as char)
        .collect()
}
