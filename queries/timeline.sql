-- Every attacker event in order, with the other log line of the same
-- request when there is one.
SELECT ts, source, line, twin_source, twin_line, format, ip, principal, credential, service,
       method, path, query, status, outcome, bytes, action, resource_type, resource_id,
       minted_credential, user_agent, client_family
FROM events
WHERE malicious AND NOT duplicate
ORDER BY ts, source, line
