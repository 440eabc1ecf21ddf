--| srs.conf `vhost { refer { ... } }`: hotlink protection on the RTMP pageUrl; the page's domain
--  must end with a listed one (`all` for connect, `publish`, `play`; an empty list allows).
--
--  refer = Some srs.Refer::{ play = [ "example.com" ] }
{ Type = { enabled : Bool, all : List Text, publish : List Text, play : List Text }
, default =
  { enabled = True, all = [] : List Text, publish = [] : List Text, play = [] : List Text }
}
