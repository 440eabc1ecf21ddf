//! fdk-aac's AAC-LC encoder opened with its AAC module alone. The `fdk-aac` crate opens the
//! encoder with every module, and the DRC metadata module then delays the audio by 448 more
//! samples (9.3 ms at 48 kHz: its delay line rounds the 1600-sample AAC-LC delay up to whole
//! frames) although no metadata is ever written; a live bridge pays that as latency. Raw AAC
//! frames out (no ADTS), constant bit rate, 1024 samples a frame.

use std::ffi::c_void;
use std::os::raw::c_int;

use bytes::Bytes;
use fdk_aac_sys as fdk;

use super::{check, FdkError};

/// Samples per channel of one AAC-LC frame.
pub const FRAME_SAMPLES: usize = 1024;
/// `aacEncOpen`'s module mask for the AAC core alone (no SBR, PS, metadata or MPEG Surround).
const MODULE_AAC: u32 = 0x01;

/// One AAC-LC encoder: interleaved 16-bit PCM in, raw AAC frames out.
pub struct AacLcEncoder {
    handle: fdk::HANDLE_AACENCODER,
    asc: Bytes,
    delay: u32,
}

// The handle is owned by this value alone and used through `&mut self`; fdk's encoder keeps no
// thread-local state.
unsafe impl Send for AacLcEncoder {}

impl std::fmt::Debug for AacLcEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AacLcEncoder").field("delay", &self.delay).finish()
    }
}

impl AacLcEncoder {
    /// An encoder of `channels` (1 or 2) at `sample_rate`, `bitrate` bit/s constant.
    pub fn new(sample_rate: u32, channels: u32, bitrate: u32) -> Result<AacLcEncoder, FdkError> {
        let mut handle: fdk::HANDLE_AACENCODER = std::ptr::null_mut();
        check("aacEncOpen", unsafe { fdk::aacEncOpen(&mut handle, MODULE_AAC, channels) })?;
        // From here `Drop` closes the handle on every error path.
        let mut encoder = AacLcEncoder { handle, asc: Bytes::new(), delay: 0 };
        let params = [
            (fdk::AACENC_PARAM_AACENC_AOT, fdk::AUDIO_OBJECT_TYPE_AOT_AAC_LC as u32),
            (fdk::AACENC_PARAM_AACENC_BITRATEMODE, 0), // constant bit rate
            (fdk::AACENC_PARAM_AACENC_BITRATE, bitrate),
            (fdk::AACENC_PARAM_AACENC_SAMPLERATE, sample_rate),
            (fdk::AACENC_PARAM_AACENC_TRANSMUX, 0), // raw access units
            (fdk::AACENC_PARAM_AACENC_CHANNELMODE, channels),
        ];
        for (param, value) in params {
            check("aacEncoder_SetParam", unsafe { fdk::aacEncoder_SetParam(encoder.handle, param, value) })?;
        }
        // A call with no buffers applies the parameters (fdk's documented initialisation).
        let init = unsafe {
            fdk::aacEncEncode(
                encoder.handle,
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null_mut(),
            )
        };
        check("aacEncEncode (init)", init)?;
        let mut info = std::mem::MaybeUninit::<fdk::AACENC_InfoStruct>::zeroed();
        check("aacEncInfo", unsafe { fdk::aacEncInfo(encoder.handle, info.as_mut_ptr()) })?;
        // Zeroed and then filled by the library: every field is a plain integer or byte array.
        let info = unsafe { info.assume_init() };
        let size = (info.confSize as usize).min(info.confBuf.len());
        encoder.asc = Bytes::copy_from_slice(&info.confBuf[..size]);
        encoder.delay = info.nDelay;
        Ok(encoder)
    }

    /// The AudioSpecificConfig of the output.
    pub fn asc(&self) -> Bytes {
        self.asc.clone()
    }

    /// How many samples (per channel) the output lags the input: its first frames are priming.
    pub fn delay(&self) -> u32 {
        self.delay
    }

    /// Encodes one frame of interleaved PCM (`FRAME_SAMPLES` per channel) into `out`; gives the
    /// bytes written (0 while the encoder fills its delay).
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, FdkError> {
        let mut in_ptr = pcm.as_ptr() as *mut c_void;
        let mut in_id = fdk::AACENC_BufferIdentifier_IN_AUDIO_DATA as c_int;
        let mut in_size = std::mem::size_of_val(pcm).min(c_int::MAX as usize) as c_int;
        let mut in_el_size = std::mem::size_of::<i16>() as c_int;
        let input = fdk::AACENC_BufDesc {
            numBufs: 1,
            bufs: &mut in_ptr,
            bufferIdentifiers: &mut in_id,
            bufSizes: &mut in_size,
            bufElSizes: &mut in_el_size,
        };
        let mut out_ptr = out.as_mut_ptr() as *mut c_void;
        let mut out_id = fdk::AACENC_BufferIdentifier_OUT_BITSTREAM_DATA as c_int;
        let mut out_size = out.len().min(c_int::MAX as usize) as c_int;
        let mut out_el_size = 1;
        let output = fdk::AACENC_BufDesc {
            numBufs: 1,
            bufs: &mut out_ptr,
            bufferIdentifiers: &mut out_id,
            bufSizes: &mut out_size,
            bufElSizes: &mut out_el_size,
        };
        let args =
            fdk::AACENC_InArgs { numInSamples: pcm.len().min(c_int::MAX as usize) as c_int, numAncBytes: 0 };
        let mut result =
            fdk::AACENC_OutArgs { numOutBytes: 0, numInSamples: 0, numAncBytes: 0, bitResState: 0 };
        // The descriptors point at locals and at `pcm`/`out`, all alive for the call; fdk reads at
        // most `in_size` bytes and writes at most `out_size`.
        check("aacEncEncode", unsafe {
            fdk::aacEncEncode(self.handle, &input, &output, &args, &mut result)
        })?;
        Ok(usize::try_from(result.numOutBytes).unwrap_or(0).min(out.len()))
    }
}

impl Drop for AacLcEncoder {
    fn drop(&mut self) {
        // Closing sets the handle to null; a failure leaves nothing to do.
        let _ = unsafe { fdk::aacEncClose(&mut self.handle) };
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codec::aac::AudioSpecificConfig;

    #[test]
    fn lc_alone_holds_1600_samples_and_writes_frames() {
        let mut encoder = AacLcEncoder::new(48_000, 2, 48_000).unwrap();
        // 1024 (MDCT overlap) + 576 (block-switching look-ahead): the metadata module's 448 are gone.
        assert_eq!(encoder.delay(), 1600);
        let asc = AudioSpecificConfig::parse(&encoder.asc()).unwrap();
        assert_eq!((asc.object_type, asc.sample_rate, asc.channels), (2, 48_000, 2));
        let tone: Vec<i16> = (0..FRAME_SAMPLES * 8)
            .flat_map(|n| {
                let s = ((n as f64 * 1000.0 * std::f64::consts::TAU / 48_000.0).sin() * 8_000.0) as i16;
                [s, s]
            })
            .collect();
        let mut out = vec![0u8; 8192];
        let sizes: Vec<usize> = tone
            .chunks_exact(FRAME_SAMPLES * 2)
            .map(|frame| encoder.encode(frame, &mut out).unwrap())
            .collect();
        // At 48 kbit/s a 21.3 ms frame is about 128 bytes; the first may be held back.
        assert!(sizes.iter().filter(|&&n| n > 0).count() >= 7, "{sizes:?}");
        assert!(sizes.iter().all(|&n| n < 1024), "{sizes:?}");
    }

    /// Twelve frames of stereo silence but for a click of 48 samples at sample `click_at`.
    pub(crate) fn click_pcm(click_at: usize) -> Vec<i16> {
        (0..FRAME_SAMPLES * 12)
            .flat_map(|n| {
                let s = if (click_at..click_at + 48).contains(&n) { 20_000 } else { 0 };
                [s, s]
            })
            .collect()
    }

    /// Where a click at a known input sample comes out of fdk's decoder, for frames made by
    /// `encode` (one call per 1024-sample stereo frame).
    fn click_onset(asc: &[u8], mut encode: impl FnMut(&[i16], &mut [u8]) -> usize) -> usize {
        let mut decoder = fdk_aac::dec::Decoder::new(fdk_aac::dec::Transport::Raw);
        decoder.config_raw(asc).unwrap();
        let pcm = click_pcm(5 * FRAME_SAMPLES + 300);
        let (mut out, mut frame, mut decoded) = (vec![0u8; 8192], vec![0i16; FRAME_SAMPLES * 2], Vec::new());
        for chunk in pcm.chunks_exact(FRAME_SAMPLES * 2) {
            let n = encode(chunk, &mut out);
            assert!(n > 0, "an encoder that withholds frames would shift the count");
            decoder.fill(&out[..n]).unwrap();
            decoder.decode_frame(&mut frame).unwrap();
            decoded.extend(frame.iter().step_by(2).copied());
        }
        decoded.iter().position(|s| s.unsigned_abs() > 5_000).unwrap()
    }

    /// The 448 samples are real: a click comes out of the AAC-only encoder exactly that much
    /// earlier than out of the `fdk-aac` crate's (every module), as their reported delays say.
    #[test]
    fn the_output_is_earlier_by_the_delay_saved() {
        let mut ours = AacLcEncoder::new(48_000, 2, 128_000).unwrap();
        let theirs = fdk_aac::enc::Encoder::new(fdk_aac::enc::EncoderParams {
            bit_rate: fdk_aac::enc::BitRate::Cbr(128_000),
            sample_rate: 48_000,
            transport: fdk_aac::enc::Transport::Raw,
            channels: fdk_aac::enc::ChannelMode::Stereo,
            audio_object_type: fdk_aac::enc::AudioObjectType::Mpeg4LowComplexity,
        })
        .unwrap();
        let info = theirs.info().unwrap();
        assert_eq!(info.nDelay, 2048);
        let ours_at = click_onset(&ours.asc(), |pcm, out| ours.encode(pcm, out).unwrap());
        let theirs_at = click_onset(&info.confBuf[..info.confSize as usize], |pcm, out| {
            theirs.encode(pcm, out).unwrap().output_size
        });
        assert_eq!(theirs_at - ours_at, 2048 - 1600);
    }
}
