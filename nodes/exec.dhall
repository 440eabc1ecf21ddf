--| `Exec`: runs programs while a stream is published (SRS's vhost `exec { publish ...; }`).
--  Each `publish` line is a program and its arguments with SRS's variables ([vhost] [port] [app]
--  [stream] [param] [tcUrl] [url] and time variables); it starts at publish, is restarted with
--  backoff if it exits, and is stopped (SIGTERM, then SIGKILL) at unpublish.
--
--  srs.node "exec" (srs.Node.Exec srs.Exec::{ publish = [ "./notify.sh [app] [stream]" ] })
{ Type = { publish : List Text, max_processes : Natural }
, default = { publish = [] : List Text, max_processes = 0 }
}
