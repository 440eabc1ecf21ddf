--| srs.conf `http_api { ... }`: the HTTP API, with SRS's names (`listen`, `crossdomain`, `auth`,
--  `raw_api`); it becomes an `HttpApi` node named "http_api".
../http_api.dhall
