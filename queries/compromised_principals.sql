-- Accounts the attacker acted as: successful attacker events per principal.
SELECT principal, min(ts) AS first, max(ts) AS last, count(*) AS events
FROM events
WHERE malicious AND NOT duplicate AND outcome = 'success' AND principal IS NOT NULL
GROUP BY principal
ORDER BY principal
