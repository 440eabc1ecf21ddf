--| Turns an srs.conf-shaped `Config` into a graph: one `RtmpIn`/`RtmpOut` pair on `listen`,
--  a `Vhost` router per vhost (named as the vhost), and per vhost the nodes its blocks ask for
--  (`http_remux` → an `HttpRemux` node named "<vhost>/http_remux" on the http_server; `hls` → an
--  `HlsOut` node named "<vhost>/hls"; `dash` → a `DashOut` node named "<vhost>/dash"; `dvr` → a
--  `Dvr` node named "<vhost>/dvr"; `http_static` → an `HttpStatic` node named
--  "<vhost>/http_static" on the http_server, for the vhost's host), and for `http_server` an
--  `HttpStatic` node named "http_server" serving its `dir`, with a `Console` node named "console"
--  (home page, console, players at `/`, `/console/`, `/players/`, as SRS ships them) on its
--  address (listed after the vhosts' nodes, so
--  `__defaultVhost__`'s `http_static` is tried first, as it replaces the server's dir in SRS).
--  `srt_server` adds `SrtIn` "srt" and `SrtOut` "srt_play"; each enabled `stream_caster` adds a
--  `MpegtsUdpIn`, `FlvPostIn` or `Gb28181In` named "stream_caster/<kind>/<listen>"; all route through every vhost.
--  `rtc_server` adds `RtcIn` "rtc" and `RtcOut` "rtc_play" (signalling on the `http_api` address, or
--  1985 without one), and per vhost a second router "<vhost>/rtc" (the vhost's settings) for
--  WebRTC publishers, which feeds "rtc_play" directly: each source's streams take only the bridge
--  they need. A vhost's `rtc` block (with `rtc_server`) adds the bridges: `rtmp_to_rtc` an
--  `AacToOpus` "<vhost>/rtmp_to_rtc" between the vhost (RTMP, SRT, casters, ingest) and
--  "rtc_play", `rtc_to_rtmp` an `OpusToAac` "<vhost>/rtc_to_rtmp" between "<vhost>/rtc" and the
--  vhost's other sinks ("rtmp_play", "srt_play" and the vhost's own nodes); without them those
--  streams do not cross over, as in SRS. The first vhost's `pli_for_rtmp` is the `RtcIn`'s
--  `pli_interval`.
--  A vhost's `exec` → an `Exec` node "<vhost>/exec", each `transcode` → a `Transcode` node
--  "<vhost>/transcode[/<scope>]", each `ingest ID` → an `Ingest` node "<vhost>/ingest/<ID>" whose
--  edge goes into the vhost. A vhost's `cluster` in `mode remote` → `EdgePull` "<vhost>/edge"
--  and `EdgePush` "<vhost>/edge_push"; with `origin_cluster on` (mode local) → an
--  `OriginCoworkers` "<vhost>/origin_cluster" asking its `coworkers`.
--  `http_api` adds an `HttpApi` node named "http_api". An enabled `https` block repeats what
--  its server serves on the HTTPS port, in nodes named with `_https` ("http_server_https",
--  "console_https", "<vhost>/http_remux_https", "http_api_https"). `server_id` is no node's setting: the
--  server identity is the process's, which `srs -c`/`srs -e` set from it. `utc_time` (global in
--  srs.conf) is given to every `HlsOut` and `Dvr` node, over their own field.
let Config = ./Config.dhall

let Vhost = ./Vhost.dhall

let HttpServer = ./HttpServer.dhall

let Https = ./Https.dhall

let StreamCaster = ./StreamCaster.dhall

let SrtServer = ./SrtServer.dhall

let NamedNode = ../NamedNode.dhall

let TlsFiles = (../TlsFiles.dhall).Type

let Node = ../Node.dhall

let Edge = ../Edge.dhall

let Graph = ../Graph.dhall

let concatMap = ../prelude/concatMap.dhall

let edge = ../edge.dhall

let node = ../node.dhall

let Address = { listen : Text, tls : Optional TlsFiles, suffix : Text }

let httpsAddress =
      \(https : Https.Type) ->
        { listen = https.listen
        , tls = Some { cert = https.cert, key = https.key }
        , suffix = "_https"
        }

let serverAddresses =
      \(server : HttpServer.Type) ->
          [ { listen = server.listen, tls = None TlsFiles, suffix = "" } ]
        # merge
            { None = [] : List Address
            , Some = \(https : Https.Type) -> [ httpsAddress https ]
            }
            server.https

let vhostNode =
      \(config : Config.Type) ->
      \(vhost : Vhost.Type) ->
        node
          vhost.name
          ( Node.Vhost
              { name = vhost.name
              , enabled = vhost.enabled
              , gop_cache = vhost.play.gop_cache
              , gop_cache_max_frames = vhost.play.gop_cache_max_frames
              , queue_length = vhost.play.queue_length
              , mw_latency = vhost.play.mw_latency
              , mw_msgs = vhost.play.mw_msgs
              , min_latency = vhost.min_latency
              , time_jitter = vhost.play.time_jitter
              , mix_correct = vhost.play.mix_correct
              , atc = vhost.play.atc
              , firstpkt_timeout = vhost.publish.firstpkt_timeout
              , normal_timeout = vhost.publish.normal_timeout
              , tcp_nodelay = vhost.tcp_nodelay
              , chunk_size =
                  merge
                    { None = config.chunk_size, Some = \(size : Natural) -> size }
                    vhost.chunk_size
              , http_hooks = vhost.http_hooks
              , security = vhost.security
              , refer = vhost.refer
              }
          )

let httpRemuxName = \(vhost : Vhost.Type) -> "${vhost.name}/http_remux"

let httpRemuxNodes =
      \(config : Config.Type) ->
      \(vhost : Vhost.Type) ->
        merge
          { None = [] : List NamedNode
          , Some =
              \(server : HttpServer.Type) ->
                merge
                  { None = [] : List NamedNode
                  , Some =
                      \(remux : (./HttpRemux.dhall).Type) ->
                        concatMap
                          Address
                          NamedNode
                          ( \(at : Address) ->
                              [ node
                                  "${httpRemuxName vhost}${at.suffix}"
                                  ( Node.HttpRemux
                                      { listen = at.listen
                                      , mount = remux.mount
                                      , crossdomain = server.crossdomain
                                      , tls = at.tls
                                      }
                                  )
                              ]
                          )
                          (serverAddresses server)
                  }
                  vhost.http_remux
          }
          config.http_server

let httpStaticNodes =
      \(config : Config.Type) ->
      \(vhost : Vhost.Type) ->
        merge
          { None = [] : List NamedNode
          , Some =
              \(server : HttpServer.Type) ->
                merge
                  { None = [] : List NamedNode
                  , Some =
                      \(static : (./HttpStatic.dhall).Type) ->
                        concatMap
                          Address
                          NamedNode
                          ( \(at : Address) ->
                              [ node
                                  "${vhost.name}/http_static${at.suffix}"
                                  ( Node.HttpStatic
                                      { listen = at.listen
                                      , dir = static.dir
                                      , mount = static.mount
                                      , crossdomain = server.crossdomain
                                      , tls = at.tls
                                      , vhost = Some vhost.name
                                      }
                                  )
                              ]
                          )
                          (serverAddresses server)
                  }
                  vhost.http_static
          }
          config.http_server

let apiNodes =
      \(config : Config.Type) ->
        merge
          { None = [] : List NamedNode
          , Some =
              \(api : (./HttpApi.dhall).Type) ->
                  [ node "http_api" (Node.HttpApi api) ]
                # merge
                    { None = [] : List NamedNode
                    , Some =
                        \(https : Https.Type) ->
                          let at = httpsAddress https

                          in  [ node
                                  "http_api_https"
                                  ( Node.HttpApi
                                      (api // { listen = at.listen, tls = at.tls })
                                  )
                              ]
                    }
                    config.http_api_https
          }
          config.http_api

let dashNodes =
      \(vhost : Vhost.Type) ->
        merge
          { None = [] : List NamedNode
          , Some =
              \(dash : (./Dash.dhall).Type) ->
                [ node "${vhost.name}/dash" (Node.DashOut dash) ]
          }
          vhost.dash

let dvrNodes =
      \(config : Config.Type) ->
      \(vhost : Vhost.Type) ->
        merge
          { None = [] : List NamedNode
          , Some =
              \(dvr : (./Dvr.dhall).Type) ->
                [ node
                    "${vhost.name}/dvr"
                    (Node.Dvr (dvr // { utc_time = config.utc_time }))
                ]
          }
          vhost.dvr

let hlsNodes =
      \(config : Config.Type) ->
      \(vhost : Vhost.Type) ->
        merge
          { None = [] : List NamedNode
          , Some =
              \(hls : (./Hls.dhall).Type) ->
                [ node
                    "${vhost.name}/hls"
                    (Node.HlsOut (hls // { utc_time = config.utc_time }))
                ]
          }
          vhost.hls

let forwardNodes =
      \(vhost : Vhost.Type) ->
        merge
          { None = [] : List NamedNode
          , Some =
              \(forward : (../forward.dhall).Type) ->
                [ node "${vhost.name}/forward" (Node.Forward forward) ]
          }
          vhost.forward

let clusterPull =
      \(vhost : Vhost.Type) ->
        merge
          { None = [] : List NamedNode
          , Some =
              \(cluster : (./Cluster.dhall).Type) ->
                if    cluster.remote
                then  [ node
                          "${vhost.name}/edge"
                          ( Node.EdgePull
                              { origin = cluster.origin
                              , vhost = Some vhost.name
                              , token_traverse = cluster.token_traverse
                              , close_after_ms = 3000
                              }
                          )
                      ]
                else  [ node
                          "${vhost.name}/origin_cluster"
                          ( Node.OriginCoworkers
                              { coworkers = cluster.coworkers
                              , vhost = Some vhost.name
                              , redirect = True
                              }
                          )
                      ]
          }
          vhost.cluster

let clusterPush =
      \(vhost : Vhost.Type) ->
        merge
          { None = [] : List NamedNode
          , Some =
              \(cluster : (./Cluster.dhall).Type) ->
                if    cluster.remote
                then  [ node
                          "${vhost.name}/edge_push"
                          ( Node.EdgePush
                              { origin = cluster.origin
                              , token_traverse = cluster.token_traverse
                              }
                          )
                      ]
                else  [] : List NamedNode
          }
          vhost.cluster

let execNodes =
      \(vhost : Vhost.Type) ->
        merge
          { None = [] : List NamedNode
          , Some =
              \(exec : (../exec.dhall).Type) ->
                [ node "${vhost.name}/exec" (Node.Exec exec) ]
          }
          vhost.exec

let transcodeNodes =
      \(vhost : Vhost.Type) ->
        concatMap
          { id : Text, transcode : (../transcode.dhall).Type }
          NamedNode
          ( \(t : { id : Text, transcode : (../transcode.dhall).Type }) ->
              [ node "${vhost.name}/${t.id}" (Node.Transcode t.transcode) ]
          )
          vhost.transcode

let ingestNodes =
      \(vhost : Vhost.Type) ->
        concatMap
          { id : Text, ingest : (../ingest.dhall).Type }
          NamedNode
          ( \(i : { id : Text, ingest : (../ingest.dhall).Type }) ->
              [ node "${vhost.name}/${i.id}" (Node.Ingest i.ingest) ]
          )
          vhost.ingest

let mediaNodes =
      \(config : Config.Type) ->
      \(vhost : Vhost.Type) ->
          httpRemuxNodes config vhost
        # hlsNodes config vhost
        # dashNodes vhost
        # dvrNodes config vhost
        # forwardNodes vhost
        # clusterPush vhost
        # execNodes vhost
        # transcodeNodes vhost

let vhostNodes =
      \(config : Config.Type) ->
      \(vhost : Vhost.Type) ->
          [ vhostNode config vhost ]
        # ingestNodes vhost
        # clusterPull vhost
        # mediaNodes config vhost
        # httpStaticNodes config vhost

let httpServerNodes =
      \(config : Config.Type) ->
        merge
          { None = [] : List NamedNode
          , Some =
              \(server : HttpServer.Type) ->
                concatMap
                  Address
                  NamedNode
                  ( \(at : Address) ->
                      [ node
                          "console${at.suffix}"
                          ( Node.Console
                              { listen = at.listen, api = None Text, tls = at.tls }
                          )
                      , node
                          "http_server${at.suffix}"
                          ( Node.HttpStatic
                              { listen = at.listen
                              , dir = server.dir
                              , mount = "/"
                              , crossdomain = server.crossdomain
                              , tls = at.tls
                              , vhost = None Text
                              }
                          )
                      ]
                  )
                  (serverAddresses server)
          }
          config.http_server

let casterName =
      \(caster : StreamCaster.Type) ->
        merge
          { MpegtsOverUdp = "stream_caster/mpegts_over_udp/${caster.listen}"
          , Flv = "stream_caster/flv/${caster.listen}"
          , Gb28181 = "stream_caster/gb28181/${caster.listen}"
          }
          caster.caster

let casterNodes =
      \(config : Config.Type) ->
        concatMap
          StreamCaster.Type
          NamedNode
          ( \(caster : StreamCaster.Type) ->
              if    caster.enabled
              then  [ node
                        (casterName caster)
                        ( merge
                            { MpegtsOverUdp =
                                Node.MpegtsUdpIn
                                  { listen = caster.listen
                                  , stream = caster.stream
                                  , idle_timeout = 5000
                                  }
                            , Flv = Node.FlvPostIn { listen = caster.listen }
                            , Gb28181 =
                                Node.Gb28181In
                                  ( (../gb28181_in.dhall).default
                                    //  { sip_listen = caster.sip.listen
                                        , media_listen = caster.listen
                                        , sip_enabled = caster.sip.enabled
                                        , app = caster.app
                                        , candidate = caster.sip.candidate
                                        , timeout = caster.sip.timeout
                                        , reinvite = caster.sip.reinvite
                                        }
                                  )
                            }
                            caster.caster
                        )
                    ]
              else  [] : List NamedNode
          )
          config.stream_casters

let srtServers =
      \(config : Config.Type) ->
        merge
          { None = [] : List SrtServer.Type
          , Some =
              \(server : SrtServer.Type) ->
                if server.enabled then [ server ] else [] : List SrtServer.Type
          }
          config.srt_server

let srtNodes =
      \(config : Config.Type) ->
        concatMap
          SrtServer.Type
          NamedNode
          ( \(server : SrtServer.Type) ->
              let settings =
                    { listen = server.listen
                    , latency = server.latency
                    , passphrase = server.passphrase
                    , pbkeylen = server.pbkeylen
                    , default_app = server.default_app
                    }

              in  [ node "srt" (Node.SrtIn settings)
                  , node "srt_play" (Node.SrtOut settings)
                  ]
          )
          (srtServers config)

let rtcServers =
      \(config : Config.Type) ->
        merge
          { None = [] : List (./RtcServer.dhall).Type
          , Some =
              \(server : (./RtcServer.dhall).Type) ->
                if    server.enabled
                then  [ server ]
                else  [] : List (./RtcServer.dhall).Type
          }
          config.rtc_server

let Rtc = ./Rtc.dhall

let rtcPli =
      \(config : Config.Type) ->
        List/fold
          Vhost.Type
          config.vhosts
          Natural
          ( \(vhost : Vhost.Type) ->
            \(later : Natural) ->
              merge
                { None = later, Some = \(rtc : Rtc.Type) -> rtc.pli_interval }
                vhost.rtc
          )
          6000

let rtcNodes =
      \(config : Config.Type) ->
        let api =
              merge
                { None = "1985"
                , Some = \(api : (./HttpApi.dhall).Type) -> api.listen
                }
                config.http_api

        in  concatMap
              (./RtcServer.dhall).Type
              NamedNode
              ( \(server : (./RtcServer.dhall).Type) ->
                  let settings =
                        { listen = server.listen
                        , api
                        , candidate = server.candidate
                        , max_connections = config.max_connections
                        , workers = 0
                        , tcp = server.tcp
                        , protocol = server.protocol
                        }

                  in  [ node "rtc" (Node.RtcIn (settings // { pli_interval = rtcPli config }))
                      , node "rtc_play" (Node.RtcOut settings)
                      ]
              )
              (rtcServers config)

let vhostRtc =
      \(config : Config.Type) ->
      \(vhost : Vhost.Type) ->
        concatMap
          (./RtcServer.dhall).Type
          Rtc.Type
          ( \(server : (./RtcServer.dhall).Type) ->
              merge
                { None = [] : List Rtc.Type, Some = \(rtc : Rtc.Type) -> [ rtc ] }
                vhost.rtc
          )
          (rtcServers config)

let rtcRouterName = \(vhost : Vhost.Type) -> "${vhost.name}/rtc"

let rtcBridgeNodes =
      \(config : Config.Type) ->
      \(vhost : Vhost.Type) ->
          concatMap
            (./RtcServer.dhall).Type
            NamedNode
            ( \(server : (./RtcServer.dhall).Type) ->
                [ vhostNode config vhost // { name = rtcRouterName vhost } ]
            )
            (rtcServers config)
        # concatMap
            Rtc.Type
            NamedNode
            ( \(rtc : Rtc.Type) ->
                  ( if    rtc.rtmp_to_rtc
                    then  [ node
                              "${vhost.name}/rtmp_to_rtc"
                              ( Node.AacToOpus
                                  { bitrate = rtc.opus_bitrate
                                  , keep_bframe = rtc.keep_bframe
                                  , keep_avc_nalu_sei = rtc.keep_avc_nalu_sei
                                  , complexity = 5
                                  }
                              )
                          ]
                    else  [] : List NamedNode
                  )
                # ( if    rtc.rtc_to_rtmp
                    then  [ node
                              "${vhost.name}/rtc_to_rtmp"
                              (Node.OpusToAac { bitrate = rtc.aac_bitrate })
                          ]
                    else  [] : List NamedNode
                  )
            )
            (vhostRtc config vhost)

let bridged =
      \(bridge : Rtc.Type -> Bool) ->
      \(rtcs : List Rtc.Type) ->
        List/fold Rtc.Type rtcs Bool (\(rtc : Rtc.Type) -> \(any : Bool) -> any || bridge rtc) False

let vhostSinks =
      \(config : Config.Type) ->
      \(vhost : Vhost.Type) ->
          [ "rtmp_play" ]
        # concatMap SrtServer.Type Text (\(server : SrtServer.Type) -> [ "srt_play" ]) (srtServers config)
        # concatMap NamedNode Text (\(n : NamedNode) -> [ n.name ]) (mediaNodes config vhost)

let vhostEdges =
      \(config : Config.Type) ->
      \(vhost : Vhost.Type) ->
        let rtcs = vhostRtc config vhost

        let sinks = vhostSinks config vhost

        let from =
              \(parent : Text) ->
              \(children : List Text) ->
                concatMap Text Edge (\(child : Text) -> [ edge parent child ]) children

        let rtcEdges =
              \(server : (./RtcServer.dhall).Type) ->
                let router = rtcRouterName vhost

                in    [ edge "rtc" router, edge router "rtc_play" ]
                    # ( if    bridged (\(rtc : Rtc.Type) -> rtc.rtmp_to_rtc) rtcs
                        then  [ edge vhost.name "${vhost.name}/rtmp_to_rtc"
                              , edge "${vhost.name}/rtmp_to_rtc" "rtc_play"
                              ]
                        else  [] : List Edge
                      )
                    # ( if    bridged (\(rtc : Rtc.Type) -> rtc.rtc_to_rtmp) rtcs
                        then    [ edge router "${vhost.name}/rtc_to_rtmp" ]
                              # from "${vhost.name}/rtc_to_rtmp" sinks
                        else  [] : List Edge
                      )

        in    [ edge "rtmp" vhost.name ]
            # from vhost.name sinks
            # concatMap
                NamedNode
                Edge
                (\(n : NamedNode) -> [ edge n.name vhost.name ])
                (casterNodes config # ingestNodes vhost # clusterPull vhost)
            # concatMap
                SrtServer.Type
                Edge
                (\(server : SrtServer.Type) -> [ edge "srt" vhost.name ])
                (srtServers config)
            # concatMap (./RtcServer.dhall).Type Edge rtcEdges (rtcServers config)

let toGraph
    : Config.Type -> Graph.Type
    = \(config : Config.Type) ->
        { nodes =
              [ node
                  "rtmp"
                  ( Node.RtmpIn
                      { listen = config.listen
                      , max_connections = config.max_connections
                      , max_connections_per_ip = 0
                      }
                  )
              , node "rtmp_play" (Node.RtmpOut { listen = config.listen })
              ]
            # apiNodes config
            # casterNodes config
            # srtNodes config
            # rtcNodes config
            # concatMap Vhost.Type NamedNode (vhostNodes config) config.vhosts
            # concatMap Vhost.Type NamedNode (rtcBridgeNodes config) config.vhosts
            # httpServerNodes config
        , edges = concatMap Vhost.Type Edge (vhostEdges config) config.vhosts
        }

let example =
        assert
      :     (toGraph Config::{ vhosts = [] : List Vhost.Type }).edges
        ===  ([] : List Edge)

in  toGraph
