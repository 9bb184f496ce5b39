-- Whose records were read: ids of person-like resources (customers, users,
-- members, patients...) and the storage objects the attacker downloaded.
SELECT resource_id AS id, split_part(resource_type, '.', 1) AS resource_type,
       count(*) AS accesses, coalesce(sum(bytes), 0) AS bytes, min(ts) AS first, max(ts) AS last
FROM events
WHERE malicious AND NOT duplicate AND outcome = 'success' AND resource_id IS NOT NULL
  AND NOT is_change AND NOT is_login
  AND (method IN ('GET', 'HEAD') OR (method IS NULL AND read_only))
  AND (split_part(resource_type, '.', 1) IN
         ('customer', 'user', 'member', 'patient', 'client', 'employee', 'person', 'people', 'contact',
          'student', 'applicant', 'subscriber', 'profile')
       OR resource_type = 's3-object')
GROUP BY resource_id, split_part(resource_type, '.', 1)
ORDER BY resource_type, id
