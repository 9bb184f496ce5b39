-- Attacker addresses: every event from an address in scope, after it turned.
SELECT ip, min(ts) AS first, max(ts) AS last, count(*) AS events
FROM events
WHERE malicious AND attacker_ip AND NOT duplicate
GROUP BY ip
ORDER BY ip
