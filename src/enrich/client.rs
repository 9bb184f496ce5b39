//! Client family from the user agent: who is on the other end.
//!
//! The families are coarse on purpose: detection asks whether a principal
//! suddenly uses a different *kind* of client (a script where a browser
//! used to be), not a different browser version.

/// A coarse kind of client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Browser,
    MobileApp,
    Sdk,
    Cli,
    Script,
    Scanner,
    Bot,
    AwsInternal,
    Unknown,
}

impl Family {
    /// The value stored in `client_family`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Browser => "browser",
            Family::MobileApp => "mobile-app",
            Family::Sdk => "sdk",
            Family::Cli => "cli",
            Family::Script => "script",
            Family::Scanner => "scanner",
            Family::Bot => "bot",
            Family::AwsInternal => "aws-internal",
            Family::Unknown => "unknown",
        }
    }

    /// Whether people drive this client by hand (a browser or an app).
    pub fn is_interactive(self) -> bool {
        matches!(self, Family::Browser | Family::MobileApp)
    }
}

const SCANNERS: &[&str] = &[
    "nuclei",
    "zgrab",
    "sqlmap",
    "nikto",
    "masscan",
    "nmap",
    "gobuster",
    "ffuf",
    "dirbuster",
    "wpscan",
    "acunetix",
    "burp",
    "nessus",
    "openvas",
    "qualys",
    "wfuzz",
    "feroxbuster",
    "httpx",
    "jaeles",
    "whatweb",
    "censys",
];
const BOTS: &[&str] = &[
    "googlebot",
    "bingbot",
    "slurp",
    "duckduckbot",
    "baiduspider",
    "yandex",
    "ahrefsbot",
    "semrushbot",
    "applebot",
    "facebookexternalhit",
    "facebot",
    "crawler",
    "spider",
    "bot/",
    "bot;",
    "petalbot",
    "amazon cloudfront",
];
const SDKS: &[&str] = &[
    "aws-sdk",
    "boto3",
    "botocore",
    "aws-internal",
    "azure-sdk",
    "google-api",
    "okhttp",
];
const CLIS: &[&str] = &[
    "aws-cli",
    "curl/",
    "wget/",
    "httpie",
    "powershell",
    "insomnia",
    "postmanruntime",
];
const SCRIPTS: &[&str] = &[
    "python-requests",
    "python-urllib",
    "python-httpx",
    "aiohttp",
    "go-http-client",
    "java/",
    "apache-httpclient",
    "node-fetch",
    "axios",
    "got (",
    "libwww-perl",
    "ruby",
    "php/",
    "guzzle",
    "reqwest",
    "scrapy",
];

/// Classifies a user agent.
pub fn family(ua: &str) -> Family {
    let lower = ua.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if lower.is_empty() || lower == "-" {
        Family::Unknown
    } else if has(SCANNERS) {
        Family::Scanner
    } else if has(BOTS) {
        Family::Bot
    } else if lower == "aws internal"
        || lower.ends_with(".amazonaws.com")
        || lower.starts_with("aws internal")
    {
        Family::AwsInternal
    } else if has(CLIS) {
        Family::Cli
    } else if has(SDKS) {
        Family::Sdk
    } else if has(SCRIPTS) {
        Family::Script
    } else if is_app(&lower) {
        Family::MobileApp
    } else if lower.starts_with("mozilla/") || lower.starts_with("opera/") {
        Family::Browser
    } else {
        Family::Unknown
    }
}

/// The family stored as `name` in `client_family`.
pub fn family_named(name: &str) -> Family {
    [
        Family::Browser,
        Family::MobileApp,
        Family::Sdk,
        Family::Cli,
        Family::Script,
        Family::Scanner,
        Family::Bot,
        Family::AwsInternal,
    ]
    .into_iter()
    .find(|f| f.as_str() == name)
    .unwrap_or(Family::Unknown)
}

/// `Name/1.2.3 (iPhone; iOS 17)` or `(Android 14; ...)` without a browser
/// engine: a native app.
fn is_app(lower: &str) -> bool {
    let mobile = lower.contains("iphone") || lower.contains("android") || lower.contains("ipad");
    mobile && !lower.starts_with("mozilla/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/122.0 Safari/537.36",
                Family::Browser,
            ),
            (
                "NorthwindBank/5.2.1 (iPhone; iOS 17.3.1; Scale/3.00)",
                Family::MobileApp,
            ),
            ("python-requests/2.31.0", Family::Script),
            ("curl/8.4.0", Family::Cli),
            (
                "[aws-cli/1.18.136 Python/3.8.5 Darwin/19.5.0 botocore/1.17.59]",
                Family::Cli,
            ),
            ("aws-sdk-java/2.21.0 Linux/5.10", Family::Sdk),
            (
                "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))",
                Family::Scanner,
            ),
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                Family::Bot,
            ),
            ("console.ec2.amazonaws.com", Family::AwsInternal),
            ("AWS Internal", Family::AwsInternal),
            ("-", Family::Unknown),
        ];
        for (ua, want) in cases {
            assert_eq!(family(ua), want, "{ua}");
        }
    }
}
