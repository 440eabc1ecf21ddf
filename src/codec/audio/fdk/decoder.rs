//! fdk-aac's decoder for raw AAC frames (LC, HE-AAC, HE-AACv2), set up for a live bridge: no
//! limiter and concealment by noise substitution. fdk's defaults delay the output by 38 ms at
//! 44.1 kHz (its limiter looks 15 ms ahead, and "energy interpolation" concealment holds one whole
//! frame back) and the `fdk-aac` crate cannot change them; the limiter was also 0.04 % of a core
//! per bridged stream in `perf`. Interleaved 16-bit PCM out, at most `max_channels` channels.

use std::os::raw::c_int;

use fdk_aac_sys as fdk;

use super::{check, FdkError};

/// Concealment by noise substitution: a lost frame is filled from the last good spectrum, with no
/// frame held back (fdk's `CConcealment_GetDelay` is 0 for it).
const CONCEAL_NOISE_SUBSTITUTION: c_int = 1;

/// What one decoded frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedFrame {
    pub sample_rate: u32,
    pub channels: usize,
    /// Samples per channel written.
    pub samples: usize,
    /// How many samples (per channel) fdk's output lags its input (SBR's delay, for HE-AAC).
    pub output_delay: u32,
}

/// One stream's AAC decoder.
pub struct AacDecoder {
    handle: fdk::HANDLE_AACDECODER,
}

// The handle is owned by this value alone and used through `&mut self`; fdk's decoder keeps no
// thread-local state.
unsafe impl Send for AacDecoder {}

impl std::fmt::Debug for AacDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AacDecoder").finish_non_exhaustive()
    }
}

impl AacDecoder {
    /// A decoder of the stream whose AudioSpecificConfig is `asc`, down-mixing to at most
    /// `max_channels`.
    pub fn new(asc: &[u8], max_channels: usize) -> Result<AacDecoder, FdkError> {
        // fdk takes an empty configuration and fails only at the first frame.
        if asc.len() < 2 {
            return Err(FdkError {
                call: "aacDecoder_ConfigRaw",
                code: fdk::AAC_DECODER_ERROR_AAC_DEC_UNSUPPORTED_FORMAT,
            });
        }
        let handle = unsafe { fdk::aacDecoder_Open(fdk::TRANSPORT_TYPE_TT_MP4_RAW, 1) };
        if handle.is_null() {
            return Err(FdkError {
                call: "aacDecoder_Open",
                code: fdk::AAC_DECODER_ERROR_AAC_DEC_OUT_OF_MEMORY,
            });
        }
        // From here `Drop` closes the handle on every error path.
        let decoder = AacDecoder { handle };
        let mut conf = asc.as_ptr().cast_mut();
        let length = u32::try_from(asc.len()).unwrap_or(u32::MAX);
        // fdk reads at most `length` bytes of the configuration and does not write them.
        check("aacDecoder_ConfigRaw", unsafe {
            fdk::aacDecoder_ConfigRaw(decoder.handle, &mut conf, &length)
        })?;
        let max_channels = c_int::try_from(max_channels).unwrap_or(c_int::MAX);
        let params = [
            (fdk::AACDEC_PARAM_AAC_PCM_MAX_OUTPUT_CHANNELS, max_channels),
            (fdk::AACDEC_PARAM_AAC_PCM_LIMITER_ENABLE, 0),
            (fdk::AACDEC_PARAM_AAC_CONCEAL_METHOD, CONCEAL_NOISE_SUBSTITUTION),
        ];
        for (param, value) in params {
            check("aacDecoder_SetParam", unsafe { fdk::aacDecoder_SetParam(decoder.handle, param, value) })?;
        }
        Ok(decoder)
    }

    /// Decodes one raw AAC frame into `pcm` (interleaved).
    pub fn decode(&mut self, frame: &[u8], pcm: &mut [i16]) -> Result<DecodedFrame, FdkError> {
        let mut data = frame.as_ptr().cast_mut();
        let size = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let mut valid = size;
        // fdk copies at most `size` bytes of `frame` into its own buffer and writes none of them.
        check("aacDecoder_Fill", unsafe { fdk::aacDecoder_Fill(self.handle, &mut data, &size, &mut valid) })?;
        let capacity = c_int::try_from(pcm.len()).unwrap_or(c_int::MAX);
        // fdk writes at most `capacity` samples to `pcm`.
        check("aacDecoder_DecodeFrame", unsafe {
            fdk::aacDecoder_DecodeFrame(self.handle, pcm.as_mut_ptr(), capacity, 0)
        })?;
        // The decoder's own info block, valid while the handle is; its fields are copied out.
        let info = unsafe { fdk::aacDecoder_GetStreamInfo(self.handle).as_ref() }.ok_or(FdkError {
            call: "aacDecoder_GetStreamInfo",
            code: fdk::AAC_DECODER_ERROR_AAC_DEC_UNKNOWN,
        })?;
        let channels = usize::try_from(info.numChannels).unwrap_or(0);
        let samples = usize::try_from(info.frameSize).unwrap_or(0).min(pcm.len() / channels.max(1));
        Ok(DecodedFrame {
            sample_rate: u32::try_from(info.sampleRate).unwrap_or(0),
            channels,
            samples,
            output_delay: info.outputDelay,
        })
    }
}

impl Drop for AacDecoder {
    fn drop(&mut self) {
        unsafe { fdk::aacDecoder_Close(self.handle) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::audio::fdk::encoder::tests::click_pcm;
    use crate::codec::audio::fdk::encoder::{AacLcEncoder, FRAME_SAMPLES};

    /// Frames of a click at `click_at` (stereo, 48 kHz), through the AAC-only encoder.
    fn click_frames(click_at: usize) -> (bytes::Bytes, Vec<Vec<u8>>, u32) {
        let mut encoder = AacLcEncoder::new(48_000, 2, 128_000).unwrap();
        let pcm = click_pcm(click_at);
        let mut out = vec![0u8; 8192];
        let frames = pcm
            .chunks_exact(FRAME_SAMPLES * 2)
            .map(|chunk| {
                let n = encoder.encode(chunk, &mut out).unwrap();
                out[..n].to_vec()
            })
            .collect();
        (encoder.asc(), frames, encoder.delay())
    }

    fn onset(decoded: &[i16]) -> usize {
        decoded.iter().step_by(2).position(|s| s.unsigned_abs() > 5_000).unwrap()
    }

    /// A click comes out exactly the encoder's delay later: the decoder adds none (fdk's defaults
    /// add a frame for concealment and 15 ms for the limiter, as the crate's decoder shows).
    #[test]
    fn the_decoder_adds_no_delay_where_fdks_defaults_add_a_frame_and_the_limiter() {
        let click_at = 5 * FRAME_SAMPLES + 300;
        let (asc, frames, encoder_delay) = click_frames(click_at);
        let mut ours = AacDecoder::new(&asc, 2).unwrap();
        let mut theirs = fdk_aac::dec::Decoder::new(fdk_aac::dec::Transport::Raw);
        theirs.config_raw(&asc).unwrap();
        let (mut ours_pcm, mut theirs_pcm, mut frame) =
            (Vec::new(), Vec::new(), vec![0i16; FRAME_SAMPLES * 2]);
        for data in &frames {
            let decoded = ours.decode(data, &mut frame).unwrap();
            assert_eq!((decoded.sample_rate, decoded.channels, decoded.samples), (48_000, 2, FRAME_SAMPLES));
            assert_eq!(decoded.output_delay, 0);
            ours_pcm.extend_from_slice(&frame[..decoded.samples * 2]);
            theirs.fill(data).unwrap();
            theirs.decode_frame(&mut frame).unwrap();
            theirs_pcm.extend_from_slice(&frame);
        }
        assert_eq!(onset(&ours_pcm), click_at + encoder_delay as usize);
        let theirs_delay = theirs.stream_info().outputDelay as usize;
        assert_eq!(theirs_delay, FRAME_SAMPLES + 48_000 * 15 / 1000, "fdk's defaults: a frame and 15 ms");
        assert_eq!(onset(&theirs_pcm), onset(&ours_pcm) + theirs_delay);
    }

    #[test]
    fn mono_is_decoded_and_garbage_is_an_error_the_stream_survives() {
        let mut encoder = AacLcEncoder::new(44_100, 1, 64_000).unwrap();
        let mut decoder = AacDecoder::new(&encoder.asc(), 2).unwrap();
        let (mut out, mut pcm) = (vec![0u8; 4096], vec![0i16; FRAME_SAMPLES * 2]);
        let frames: Vec<Vec<u8>> = (0..6)
            .filter_map(|_| {
                let n = encoder.encode(&[1000; FRAME_SAMPLES], &mut out).unwrap();
                (n > 0).then(|| out[..n].to_vec())
            })
            .collect();
        assert!(frames.len() >= 4);
        for (i, frame) in frames.iter().enumerate() {
            if i == 2 {
                let garbage = decoder.decode(&[0xff; 7], &mut pcm);
                assert_eq!(garbage.map_err(|e| e.call), Err("aacDecoder_DecodeFrame"));
            }
            let decoded = decoder.decode(frame, &mut pcm).unwrap();
            assert_eq!((decoded.sample_rate, decoded.channels, decoded.samples), (44_100, 1, FRAME_SAMPLES));
        }
        assert!(AacDecoder::new(&[], 2).is_err(), "no configuration");
    }
}
