//! Program-specific information: the PAT and PMT sections (write and parse), their MPEG-2 CRC32,
//! and the assembler that gathers a section from the payloads of consecutive packets.
//!
//! Only what one-program live streams use: a single program, no descriptors written, descriptors
//! skipped when read, and no other tables (SDT, NIT, ...).

use bytes::{BufMut, Bytes, BytesMut};

use super::TsError;

/// table_id of the program association section.
pub(crate) const TABLE_PAT: u8 = 0x00;
/// table_id of the program map section.
pub(crate) const TABLE_PMT: u8 = 0x02;
/// section_length is a 12-bit field whose top two bits must be zero.
const MAX_SECTION_LEN: usize = 1021;

/// The CRC32 of MPEG-2 sections: polynomial 0x04c11db7, initial value all ones, no reflection,
/// no final xor. Computed with a table built at compile time.
pub(crate) fn crc32_mpeg2(data: &[u8]) -> u32 {
    data.iter().fold(0xffff_ffff, |crc, byte| (crc << 8) ^ CRC_TABLE[usize::from((crc >> 24) as u8 ^ byte)])
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000_0000 != 0 { (crc << 1) ^ 0x04c1_1db7 } else { crc << 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// One elementary stream of a PMT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PmtStream {
    pub stream_type: u8,
    pub pid: u16,
}

/// A parsed program map section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pmt {
    pub program_number: u16,
    pub pcr_pid: u16,
    pub streams: Vec<PmtStream>,
}

/// Writes a whole section: the long-form header around `body`, then the CRC.
fn write_section(table_id: u8, table_id_extension: u16, version: u8, body: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(body.len() + 12);
    // section_length counts what follows it: 5 header bytes, the body and the CRC.
    let section_len = 5 + body.len() + 4;
    out.put_u8(table_id);
    out.put_u16(0xb000 | section_len as u16); // syntax indicator, '0', reserved bits
    out.put_u16(table_id_extension);
    out.put_u8(0xc1 | ((version & 0x1f) << 1)); // reserved bits, version, current_next_indicator
    out.put_u8(0); // section_number
    out.put_u8(0); // last_section_number
    out.put_slice(body);
    let crc = crc32_mpeg2(&out);
    out.put_u32(crc);
    out.freeze()
}

/// A PAT announcing one program whose PMT is on `pmt_pid`.
pub(crate) fn write_pat(transport_stream_id: u16, program_number: u16, pmt_pid: u16) -> Bytes {
    let mut body = [0u8; 4];
    body[..2].copy_from_slice(&program_number.to_be_bytes());
    body[2..].copy_from_slice(&(0xe000 | pmt_pid).to_be_bytes());
    write_section(TABLE_PAT, transport_stream_id, 0, &body)
}

/// A PMT listing `streams` without descriptors.
pub(crate) fn write_pmt(program_number: u16, version: u8, pmt: &Pmt) -> Bytes {
    let mut body = BytesMut::with_capacity(4 + 5 * pmt.streams.len());
    body.put_u16(0xe000 | pmt.pcr_pid);
    body.put_u16(0xf000); // program_info_length 0
    for stream in &pmt.streams {
        body.put_u8(stream.stream_type);
        body.put_u16(0xe000 | stream.pid);
        body.put_u16(0xf000); // ES_info_length 0
    }
    write_section(TABLE_PMT, program_number, version, &body)
}

/// Checks the long-form header and CRC of a whole section and returns (table_id_extension, body).
fn open_section(section: &[u8], table_id: u8) -> Result<(u16, &[u8]), TsError> {
    if section.len() < 12 || section[0] != table_id {
        return Err(TsError::Section { table_id, reason: "too short or wrong table id" });
    }
    if section[1] & 0x80 == 0 {
        return Err(TsError::Section { table_id, reason: "section_syntax_indicator not set" });
    }
    let crc_at = section.len() - 4;
    let stored =
        u32::from_be_bytes([section[crc_at], section[crc_at + 1], section[crc_at + 2], section[crc_at + 3]]);
    if crc32_mpeg2(&section[..crc_at]) != stored {
        return Err(TsError::Crc { table_id });
    }
    Ok((u16::from_be_bytes([section[3], section[4]]), &section[8..crc_at]))
}

/// The (program_number, PMT PID) pairs of a PAT; program 0 (the network PID) is left out.
pub(crate) fn parse_pat(section: &[u8]) -> Result<Vec<(u16, u16)>, TsError> {
    let (_, body) = open_section(section, TABLE_PAT)?;
    Ok(body
        .chunks_exact(4)
        .map(|c| (u16::from_be_bytes([c[0], c[1]]), u16::from_be_bytes([c[2] & 0x1f, c[3]])))
        .filter(|(program, _)| *program != 0)
        .collect())
}

pub(crate) fn parse_pmt(section: &[u8]) -> Result<Pmt, TsError> {
    let (program_number, body) = open_section(section, TABLE_PMT)?;
    let malformed = TsError::Section { table_id: TABLE_PMT, reason: "stream loop overruns the section" };
    if body.len() < 4 {
        return Err(malformed);
    }
    let pcr_pid = u16::from_be_bytes([body[0] & 0x1f, body[1]]);
    let info_len = usize::from(u16::from_be_bytes([body[2] & 0x0f, body[3]]));
    let mut rest = body.get(4 + info_len..).ok_or(malformed.clone())?;
    let mut streams = Vec::new();
    while !rest.is_empty() {
        if rest.len() < 5 {
            return Err(malformed);
        }
        let es_info_len = usize::from(u16::from_be_bytes([rest[3] & 0x0f, rest[4]]));
        streams.push(PmtStream { stream_type: rest[0], pid: u16::from_be_bytes([rest[1] & 0x1f, rest[2]]) });
        rest = rest.get(5 + es_info_len..).ok_or(malformed.clone())?;
    }
    Ok(Pmt { program_number, pcr_pid, streams })
}

/// Gathers sections from packet payloads of one PID. A section may span packets; several may share one.
#[derive(Debug, Default)]
pub(crate) struct SectionAssembler {
    buffer: BytesMut,
    /// False until a payload_unit_start packet gives a section start to align on.
    aligned: bool,
}

impl SectionAssembler {
    /// Feeds one packet payload; returns the sections it completed.
    pub fn push(&mut self, payload: &[u8], payload_unit_start: bool) -> Result<Vec<Bytes>, TsError> {
        if payload_unit_start {
            let pointer = usize::from(*payload.first().ok_or(TsError::Section {
                table_id: 0xff,
                reason: "empty payload where pointer_field was expected",
            })?);
            let tail = payload
                .get(1..1 + pointer)
                .ok_or(TsError::Section { table_id: 0xff, reason: "pointer_field points past the packet" })?;
            // The bytes before the pointer end the previous section; the new one starts after them.
            if self.aligned {
                self.buffer.extend_from_slice(tail);
            }
            let mut sections = self.drain();
            self.buffer.clear();
            self.buffer.extend_from_slice(&payload[1 + pointer..]);
            self.aligned = true;
            sections.extend(self.drain());
            Ok(sections)
        } else if self.aligned {
            self.buffer.extend_from_slice(payload);
            if self.buffer.len() > MAX_SECTION_LEN + 3 + PACKET_SLACK {
                self.buffer.clear();
                self.aligned = false;
                return Err(TsError::Section { table_id: 0xff, reason: "section longer than 1024 bytes" });
            }
            Ok(self.drain())
        } else {
            Ok(Vec::new())
        }
    }

    /// Takes every whole section from the front of the buffer; stops at stuffing (0xff) or a partial one.
    fn drain(&mut self) -> Vec<Bytes> {
        let mut sections = Vec::new();
        loop {
            if self.buffer.first().is_none_or(|table_id| *table_id == 0xff) {
                if !self.buffer.is_empty() {
                    self.buffer.clear();
                }
                return sections;
            }
            if self.buffer.len() < 3 {
                return sections;
            }
            let len = 3 + usize::from(u16::from_be_bytes([self.buffer[1] & 0x0f, self.buffer[2]]));
            if self.buffer.len() < len {
                return sections;
            }
            sections.push(self.buffer.split_to(len).freeze());
        }
    }
}

/// A packet's worth of slack on top of the longest section, for the tail of the packet that completes it.
const PACKET_SLACK: usize = 184;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_mpeg2_check_value() {
        // The published check value of CRC-32/MPEG-2 over the ASCII digits 1..9.
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376_e6e7);
    }

    #[test]
    fn pat_round_trips_and_matches_ffmpeg_bytes() {
        let pat = write_pat(1, 1, 0x1000);
        // ffmpeg's default PAT section (transport_stream_id 1, program 1 on PID 0x1000).
        let expected =
            [0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1, 0x04, 0xb2];
        assert_eq!(&pat[..], &expected);
        assert_eq!(parse_pat(&pat).unwrap(), vec![(1, 0x1000)]);
    }

    #[test]
    fn pmt_round_trips_and_detects_corruption() {
        let pmt = Pmt {
            program_number: 1,
            pcr_pid: 0x100,
            streams: vec![
                PmtStream { stream_type: 0x1b, pid: 0x100 },
                PmtStream { stream_type: 0x0f, pid: 0x101 },
            ],
        };
        // ffmpeg's PMT for H.264 on 0x100 and AAC on 0x101 (version 0), byte for byte.
        let ffmpeg = [
            0x02, 0xb0, 0x17, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1, 0x00, 0xf0,
            0x00, 0x0f, 0xe1, 0x01, 0xf0, 0x00, 0x2f, 0x44, 0xb9, 0x9b,
        ];
        assert_eq!(&write_pmt(1, 0, &pmt)[..], &ffmpeg);
        let bytes = write_pmt(1, 3, &pmt);
        assert_eq!(parse_pmt(&bytes).unwrap(), pmt);
        let mut damaged = bytes.to_vec();
        damaged[13] ^= 0x01;
        assert!(matches!(parse_pmt(&damaged), Err(TsError::Crc { table_id: TABLE_PMT })));
    }

    #[test]
    fn assembler_joins_sections_across_packets() {
        let pmt = Pmt {
            program_number: 1,
            pcr_pid: 0x100,
            streams: (0..40).map(|i| PmtStream { stream_type: 0x1b, pid: 0x100 + i }).collect(),
        };
        let section = write_pmt(1, 0, &pmt);
        assert!(section.len() > 184);
        let mut first = vec![0u8];
        first.extend_from_slice(&section[..150]);
        let mut second = section[150..].to_vec();
        second.extend_from_slice(&[0xff; 20]);
        let mut assembler = SectionAssembler::default();
        assert!(assembler.push(&[0x12, 0x34], false).unwrap().is_empty(), "not aligned yet");
        assert!(assembler.push(&first, true).unwrap().is_empty());
        let sections = assembler.push(&second, false).unwrap();
        assert_eq!(sections, vec![section]);
        assert!(assembler.push(&[0x05], true).is_err(), "pointer past the packet");
    }
}
