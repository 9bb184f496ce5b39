-- Users whose credentials worked from the attacker addresses, with the first
-- and last time.
SELECT principal, credential, min(ts) AS first, max(ts) AS last, count(*) AS events
FROM events
WHERE attacker_ip AND outcome = 'success' AND principal IS NOT NULL AND NOT duplicate
GROUP BY principal, credential
ORDER BY principal, credential
