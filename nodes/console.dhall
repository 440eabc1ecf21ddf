--| `Console`: the home page (`/`: version, publish and play URLs), the console (`/console/`:
--  summaries, streams, clients with kick, and the live graph with its counters) and the players
--  (`/players/`: HTTP-FLV, HLS, LL-HLS, DASH, WebRTC; SRS's `srs_player.html`, `rtc_player.html`
--  and `rtc_publisher.html` names work too), built into the binary. A service node sharing an
--  HTTP address: it answers only `/`, `/console/...` and `/players/...`, other paths go to the
--  address's other nodes (`HttpStatic`). `api`: where the pages find the API, by default the
--  browser's host and the port of the graph's first `HttpApi` node.
--
--  srs.node "console" (srs.Node.Console srs.Console::{ listen = "8080" })
{ Type =
    { listen : Text, api : Optional Text, tls : Optional (./TlsFiles.dhall).Type }
, default = { listen = "8080", api = None Text, tls = None (./TlsFiles.dhall).Type }
}
