-- What the attacker read: successful reads by identity and resource.
SELECT principal, resource_type, resource_id, count(*) AS count, coalesce(sum(bytes), 0) AS bytes,
       min(ts) AS first, max(ts) AS last
FROM events
WHERE malicious AND NOT duplicate AND outcome = 'success' AND resource_type IS NOT NULL
  AND NOT is_change AND NOT is_login
  AND (method IN ('GET', 'HEAD') OR (method IS NULL AND read_only))
GROUP BY principal, resource_type, resource_id
ORDER BY principal, resource_type, resource_id
