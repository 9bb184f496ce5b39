-- One account's paths in a UTC window. Edit the account and the window.
SELECT path, count(*) AS requests, min(ts) AS first, max(ts) AS last
FROM events
WHERE principal = 'dana.reyes'
  AND ts >= '2026-03-11 09:00:00' AND ts < '2026-03-11 12:00:00'
  AND path IS NOT NULL AND NOT duplicate
GROUP BY path
ORDER BY requests DESC, path
