--| Turns an srs.conf-shaped `Config` into a graph: one `RtmpIn`/`RtmpOut` pair on `listen`,
--  a `Vhost` router per vhost (named as the vhost), and per vhost the nodes its blocks ask for
--  (`http_remux` → an `HttpRemux` node named "<vhost>/http_remux" on the http_server), and an
--  `HttpApi` node named "http_api" for `http_api`.
let Config = ./Config.dhall

let Vhost = ./Vhost.dhall

let HttpServer = ./HttpServer.dhall

let NamedNode = ../NamedNode.dhall

let Node = ../Node.dhall

let Edge = ../Edge.dhall

let Graph = ../Graph.dhall

let concatMap = ../prelude/concatMap.dhall

let edge = ../edge.dhall

let node = ../node.dhall

let vhostNode =
      \(config : Config.Type) ->
      \(vhost : Vhost.Type) ->
        node
          vhost.name
          ( Node.Vhost
              { name = vhost.name
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
                        [ node
                            (httpRemuxName vhost)
                            ( Node.HttpRemux
                                { listen = server.listen
                                , mount = remux.mount
                                , crossdomain = server.crossdomain
                                }
                            )
                        ]
                  }
                  vhost.http_remux
          }
          config.http_server

let apiNodes =
      \(config : Config.Type) ->
        merge
          { None = [] : List NamedNode
          , Some =
              \(api : (./HttpApi.dhall).Type) -> [ node "http_api" (Node.HttpApi api) ]
          }
          config.http_api

let vhostNodes =
      \(config : Config.Type) ->
      \(vhost : Vhost.Type) ->
        [ vhostNode config vhost ] # httpRemuxNodes config vhost

let vhostEdges =
      \(config : Config.Type) ->
      \(vhost : Vhost.Type) ->
          [ edge "rtmp" vhost.name, edge vhost.name "rtmp_play" ]
        # concatMap
            NamedNode
            Edge
            (\(n : NamedNode) -> [ edge vhost.name n.name ])
            (httpRemuxNodes config vhost)

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
            # concatMap Vhost.Type NamedNode (vhostNodes config) config.vhosts
        , edges = concatMap Vhost.Type Edge (vhostEdges config) config.vhosts
        }

let example =
        assert
      :     (toGraph Config::{ vhosts = [] : List Vhost.Type }).edges
        ===  ([] : List Edge)

in  toGraph
