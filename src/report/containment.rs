//! `containment.md`: what to do now. Credentials to revoke, addresses to
//! block, accounts to reset, persistence to remove, each with the evidence
//! that puts it on the list.

use std::io::Write;

use super::escape::for_markdown;
use crate::scope::findings::{Evidence, Findings};

fn cites(e: &[Evidence]) -> String {
    e.iter()
        .map(|c| format!("`{}:{}`", for_markdown(&c.source), c.line))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes the containment checklist.
pub fn write(out: &mut dyn Write, f: &Findings<'_>) -> std::io::Result<()> {
    writeln!(out, "# Containment\n")?;
    writeln!(
        out,
        "Act on these now; every item cites the log lines that put it here.\n"
    )?;
    writeln!(
        out,
        "## Credentials to revoke ({})\n",
        f.compromised_credentials.len()
    )?;
    if !f.compromised_credentials.is_empty() {
        writeln!(
            out,
            "| | credential | owner | first misuse | last misuse | attacker events | evidence |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|---|")?;
        for c in &f.compromised_credentials {
            writeln!(
                out,
                "| [ ] | `{}` | {} | {} | {} | {} | {} |",
                for_markdown(&c.credential),
                for_markdown(c.principal.as_deref().unwrap_or("unknown")),
                c.first_misuse.as_deref().unwrap_or("never used"),
                c.last_misuse.as_deref().unwrap_or("-"),
                c.events,
                cites(&c.evidence)
            )?;
        }
    }
    writeln!(out, "\n## Addresses to block ({})\n", f.attacker_ips.len())?;
    if !f.attacker_ips.is_empty() {
        writeln!(out, "| | address | first | last | events | evidence |")?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for a in &f.attacker_ips {
            writeln!(
                out,
                "| [ ] | `{}` | {} | {} | {} | {} |",
                for_markdown(&a.ip),
                a.first,
                a.last,
                a.events,
                cites(&a.evidence)
            )?;
        }
    }
    writeln!(
        out,
        "\n## Accounts to reset ({})\n",
        f.compromised_principals.len()
    )?;
    writeln!(
        out,
        "Reset the password, end every session, re-enrol MFA, review what the account can do.\n"
    )?;
    if !f.compromised_principals.is_empty() {
        writeln!(
            out,
            "| | account | attacker active from | until | attacker events | evidence |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for p in &f.compromised_principals {
            writeln!(
                out,
                "| [ ] | {} | {} | {} | {} | {} |",
                for_markdown(&p.principal),
                p.first,
                p.last,
                p.events,
                cites(&p.evidence)
            )?;
        }
    }
    let persistence: Vec<_> = f
        .lateral_movement
        .iter()
        .filter(|m| m.kind == "minted key" || m.kind == "new credential")
        .collect();
    writeln!(
        out,
        "\n## Persistence to remove ({})\n",
        persistence.len() + f.unauthorized_changes.len()
    )?;
    for m in persistence {
        writeln!(
            out,
            "- [ ] delete `{}`, created by {} at {} ({})",
            for_markdown(&m.to),
            for_markdown(&m.from),
            m.time,
            cites(&m.evidence)
        )?;
    }
    for c in &f.unauthorized_changes {
        writeln!(
            out,
            "- [ ] undo `{}` on {} by {} at {} ({})",
            for_markdown(&c.action),
            for_markdown(c.target.as_deref().unwrap_or("-")),
            for_markdown(c.principal.as_deref().unwrap_or("unknown")),
            c.time,
            cites(&c.evidence)
        )?;
    }
    if !f.shared_addresses.is_empty() {
        writeln!(out, "\n## Not blocked: shared addresses\n")?;
        for s in &f.shared_addresses {
            writeln!(
                out,
                "- `{}` is used by {}+ accounts (NAT, proxy or carrier); \
                 blocking it would lock them out",
                for_markdown(&s.ip),
                s.principals
            )?;
        }
    }
    Ok(())
}
