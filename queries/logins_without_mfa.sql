-- Successful logins that the logs record as made without a second factor.
SELECT principal, count(*) AS logins, min(ts) AS first, max(ts) AS last,
       sum(CASE WHEN malicious THEN 1 ELSE 0 END) AS by_attacker
FROM events
WHERE is_login AND outcome = 'success' AND mfa = false AND NOT duplicate
GROUP BY principal
ORDER BY by_attacker DESC, logins DESC, principal
