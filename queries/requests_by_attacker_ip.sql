-- Requests from the attacker addresses, by address, user and path.
SELECT ip, principal, path, count(*) AS requests
FROM events
WHERE attacker_ip AND NOT duplicate
GROUP BY ip, principal, path
ORDER BY requests DESC, ip, principal, path
