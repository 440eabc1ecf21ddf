--| srs.conf `http_server { ... }`.
{ Type = { listen : Text, dir : Text, crossdomain : Bool }
, default = { listen = "8080", dir = "./objs/nginx/html", crossdomain = True }
}
