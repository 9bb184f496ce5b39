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
use rayon::prelude::*;

use crate::frame::Dictionary;
use crate::frame::codes::{Bools, ById, Codes, Values, bool_column, column_of};
use crate::frame::columns::{self as c, enriched as e};
use crate::timing::Phase;

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
    pub read_only: Bools<'a>,
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
            status: Values::column::<Int32Type>(df, c::STATUS)?,
            read_only: Bools::column(df, c::READ_ONLY)?,
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

/// New or replaced columns, as ids (the route and client family already
/// as columns, written straight from their per-id values).
struct Derived {
    route: Column,
    action: Vec<u32>,
    resource_type: Column,
    resource_id: Column,
    /// Only copied when a row changes (a key in a query string, a twin).
    credential: Option<Vec<u32>>,
    principal: Option<Vec<u32>>,
    credential_in_query: Vec<bool>,
    is_login: Vec<bool>,
    is_change: Vec<bool>,
    client_family: Column,
}

/// Adds the enrichment columns to `frame`.
pub fn enrich(mut frame: DataFrame, dict: &Dictionary) -> PolarsResult<DataFrame> {
    let (derived, twins) = {
        let rows = Rows::of(&frame)?;
        let mut d = derive_columns(&rows, dict);
        let _phase = Phase::start("enrich: twins");
        let line_format = line_formats(&rows, dict);
        let twins = twins::find(&rows, &line_format);
        copy_identity(&rows, &twins, &mut d);
        (d, twins)
    };
    let _phase = Phase::start("enrich: columns into the frame");
    let n = frame.height();
    let replaced = [
        column_of(c::ACTION, derived.action, dict),
        derived.resource_type,
        derived.resource_id,
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
        derived.route,
        derived.client_family,
        bool_column(e::IS_LOGIN, &derived.is_login).into_column(),
        bool_column(e::IS_CHANGE, &derived.is_change).into_column(),
        bool_column(e::CREDENTIAL_IN_QUERY, &derived.credential_in_query).into_column(),
        twin_column(twins.twin, n),
        if twins.duplicate.is_empty() {
            Column::new_scalar(e::DUPLICATE.into(), Scalar::from(false), n)
        } else {
            bool_column(e::DUPLICATE, &twins.duplicate).into_column()
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
        return Column::full_null(e::TWIN.into(), n, &DataType::UInt32);
    }
    UInt32Chunked::from_iter_options(e::TWIN.into(), twin.into_iter()).into_column()
}

fn line_formats(rows: &Rows<'_>, dict: &Dictionary) -> Vec<bool> {
    let is_line = ById::derive(&rows.format, dict.len(), false, |code| {
        matches!(dict.text(code), Some("combined" | "common"))
    });
    (0..rows.len())
        .into_par_iter()
        .map(|r| is_line.get(rows.format.get(r)))
        .collect()
}

/// What is derived once per distinct value, before the pass over rows.
struct Lookups {
    /// Per path: route, resource type and resource id.
    routes: ById<(u32, u32, ResourceId)>,
    /// Per user agent: client family.
    families: ById<u32>,
    /// Per query string: whether it carries a secret, and the secret.
    query_keys: ById<(bool, u32)>,
    /// Per CloudTrail event name: `(is_login, is_write)`.
    aws_kinds: ById<(bool, bool)>,
}

/// A path's resource id as the parallel pass over distinct paths leaves it:
/// known (a path without an id acts on its route, whose id is known), or
/// where it lies in the path, for [`resource_ids`] to intern.
#[derive(Clone, Copy)]
enum ResourceId {
    Known(u32),
    InPath { start: u32, len: u32 },
}

impl ResourceId {
    /// The id at `span` of its path, or `None` past what 32 bits can say
    /// (such an id is interned at once).
    fn in_path(span: &std::ops::Range<usize>) -> Option<ResourceId> {
        Some(ResourceId::InPath {
            start: u32::try_from(span.start).ok()?,
            len: u32::try_from(span.len()).ok()?,
        })
    }
}

impl Lookups {
    fn derive(rows: &Rows<'_>, dict: &Dictionary) -> Lookups {
        // Ids of the columns as built; values interned below come after.
        let ids = dict.len();
        let null = Codes::NULL;
        let text = |code| dict.text(code).unwrap_or("");
        Lookups {
            // Hundreds of thousands of paths share a few hundred routes and
            // resource types: each thread remembers the ids of those it
            // interned. The resource ids, new with nearly every path, are
            // left for one thread to intern (see `resource_ids`).
            routes: ById::derive_with(
                &rows.path,
                ids,
                (null, null, ResourceId::Known(null)),
                Names::default,
                |names, p| {
                    let path = text(p);
                    let parts = route::analyse_parts(path);
                    let route = names.id(&parts.route, dict);
                    let id = match parts.id {
                        None => ResourceId::Known(route),
                        Some(span) => ResourceId::in_path(&span)
                            .unwrap_or_else(|| ResourceId::Known(dict.intern(&path[span]))),
                    };
                    (route, names.id(&parts.resource_type, dict), id)
                },
            ),
            families: ById::derive(&rows.user_agent, ids, null, |u| {
                dict.intern(client::family(text(u)).as_str())
            }),
            query_keys: ById::derive(
                &rows.query,
                ids,
                (false, null),
                |q| match credential_in_query(text(q)) {
                    Some(k) => (true, dict.intern(k)),
                    None => (false, null),
                },
            ),
            aws_kinds: ById::derive(&rows.action, ids, (false, false), |a| aws_kind(text(a))),
        }
    }
}

/// The shared id of each path's resource id, interned on the calling
/// thread. Polars' shared dictionary takes about 236 ns to insert a new
/// value from one thread and about 450 ns each when two insert at once, so
/// one thread inserts them while the other does the per-row work, which
/// needs only routes.
fn resource_ids(routes: &ById<(u32, u32, ResourceId)>, dict: &Dictionary) -> ById<u32> {
    routes.map(Codes::NULL, |path, (_, _, id)| match id {
        ResourceId::Known(id) => id,
        ResourceId::InPath { start, len } => {
            let (start, end) = (start as usize, start as usize + len as usize);
            match dict.text(path).and_then(|p| p.get(start..end)) {
                Some(id) => dict.intern(id),
                None => Codes::NULL,
            }
        }
    })
}

/// Dictionary ids of the names (routes, resource types) one thread has
/// derived: asking the shared dictionary costs far more than this table.
#[derive(Default)]
struct Names(PlHashMap<String, u32>);

impl Names {
    fn id(&mut self, name: &str, dict: &Dictionary) -> u32 {
        if let Some(&id) = self.0.get(name) {
            return id;
        }
        let id = dict.intern(name);
        self.0.insert(name.to_string(), id);
        id
    }
}

/// How many rows ahead the pass over rows asks for the route of the path:
/// see [`crate::frame::codes::prefetch`].
const AHEAD: usize = 16;

/// `(action, is_login, is_change)` of each `METHOD route` pair met by one
/// thread: a few hundred pairs cover a whole API.
type PairCache = PlHashMap<(u32, u32), (u32, bool, bool)>;

fn derive_columns(rows: &Rows<'_>, dict: &Dictionary) -> Derived {
    let look = {
        let _phase = Phase::start("enrich: per distinct path, agent, query, event");
        Lookups::derive(rows, dict)
    };
    let _phase = Phase::start("enrich: per row, resource ids");
    let ((resource_type, resource_id), per_row) = rayon::join(
        || resources(rows, &look, &resource_ids(&look.routes, dict), dict),
        || per_row(rows, &look, dict),
    );
    Derived {
        route: per_row.route,
        action: per_row.action,
        resource_type,
        resource_id,
        credential: per_row.credential,
        principal: None,
        credential_in_query: per_row.credential_in_query,
        is_login: per_row.is_login,
        is_change: per_row.is_change,
        client_family: per_row.client_family,
    }
}

/// The derived columns that follow from the route and the other lookups,
/// not from the resource ids.
struct PerRow {
    route: Column,
    action: Vec<u32>,
    is_login: Vec<bool>,
    is_change: Vec<bool>,
    credential_in_query: Vec<bool>,
    client_family: Column,
    credential: Option<Vec<u32>>,
}

fn per_row(rows: &Rows<'_>, look: &Lookups, dict: &Dictionary) -> PerRow {
    let n = rows.len();
    let route = look
        .routes
        .column(e::ROUTE, &rows.path, |(route, _, _)| route, dict);
    let (action, (is_login, is_change)): (Vec<u32>, (Vec<bool>, Vec<bool>)) = (0..n)
        .into_par_iter()
        .map_init(PairCache::default, |pairs, r| {
            if r + AHEAD < n {
                look.routes.prefetch(rows.path.get(r + AHEAD));
            }
            action_of(rows, r, look, pairs, dict)
        })
        .map(|(a, l, c)| (a, (l, c)))
        .unzip();
    let credential_in_query: Vec<bool> = (0..n)
        .into_par_iter()
        .map(|r| rows.path.get(r) != Codes::NULL && look.query_keys.get(rows.query.get(r)).0)
        .collect();
    let client_family =
        look.families
            .column(e::CLIENT_FAMILY, &rows.user_agent, |family| family, dict);
    let credential = credentials_from_queries(rows, &credential_in_query, look);
    PerRow {
        route,
        action,
        is_login,
        is_change,
        credential_in_query,
        client_family,
        credential,
    }
}

/// The `resource_type` and `resource_id` columns: those the log gave (as
/// CloudTrail does), else those of the row's path.
fn resources(
    rows: &Rows<'_>,
    look: &Lookups,
    ids: &ById<u32>,
    dict: &Dictionary,
) -> (Column, Column) {
    // Logs of HTTP requests alone name no resource: both columns then follow
    // from the path, and are written at their final width straight from the
    // per-path values, like the route, without a pass over 4-byte ids.
    if rows.resource_type.is_all_null() && rows.resource_id.is_all_null() {
        return (
            look.routes
                .column(c::RESOURCE_TYPE, &rows.path, |(_, ty, _)| ty, dict),
            ids.column(c::RESOURCE_ID, &rows.path, |id| id, dict),
        );
    }
    let (ty, id): (Vec<u32>, Vec<u32>) = (0..rows.len())
        .into_par_iter()
        .map(|r| {
            let (ty, id) = (rows.resource_type.get(r), rows.resource_id.get(r));
            let path = rows.path.get(r);
            if ty != Codes::NULL || path == Codes::NULL {
                return (ty, id);
            }
            (look.routes.get(path).1, ids.get(path))
        })
        .unzip();
    (
        column_of(c::RESOURCE_TYPE, ty, dict),
        column_of(c::RESOURCE_ID, id, dict),
    )
}

/// `(action, is_login, is_change)` of row `r`: for HTTP rows from the
/// method and route (an action the log gave is kept), for CloudTrail rows
/// from the event name and its read-only flag.
fn action_of(
    rows: &Rows<'_>,
    r: usize,
    look: &Lookups,
    pairs: &mut PairCache,
    dict: &Dictionary,
) -> (u32, bool, bool) {
    let given = rows.action.get(r);
    if rows.path.get(r) == Codes::NULL {
        if given == Codes::NULL {
            return (given, false, false);
        }
        let (login, write) = look.aws_kinds.get(given);
        let change = !login && rows.read_only.get(r).map_or(write, |ro| !ro);
        return (given, login, change);
    }
    let method = rows.method.get(r);
    if method == Codes::NULL {
        return (given, false, false);
    }
    let route = look.routes.get(rows.path.get(r)).0;
    let (action, login, change) = *pairs
        .entry((method, route))
        .or_insert_with(|| http_action(method, route, dict));
    let action = if given == Codes::NULL { action } else { given };
    (action, login, change)
}

fn http_action(method: u32, route: u32, dict: &Dictionary) -> (u32, bool, bool) {
    let m = dict.text(method).unwrap_or("");
    let r = dict.text(route).unwrap_or("");
    let login = is_login_route(m, r);
    let change =
        !login && matches!(m, "POST" | "PUT" | "PATCH" | "DELETE") && !r.ends_with("/logout");
    (dict.intern(&format!("{m} {r}")), login, change)
}

/// The credential column with keys found in query strings filled in where
/// the log named none; `None` when no row changes.
fn credentials_from_queries(
    rows: &Rows<'_>,
    in_query: &[bool],
    look: &Lookups,
) -> Option<Vec<u32>> {
    let mut credential: Option<Vec<u32>> = None;
    for r in (0..rows.len()).filter(|&r| in_query[r]) {
        let known = credential
            .as_ref()
            .map_or_else(|| rows.credential.get(r), |v| v[r]);
        if known == Codes::NULL {
            let key = look.query_keys.get(rows.query.get(r)).1;
            credential.get_or_insert_with(|| rows.credential.to_vec())[r] = key;
        }
    }
    credential
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
