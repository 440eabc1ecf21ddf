--| The node catalogue: a `{ Type, default }` per node kind (use `::` completion), the `Node`
--  union, `Graph`, `Edge` and helpers. The srs.conf-shaped form is `./classic/package.dhall`,
--  imported on its own where it is used: typechecking its `toGraph` costs a second and 150 MB,
--  which a graph written node by node should not pay.
--
--  let srs = ../nodes/package.dhall
--  in  srs.Graph::{ nodes = [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{=}) ] }
{ AacToOpus = ./aac_to_opus.dhall
, Console = ./console.dhall
, DashOut = ./dash_out.dhall
, Dvr = ./dvr.dhall
, EdgePull = ./edge_pull.dhall
, EdgePush = ./edge_push.dhall
, Exec = ./exec.dhall
, FileIn = ./file_in.dhall
, FileOut = ./file_out.dhall
, FlvPostIn = ./flv_post_in.dhall
, Forward = ./forward.dhall
, Gb28181In = ./gb28181_in.dhall
, HlsOut = ./hls_out.dhall
, HttpApi = ./http_api.dhall
, HttpRemux = ./http_remux.dhall
, HttpStatic = ./http_static.dhall
, Ingest = ./ingest.dhall
, Jitter = ./jitter.dhall
, OpusToAac = ./opus_to_aac.dhall
, MpegtsUdpIn = ./mpegts_udp_in.dhall
, OriginCluster = ./origin_cluster.dhall
, OriginCoworkers = ./origin_coworkers.dhall
, RtcIn = ./rtc_in.dhall
, RtcOut = ./rtc_out.dhall
, RtmpIn = ./rtmp_in.dhall
, RtmpOut = ./rtmp_out.dhall
, SrtIn = ./srt_in.dhall
, SrtOut = ./srt_out.dhall
, Transcode = ./transcode.dhall
, Vhost = ./vhost.dhall
, DashSegmentTemplate = ./DashSegmentTemplate.dhall
, DvrPlan = ./DvrPlan.dhall
, FfmpegEngine = ./FfmpegEngine.dhall
, FileFormat = ./FileFormat.dhall
, HlsOnError = ./HlsOnError.dhall
, Mp4Layout = ./Mp4Layout.dhall
, SegmentFormat = ./SegmentFormat.dhall
, TimeJitter = ./TimeJitter.dhall
, HttpHooks = ./HttpHooks.dhall
, Refer = ./Refer.dhall
, Security = ./Security.dhall
, TlsFiles = ./TlsFiles.dhall
, Node = ./Node.dhall
, NamedNode = ./NamedNode.dhall
, Graph = ./Graph.dhall
, Edge = ./Edge.dhall
, edge = ./edge.dhall
, node = ./node.dhall
}
