--| srs.conf `https { listen; key; cert; }` inside `http_server` (default listen 8088) and
--  `http_api` (default 1990): the same routes again over HTTPS on their own port.
{ Type = { listen : Text, key : Text, cert : Text }
, default = { listen = "8088", key = "./conf/server.key", cert = "./conf/server.crt" }
}
