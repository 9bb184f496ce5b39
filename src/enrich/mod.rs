//! Enrich stage: derive what the raw columns imply, once per distinct value.
//!
//! Adds to the event frame:
//!
//! - `route`, and for HTTP rows `action` (`METHOD route`), `resource_type`
//!   and `resource_id` (see [`route`]);
//! - `credential` for HTTP rows that carried it in the query string
//!   (`?access_token=...`), flagged in `credential_in_query`;
//! - `is_login` (REST login/token routes, `ConsoleLogin`, `GetSessionToken`)
//!   and `is_change` (write methods other than logins; CloudTrail calls that
//!   are not read-only);
//! - `client_family` from the user agent (see [`client`]);
//! - `twin` and `duplicate` for requests logged by both edge and gateway
//!   (see [`twins`]), with the gateway's identity copied to the edge row.
//!
//! Derivations run per distinct dictionary id, so their cost follows the
//! number of distinct paths and user agents, not the number of rows.

pub mod client;
pub mod route;
pub mod twins;

use polars::prelude::*;

use crate::frame::Dictionary;
use crate::frame::codes::{Codes, PerCode, Values, column_of};
use crate::frame::columns::{self as c, enriched as e};

/// The columns enrichment reads, as ids and values.
pub struct Rows<'a> {
    pub ts: &'a [i64],
    pub format: Codes<'a>,
    pub ip: Codes<'a>,
    pub method: Codes<'a>,
    pub path: Codes<'a>,
    pub query: Codes<'a>,
    pub principal: Codes<'a>,
    pub credential: Codes<'a>,
    pub action: Codes<'a>,
    pub user_agent: Codes<'a>,
    pub resource_type: Codes<'a>,
    pub resource_id: Codes<'a>,
    pub status: Values<'a, i32>,
    pub read_only: Vec<Option<bool>>,
}

impl<'a> Rows<'a> {
    /// Views the columns of `df`.
    pub fn of(df: &'a DataFrame) -> PolarsResult<Rows<'a>> {
        Ok(Rows {
            ts: df.column(c::TS)?.datetime()?.physical().cont_slice()?,
            format: Codes::of(df, c::FORMAT)?,
            ip: Codes::of(df, c::IP)?,
            method: Codes::of(df, c::METHOD)?,
            path: Codes::of(df, c::PATH)?,
            query: Codes::of(df, c::QUERY)?,
            principal: Codes::of(df, c::PRINCIPAL)?,
            credential: Codes::of(df, c::CREDENTIAL)?,
            action: Codes::of(df, c::ACTION)?,
            user_agent: Codes::of(df, c::USER_AGENT)?,
            resource_type: Codes::of(df, c::RESOURCE_TYPE)?,
            resource_id: Codes::of(df, c::RESOURCE_ID)?,
            status: Values::of(df.column(c::STATUS)?.i32()?),
            read_only: df.column(c::READ_ONLY)?.bool()?.iter().collect(),
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }
}

/// New or replaced columns, as ids.
struct Derived {
    route: Vec<u32>,
    action: Vec<u32>,
    resource_type: Vec<u32>,
    resource_id: Vec<u32>,
    /// Only copied when a row changes (a key in a query string, a twin).
    credential: Option<Vec<u32>>,
    principal: Option<Vec<u32>>,
    credential_in_query: Vec<bool>,
    is_login: Vec<bool>,
    is_change: Vec<bool>,
    client_family: Vec<u32>,
}

/// Adds the enrichment columns to `frame`.
pub fn enrich(mut frame: DataFrame, dict: &Dictionary) -> PolarsResult<DataFrame> {
    let (derived, twins) = {
        let rows = Rows::of(&frame)?;
        let mut d = derive_columns(&rows, dict);
        let line_format = line_formats(&rows, dict);
        let twins = twins::find(&rows, &line_format);
        copy_identity(&rows, &twins, &mut d);
        (d, twins)
    };
    let n = frame.height();
    let replaced = [
        column_of(c::ACTION, derived.action, dict),
        column_of(c::RESOURCE_TYPE, derived.resource_type, dict),
        column_of(c::RESOURCE_ID, derived.resource_id, dict),
    ];
    let identity = [
        derived
            .credential
            .map(|v| column_of(c::CREDENTIAL, v, dict)),
        derived.principal.map(|v| column_of(c::PRINCIPAL, v, dict)),
    ];
    for col in replaced.into_iter().chain(identity.into_iter().flatten()) {
        let name = col.name().clone();
        frame.replace(name.as_str(), col)?;
    }
    let added = [
        column_of(e::ROUTE, derived.route, dict),
        column_of(e::CLIENT_FAMILY, derived.client_family, dict),
        BooleanChunked::from_slice(e::IS_LOGIN.into(), &derived.is_login).into_column(),
        BooleanChunked::from_slice(e::IS_CHANGE.into(), &derived.is_change).into_column(),
        BooleanChunked::from_slice(e::CREDENTIAL_IN_QUERY.into(), &derived.credential_in_query)
            .into_column(),
        twin_column(twins.twin, n),
        if twins.duplicate.is_empty() {
            BooleanChunked::full(e::DUPLICATE.into(), false, n).into_column()
        } else {
            BooleanChunked::from_slice(e::DUPLICATE.into(), &twins.duplicate).into_column()
        },
    ];
    debug_assert!(added.iter().all(|c| c.len() == n));
    for col in added {
        frame.with_column(col)?;
    }
    Ok(frame)
}

fn twin_column(twin: Vec<Option<u32>>, n: usize) -> Column {
    if twin.is_empty() {
        return Series::full_null(e::TWIN.into(), n, &DataType::UInt32).into_column();
    }
    UInt32Chunked::from_iter_options(e::TWIN.into(), twin.into_iter()).into_column()
}

fn line_formats(rows: &Rows<'_>, dict: &Dictionary) -> Vec<bool> {
    let mut per = PerCode::new(dict);
    (0..rows.len())
        .map(|r| {
            per.get(rows.format.get(r), |code| {
                matches!(dict.text(code), Some("combined" | "common"))
            })
        })
        .collect()
}

fn derive_columns(rows: &Rows<'_>, dict: &Dictionary) -> Derived {
    let n = rows.len();
    let mut d = Derived {
        route: vec![Codes::NULL; n],
        action: rows.action.to_vec(),
        resource_type: rows.resource_type.to_vec(),
        resource_id: rows.resource_id.to_vec(),
        credential: None,
        principal: None,
        credential_in_query: vec![false; n],
        is_login: vec![false; n],
        is_change: vec![false; n],
        client_family: vec![Codes::NULL; n],
    };
    let mut routes: PerCode<(u32, u32, u32)> = PerCode::new(dict);
    let mut query_keys: PerCode<(bool, u32)> = PerCode::new(dict);
    let mut families: PerCode<u32> = PerCode::new(dict);
    let mut actions: PlHashMap<(u32, u32), (u32, bool, bool)> = PlHashMap::new();
    let mut aws_kinds: PerCode<(bool, bool)> = PerCode::new(dict);
    for row in 0..n {
        let ua = rows.user_agent.get(row);
        if ua != Codes::NULL {
            d.client_family[row] = families.get(ua, |u| {
                dict.intern(client::family(dict.text(u).unwrap_or("")).as_str())
            });
        }
        let path = rows.path.get(row);
        if path != Codes::NULL {
            derive_http(
                rows,
                row,
                path,
                dict,
                &mut d,
                &mut routes,
                &mut query_keys,
                &mut actions,
            );
        } else if d.action[row] != Codes::NULL {
            let (login, write) =
                aws_kinds.get(d.action[row], |a| aws_kind(dict.text(a).unwrap_or("")));
            d.is_login[row] = login;
            d.is_change[row] = !login && rows.read_only[row].map_or(write, |ro| !ro);
        }
    }
    d
}

#[allow(clippy::too_many_arguments)]
fn derive_http(
    rows: &Rows<'_>,
    row: usize,
    path: u32,
    dict: &Dictionary,
    d: &mut Derived,
    routes: &mut PerCode<(u32, u32, u32)>,
    query_keys: &mut PerCode<(bool, u32)>,
    actions: &mut PlHashMap<(u32, u32), (u32, bool, bool)>,
) {
    let (route, rtype, rid) = routes.get(path, |p| {
        let info = route::analyse(dict.text(p).unwrap_or(""));
        (
            dict.intern(&info.route),
            dict.intern(&info.resource_type),
            dict.intern(&info.resource_id),
        )
    });
    d.route[row] = route;
    if d.resource_type[row] == Codes::NULL {
        d.resource_type[row] = rtype;
        d.resource_id[row] = rid;
    }
    let query = rows.query.get(row);
    if query != Codes::NULL {
        let (present, key) = query_keys.get(query, |q| {
            match credential_in_query(dict.text(q).unwrap_or("")) {
                Some(k) => (true, dict.intern(k)),
                None => (false, Codes::NULL),
            }
        });
        d.credential_in_query[row] = present;
        let known = d
            .credential
            .as_ref()
            .map_or_else(|| rows.credential.get(row), |v| v[row]);
        if present && known == Codes::NULL {
            d.credential.get_or_insert_with(|| rows.credential.to_vec())[row] = key;
        }
    }
    let method = rows.method.get(row);
    if method == Codes::NULL {
        return;
    }
    let (action, login, change) = *actions.entry((method, route)).or_insert_with(|| {
        let m = dict.text(method).unwrap_or("");
        let r = dict.text(route).unwrap_or("");
        let login = is_login_route(m, r);
        let change =
            !login && matches!(m, "POST" | "PUT" | "PATCH" | "DELETE") && !r.ends_with("/logout");
        (dict.intern(&format!("{m} {r}")), login, change)
    });
    if d.action[row] == Codes::NULL {
        d.action[row] = action;
    }
    d.is_login[row] = login;
    d.is_change[row] = change;
}

/// Query parameters that carry secrets.
const SECRET_PARAMS: &[&str] = &[
    "access_token",
    "api_key",
    "apikey",
    "api-key",
    "token",
    "key",
    "auth",
    "jwt",
    "id_token",
    "session",
    "sessionid",
    "session_id",
    "x-api-key",
    "secret",
    "password",
];

/// The value of the first secret-bearing parameter of a query string.
pub fn credential_in_query(query: &str) -> Option<&str> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        let k = k.to_ascii_lowercase();
        (SECRET_PARAMS.contains(&k.as_str()) && !v.is_empty()).then_some(v)
    })
}

/// Whether `METHOD route` is a login or token request.
pub fn is_login_route(method: &str, route: &str) -> bool {
    if method != "POST" {
        return false;
    }
    let last = route
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(
        last.as_str(),
        "login"
            | "signin"
            | "sign-in"
            | "authenticate"
            | "token"
            | "tokens"
            | "session"
            | "sessions"
            | "auth"
    )
}

/// `(is_login, is_write)` of a CloudTrail event name.
fn aws_kind(action: &str) -> (bool, bool) {
    const LOGINS: &[&str] = &[
        "ConsoleLogin",
        "GetSessionToken",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
    ];
    const WRITES: &[&str] = &[
        "Put",
        "Create",
        "Delete",
        "Update",
        "Attach",
        "Detach",
        "Modify",
        "Set",
        "Add",
        "Remove",
        "Enable",
        "Disable",
        "Stop",
        "Start",
        "Authorize",
        "Revoke",
        "Reset",
        "Change",
        "Tag",
        "Untag",
        "Restore",
        "Import",
        "Upload",
        "Associate",
        "Disassociate",
        "Register",
        "Deregister",
        "Replace",
        "Run",
        "Terminate",
        "Send",
    ];
    let login = LOGINS.contains(&action);
    (
        login,
        !login && WRITES.iter().any(|p| action.starts_with(p)),
    )
}

/// The gateway's identity goes onto the edge row of the same request.
fn copy_identity(rows: &Rows<'_>, twins: &twins::Twins, d: &mut Derived) {
    if twins.twin.is_empty() {
        return;
    }
    let principal = d.principal.get_or_insert_with(|| rows.principal.to_vec());
    let credential = d.credential.get_or_insert_with(|| rows.credential.to_vec());
    for (row, other) in twins.twin.iter().enumerate() {
        let Some(other) = other.map(|o| o as usize) else {
            continue;
        };
        if principal[row] == Codes::NULL {
            principal[row] = principal[other];
        }
        if credential[row] == Codes::NULL {
            credential[row] = credential[other];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_queries() {
        assert_eq!(
            credential_in_query("format=csv&access_token=sess_1"),
            Some("sess_1")
        );
        assert_eq!(credential_in_query("API_KEY=k1"), Some("k1"));
        assert_eq!(credential_in_query("page=2&size=50"), None);
        assert_eq!(credential_in_query("token="), None);
    }

    #[test]
    fn logins_and_writes() {
        assert!(is_login_route("POST", "/api/v1/auth/login"));
        assert!(is_login_route("POST", "/oauth/token"));
        assert!(!is_login_route("GET", "/api/v1/auth/login"));
        assert!(!is_login_route("POST", "/api/v1/admin/api-keys"));
        assert_eq!(aws_kind("ConsoleLogin"), (true, false));
        assert_eq!(aws_kind("CreateAccessKey"), (false, true));
        assert_eq!(aws_kind("GetObject"), (false, false));
    }
}
