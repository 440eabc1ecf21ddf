--| srs.conf `vhost { http_static { ... } }`: the vhost's own web root on the http_server
--  (a `[vhost]` mount serves requests whose Host names the vhost; `__defaultVhost__`'s replaces
--  the http_server `dir`).
{ Type = { mount : Text, dir : Text }
, default = { mount = "[vhost]/", dir = "./objs/nginx/html" }
}
