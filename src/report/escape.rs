//! Neutralising attacker-controlled text for each kind of output.
//!
//! User agents, paths, user names and query strings are written by the
//! attacker. In a terminal they could carry escape sequences that rewrite
//! the screen; in a spreadsheet a cell starting with `=` runs a formula; in
//! HTML a `<script>` runs. Every writer passes such text through the function
//! for its medium. JSON needs nothing extra: serde escapes control
//! characters.

use std::borrow::Cow;

/// Text safe to print on a terminal: control characters (including ESC and
/// C1 controls) become visible `\u{..}` escapes.
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_dangerous_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_dangerous_control(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_dangerous_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A CSV cell that spreadsheets will not evaluate: a leading `=`, `+`, `-`,
/// `@`, tab or carriage return gets a `'` in front, and control characters
/// are escaped as for the terminal.
pub fn for_csv(s: &str) -> Cow<'_, str> {
    let cleaned = for_terminal(s);
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cleaned}")),
        _ => cleaned,
    }
}

/// Text for HTML element content and quoted attribute values.
pub fn for_html(s: &str) -> Cow<'_, str> {
    if !s.contains(['<', '>', '&', '"', '\'']) && !s.chars().any(is_dangerous_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in for_terminal(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Text for a Markdown table cell: pipes and backticks escaped, line
/// breaks removed, controls made visible.
pub fn for_markdown(s: &str) -> String {
    for_html(s)
        .replace('|', "\\|")
        .replace('`', "\\`")
        .replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_are_made_visible() {
        assert_eq!(for_terminal("ok"), "ok");
        assert_eq!(for_terminal("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(for_terminal("x\u{202e}y"), "x\\u{202e}y");
    }

    #[test]
    fn csv_formulas_are_neutralised() {
        assert_eq!(for_csv("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(for_csv("+1"), "'+1");
        assert_eq!(for_csv("-2+3"), "'-2+3");
        assert_eq!(for_csv("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(for_csv("\tx"), "'\\u{9}x");
        assert_eq!(for_csv("plain"), "plain");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            for_html("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(for_html("a & \"b\""), "a &amp; &quot;b&quot;");
        assert_eq!(for_markdown("a|b`c"), "a\\|b\\`c");
    }
}
