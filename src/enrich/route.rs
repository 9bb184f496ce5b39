//! Routes and resources from request paths.
//!
//! `/api/v1/customers/100512/documents` is the route
//! `/api/v1/customers/{id}/documents` acting on resource type
//! `customer.documents`, id `100512`. A path segment is an id when it holds a
//! digit (but is not an API version like `v2`), is a UUID, an e-mail, a long
//! token, or a dotted name that is not a file (`dana.reyes`, not `app.js`).
//! Templating is done once per distinct path, not per request.

/// Placeholder written in place of an id.
pub const ID: &str = "{id}";

/// What a path tells about the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteInfo {
    pub route: String,
    pub resource_type: String,
    pub resource_id: String,
}

/// Templates `path` and names the resource it acts on. Paths without an id
/// act on the route itself (type `route`, id the route).
pub fn analyse(path: &str) -> RouteInfo {
    let parts = analyse_parts(path);
    let resource_id = match parts.id {
        Some(span) => path[span].to_string(),
        None => parts.route.clone(),
    };
    RouteInfo {
        route: parts.route,
        resource_type: parts.resource_type,
        resource_id,
    }
}

/// [`RouteInfo`] with the resource id left in the path: where it lies, or
/// `None` when the path acts on its route. Enrichment interns the id
/// straight from the path's text, and a route's id is the route's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteParts {
    pub route: String,
    pub resource_type: String,
    pub id: Option<std::ops::Range<usize>>,
}

/// See [`analyse`].
pub fn analyse_parts(path: &str) -> RouteParts {
    // Each segment is judged once: the route, the collection before the
    // last id and the names after it all read the same judgement.
    let segments: Vec<(&str, bool)> = path.split('/').map(|s| (s, is_id(s))).collect();
    let mut route = String::with_capacity(path.len() + ID.len());
    let mut last_id = None;
    for (i, &(seg, id)) in segments.iter().enumerate() {
        if i > 0 {
            route.push('/');
        }
        route.push_str(if id { ID } else { seg });
        if id {
            last_id = Some(i);
        }
    }
    let Some(i) = last_id else {
        return RouteParts {
            route,
            resource_type: "route".into(),
            id: None,
        };
    };
    let named = |&&(seg, id): &&(&str, bool)| !seg.is_empty() && !id;
    let collection = segments[..i]
        .iter()
        .rev()
        .find(named)
        .map_or("resource", |&(seg, _)| seg);
    let mut ty = singular(collection);
    for &(rest, _) in segments[i + 1..].iter().filter(named) {
        ty.push('.');
        ty.push_str(rest);
    }
    // Each segment before the id is followed by one `/`.
    let start: usize = segments[..i].iter().map(|(seg, _)| seg.len() + 1).sum();
    RouteParts {
        route,
        resource_type: ty,
        id: Some(start..start + segments[i].0.len()),
    }
}

/// Whether a path segment is an identifier rather than a fixed word.
pub fn is_id(seg: &str) -> bool {
    if seg.is_empty() || seg == ID {
        return seg == ID;
    }
    if is_version(seg) {
        return false;
    }
    // One pass over the bytes answers every question asked of them below;
    // every segment of every distinct path comes here.
    let (mut digit, mut at, mut dot, mut word) = (false, false, false, true);
    for &b in seg.as_bytes() {
        digit |= b.is_ascii_digit();
        at |= b == b'@';
        dot |= b == b'.';
        word &= b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    }
    if digit || at || is_uuid(seg) {
        return true;
    }
    if seg.len() >= 24 && word {
        return true;
    }
    dot && !is_file(seg)
}

fn is_version(seg: &str) -> bool {
    let rest = seg.strip_prefix('v').or_else(|| seg.strip_prefix('V'));
    rest.is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

/// `8-4-4-4-12` hexadecimal digits; checked in place, since every segment
/// of every distinct path that is not already an id comes here.
fn is_uuid(seg: &str) -> bool {
    const DASHES: [usize; 4] = [8, 13, 18, 23];
    seg.len() == 36
        && seg.bytes().enumerate().all(|(i, b)| {
            if DASHES.contains(&i) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

fn is_file(seg: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        "js",
        "css",
        "map",
        "html",
        "htm",
        "php",
        "asp",
        "aspx",
        "jsp",
        "txt",
        "xml",
        "json",
        "ico",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "svg",
        "webp",
        "woff",
        "woff2",
        "ttf",
        "pdf",
        "csv",
        "zip",
        "gz",
        "env",
        "yml",
        "yaml",
        "ini",
        "bak",
        "sql",
        "log",
        "cgi",
        "pl",
        "py",
        "rb",
        "sh",
        "git",
        "config",
        "properties",
        "well-known",
    ];
    let ext = seg.rsplit('.').next().unwrap_or_default();
    seg.starts_with('.') || EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext))
}

/// `customers` → `customer`, `policies` → `policy`, `addresses` → `address`.
fn singular(word: &str) -> String {
    let w = word.to_ascii_lowercase();
    if let Some(stem) = w.strip_suffix("ies") {
        format!("{stem}y")
    } else if w.ends_with("sses") || w.ends_with("xes") {
        w[..w.len() - 2].to_string()
    } else if let Some(stem) = w.strip_suffix('s').filter(|_| !w.ends_with("ss")) {
        stem.to_string()
    } else {
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_found_in_place_and_a_route_has_none() {
        let path = "//customers//100512//notes/";
        let span = analyse_parts(path).id.expect("an id");
        assert_eq!((span.clone(), &path[span]), (13..19, "100512"));
        assert_eq!(analyse_parts("/api/v2/me").id, None);
    }

    fn info(route: &str, ty: &str, id: &str) -> RouteInfo {
        RouteInfo {
            route: route.into(),
            resource_type: ty.into(),
            resource_id: id.into(),
        }
    }

    #[test]
    fn ids_become_placeholders() {
        assert_eq!(
            analyse("/api/v1/customers/100512"),
            info("/api/v1/customers/{id}", "customer", "100512")
        );
        assert_eq!(
            analyse("/api/v1/customers/100512/documents"),
            info(
                "/api/v1/customers/{id}/documents",
                "customer.documents",
                "100512"
            )
        );
        assert_eq!(
            analyse("/api/v1/admin/users/dana.reyes/mfa"),
            info("/api/v1/admin/users/{id}/mfa", "user.mfa", "dana.reyes")
        );
        assert_eq!(
            analyse("/orders/3f2504e0-4f89-11d3-9a0c-0305e82c3301/items/7"),
            info("/orders/{id}/items/{id}", "item", "7")
        );
        assert_eq!(
            analyse("/users/a@b.example"),
            info("/users/{id}", "user", "a@b.example")
        );
        assert_eq!(
            analyse("/policies/9"),
            info("/policies/{id}", "policy", "9")
        );
    }

    #[test]
    fn segments_judged_one_by_one() {
        let ids = [
            "{id}",
            "a1",
            "x@y.example",
            "dana.reyes",
            "abcdefghijklmnopqrstuvwx",
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        ];
        let words = [
            "",
            "v2",
            "V1.2",
            "accounts",
            "abcdefghijklmnopqrstuvw",
            "app.JS",
            "Report.PDF",
            ".env",
            "robots.txt",
        ];
        for seg in ids {
            assert!(is_id(seg), "{seg} is an id");
        }
        for seg in words {
            assert!(!is_id(seg), "{seg} is a word");
        }
        assert_eq!(analyse("/static/APP.JS").route, "/static/APP.JS");
        assert_eq!(
            analyse("//customers//100512//notes/"),
            info("//customers//{id}//notes/", "customer.notes", "100512")
        );
    }

    #[test]
    fn uuids_need_every_group_in_place() {
        assert!(is_uuid("3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
        assert!(is_uuid("3F2504E0-4F89-11D3-9A0C-0305E82C3301"));
        assert!(!is_uuid("3f2504e04-f89-11d3-9a0c-0305e82c3301"));
        assert!(!is_uuid("3f2504e0-4f89-11d3-9a0c-0305e82c330g"));
        assert!(!is_uuid("3f2504e0-4f89-11d3-9a0c-0305e82c33011"));
        assert!(!is_uuid("3f2504e0-4f89-11d3-9a0c"));
    }

    #[test]
    fn fixed_words_versions_and_files_stay() {
        assert_eq!(
            analyse("/api/v1/admin/config"),
            info("/api/v1/admin/config", "route", "/api/v1/admin/config")
        );
        assert_eq!(analyse("/static/app.js").route, "/static/app.js");
        assert_eq!(analyse("/.env").route, "/.env");
        assert_eq!(analyse("/api/v2/me").route, "/api/v2/me");
        assert_eq!(analyse("/").route, "/");
    }
}
