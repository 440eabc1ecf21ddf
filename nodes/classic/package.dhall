--| The classic form: records shaped like srs.conf, and `toGraph` turning one into a graph.
--
--  let classic = ../nodes/classic/package.dhall
--  in  classic.toGraph classic.Config::{ vhosts = [ classic.Vhost::{=} ] }
{ Config = ./Config.dhall
, Vhost = ./Vhost.dhall
, Play = ./Play.dhall
, Publish = ./Publish.dhall
, HttpServer = ./HttpServer.dhall
, Https = ./Https.dhall
, HttpApi = ./HttpApi.dhall
, HttpRemux = ./HttpRemux.dhall
, HttpStatic = ./HttpStatic.dhall
, SrtServer = ./SrtServer.dhall
, Rtc = ./Rtc.dhall
, RtcServer = ./RtcServer.dhall
, StreamCaster = ./StreamCaster.dhall
, Dash = ./Dash.dhall
, Cluster = ./Cluster.dhall
, Dvr = ./Dvr.dhall
, Hls = ./Hls.dhall
, toGraph = ./toGraph.dhall
}
