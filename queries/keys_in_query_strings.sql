-- Routes that receive credentials in the query string (they end up in every
-- proxy and access log on the way).
SELECT route, count(*) AS requests, count(DISTINCT credential) AS credentials, min(ts) AS first,
       max(ts) AS last
FROM events
WHERE credential_in_query AND NOT duplicate
GROUP BY route
ORDER BY requests DESC, route
