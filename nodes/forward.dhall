--| `Forward`: pushes each stream to other servers over RTMP (SRS's vhost `forward` block).
--  A destination is `host:port` (same app and stream, the vhost as `?vhost=`) or an `rtmp://` URL
--  template with `[vhost]`, `[app]`, `[stream]` and `[param]`. Each destination reconnects by
--  itself with backoff; a slow one never slows the publisher or the others.
--
--  srs.node "forward" (srs.Node.Forward srs.Forward::{ destination = [ "127.0.0.1:19350" ] })
--  `backend = Some "http://..."` asks that URL at each publish (SRS's `on_forward`) for the
--  destinations' full URLs instead.
{ Type = { destination : List Text, backend : Optional Text }
, default = { destination = [] : List Text, backend = None Text }
}
