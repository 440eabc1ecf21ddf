--| The PEM files of an HTTPS listener (`tls` of `HttpApi`, `HttpRemux`, `HttpStatic`): every
--  node on one `listen` address must name the same files (SRS's `https { key; cert; }`).
--
--  tls = Some srs.TlsFiles::{ cert = "./conf/server.crt", key = "./conf/server.key" }
{ Type = { cert : Text, key : Text }
, default = { cert = "./conf/server.crt", key = "./conf/server.key" }
}
