//! An interceptor that lets players' keyframe requests (PLI, FIR) and NACKs, and publishers'
//! sender reports, reach the UDP worker.
//!
//! The `rtc` crate's interceptor chain ends inbound RTCP at its terminus unless an interceptor
//! marks the packet `DeliverToApplication`; without this one the worker never saw a player's PLI,
//! and NACKs could only be answered by the crate's own per-player responder (which we leave out,
//! answering from the stream's shared ring instead).

use std::collections::VecDeque;

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::sender_report::SenderReport;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
use rtc::sansio::Protocol;

/// Marks inbound RTCP carrying a PLI, FIR, NACK or sender report (lip sync of a publisher's
/// tracks, `codec::rtp::sync`) for the application; everything passes.
#[derive(Default)]
pub struct FeedbackToApplication {
    reads: VecDeque<TaggedPacket>,
    writes: VecDeque<TaggedPacket>,
}

/// Whether any packet of a compound RTCP packet is feedback the worker acts on.
fn wanted(packets: &[Box<dyn rtc::rtcp::Packet>]) -> bool {
    packets.iter().any(|p| {
        let any = p.as_any();
        any.is::<PictureLossIndication>()
            || any.is::<FullIntraRequest>()
            || any.is::<TransportLayerNack>()
            || any.is::<SenderReport>()
    })
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for FeedbackToApplication {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = std::time::Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if matches!(&msg.message.packet, Packet::Rtcp(packets) if wanted(packets)) {
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.reads.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.reads.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.writes.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.writes.pop_front()
    }
}

impl Interceptor for FeedbackToApplication {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
