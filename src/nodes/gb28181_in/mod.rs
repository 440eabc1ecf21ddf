//! `Gb28181In`: SRS's `gb28181` stream caster (SRS 5+ flow). Cameras REGISTER over SIP (TCP or
//! UDP on `sip_listen`), are INVITEd to send MPEG-2 PS in RTP to the media port (`media_listen`,
//! TCP with RFC 4571 framing or UDP, shared by every device; the SSRC of the INVITE's `y=` line
//! tells the devices apart), and each publishes `<app>/<device id>` (the REGISTER's From user).
//!
//! Over UDP SIP the INVITE offers `RTP/AVP`, over TCP `TCP/RTP/AVP` (SRS 5 offers TCP only; most
//! cameras speak SIP over UDP). Admission is any publisher's: security and `on_publish` of the
//! vhost. Media that stops for `reinvite` seconds brings a new INVITE (players stay); `timeout`
//! seconds without SIP or media, a BYE or `Expires: 0` end the stream. With `sip_enabled = False`
//! an external SIP server invites the devices and names them with the HTTP API's
//! `POST /gb/v1/publish/`. Produces video {H264, H265} and audio {AAC}.
//!
//! ```dhall
//! srs.node "gb" (srs.Node.Gb28181In srs.Gb28181In::{ sip_listen = "5060", media_listen = "9000" })
//! ```
//!
//! Layout: `caster.rs` (what the sockets share: the registrar, the devices' SIP paths, their
//! media sessions), `sip.rs` (the SIP sockets), `media.rs` (the RTP sockets and one
//! publication per device through `codec::ps::PsDemuxer`), `external.rs` (`POST /gb/v1/publish/`).

mod caster;
mod external;
mod media;
mod sip;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

use crate::graph::{listens_on, Caps, Listen, Ports, Transport};
use crate::media::Codec;
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::NodeKind;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// SIP address, TCP and UDP: `5060` or `ip:port`.
    pub sip_listen: String,
    /// Media address, TCP (RFC 4571) and UDP: `9000` or `ip:port`.
    pub media_listen: String,
    /// Off: no SIP server here, devices are announced by `POST /gb/v1/publish/` (SRS 5).
    pub sip_enabled: bool,
    /// The app of every device's stream: `<app>/<device id>`.
    pub app: String,
    /// Our GB28181 id (From of our INVITEs).
    pub server_id: String,
    /// The digest realm (the SIP domain).
    pub realm: String,
    /// Digest password of every device; empty: no authentication.
    pub password: String,
    /// The address written in INVITEs (`c=`, Via, Contact): an IP, or `*` for the SIP socket's.
    pub candidate: String,
    /// Seconds without SIP or media after which a device's session ends.
    pub timeout: u64,
    /// Seconds of media loss after which the device is invited again.
    pub reinvite: u64,
}

/// What GB28181 media carries here.
pub fn gb_caps() -> Caps {
    Caps::new(&[Codec::H264, Codec::H265], &[Codec::Aac])
}

impl Config {
    fn single(
        field: &str,
        value: &str,
        transport: Transport,
        protocol: &'static str,
    ) -> Result<Listen, String> {
        let listens = listens_on(value, transport, protocol, Some(protocol), None)
            .map_err(|e| e.replace("field `listen`", &format!("field `{field}`")))?;
        match listens.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(format!("field `{field}` names several addresses: give one")),
        }
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Source { produces: gb_caps() }
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        let mut listens = Vec::new();
        if self.sip_enabled {
            listens.push(Config::single("sip_listen", &self.sip_listen, Transport::Tcp, "gb28181-sip")?);
            listens.push(Config::single("sip_listen", &self.sip_listen, Transport::Udp, "gb28181-sip")?);
        }
        listens.push(Config::single("media_listen", &self.media_listen, Transport::Tcp, "gb28181-media")?);
        listens.push(Config::single("media_listen", &self.media_listen, Transport::Udp, "gb28181-media")?);
        Ok(listens)
    }

    fn served_urls(&self, listens: &[Listen], _: &super::GraphFile) -> Vec<super::urls::ServedUrl> {
        let sip: Vec<Listen> = listens.iter().filter(|l| l.protocol == "gb28181-sip").cloned().collect();
        let mut urls = super::urls::on_listens(&sip, "register (GB28181 SIP)", "sip", "");
        for url in &mut urls {
            url.url.push_str(&format!(" (streams {}/<device id>)", self.app));
        }
        urls
    }

    fn validate(&self) -> Result<(), String> {
        self.listens()?;
        if self.app.is_empty() || self.app.contains("..") {
            return Err(format!("field `app` is `{}`: give an app name like `live`", self.app));
        }
        if self.timeout == 0 || self.reinvite == 0 {
            return Err("fields `timeout` and `reinvite` are seconds and must be above 0".into());
        }
        if self.server_id.is_empty() || self.realm.is_empty() {
            return Err("fields `server_id` and `realm` must not be empty".into());
        }
        Ok(())
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![
            ("sip", if self.sip_enabled { self.sip_listen.clone() } else { "off".into() }),
            ("media", self.media_listen.clone()),
            ("app", self.app.clone()),
        ]
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        let caster = Arc::new(caster::Caster::new(node.engine.clone(), node.index, self.clone()));
        for listen in node.listens {
            match (listen.protocol, listen.transport) {
                ("gb28181-media", Transport::Tcp) => {
                    plan.tcp_listener(listen.addr, "gb28181-media", media::tcp_handler(&caster))
                }
                ("gb28181-media", Transport::Udp) => {
                    let caster = Arc::clone(&caster);
                    plan.udp_socket(listen.addr, "gb28181-media", move |socket| {
                        Box::pin(media::run_udp(caster, socket))
                    });
                }
                ("gb28181-sip", Transport::Tcp) => {
                    plan.tcp_listener(listen.addr, "gb28181-sip", sip::tcp_handler(&caster))
                }
                ("gb28181-sip", Transport::Udp) => {
                    let caster = Arc::clone(&caster);
                    plan.udp_socket(listen.addr, "gb28181-sip", move |socket| {
                        Box::pin(sip::run_udp(caster, socket))
                    });
                }
                _ => {}
            }
        }
        if !self.sip_enabled {
            // SRS 5's `POST /gb/v1/publish/`, on every HTTP API address.
            let graph = node.engine.graph();
            for index in graph.dag.node_indices() {
                let crate::nodes::NodeSpec::HttpApi(api) = &graph.node(index).node else { continue };
                for listen in api.listens().map_err(anyhow::Error::msg)? {
                    let route = external::PublishRoute { caster: Arc::clone(&caster) };
                    plan.http_route(listen.addr, Arc::new(route));
                }
            }
        }
        // Re-INVITEs and timeouts (with or without SIP here).
        plan.source(&format!("{}#clock", node.name), Box::pin(sip::run_clock(Arc::clone(&caster))));
        Ok(())
    }
}
