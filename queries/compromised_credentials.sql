-- Credentials the attacker used, whose owner they belong to, first and last
-- misuse. Keys minted by the attacker but never used are added by scope.
SELECT credential, min(principal) AS principal, min(ts) AS first_misuse, max(ts) AS last_misuse,
       count(*) AS events
FROM events
WHERE malicious AND compromised_credential AND NOT duplicate
GROUP BY credential
ORDER BY credential
