--| srs.conf `vhost { http_remux { ... } }`: live HTTP-FLV/TS/AAC/MP3 on the http_server.
{ Type = { mount : Text }, default = { mount = "[vhost]/[app]/[stream].flv" } }
