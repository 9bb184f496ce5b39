-- What the attacker changed: successful state-changing events.
SELECT principal, action, resource_id AS target, min(ts) AS time, count(*) AS count
FROM events
WHERE malicious AND NOT duplicate AND outcome = 'success' AND is_change
GROUP BY principal, action, resource_id
ORDER BY time, principal, action
