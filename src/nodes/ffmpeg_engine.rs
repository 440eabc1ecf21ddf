//! `FfmpegEngine`: one FFmpeg encoding setup as SRS's `engine NAME { ... }` block (a `Transcode`
//! rendition; srs.conf's `ingest` engine becomes an `Ingest`'s FFmpeg arguments), and the command line it gives,
//! in SRS's argument order: `[perfile] -f iformat -i input [vfilter] video audio -f oformat -y output`.

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

/// A `-name value` pair of `perfile`, `vfilter`, `vparams`, `aparams`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub struct Param {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// The engine's name: `[engine]` in `output` (`[stream]_[engine]`); may be empty, as in SRS.
    pub name: String,
    /// A disabled engine copies both tracks (SRS).
    pub enabled: bool,
    /// `libx264`, `libx265`, `png`, `copy` or `vn` (no video); empty means `copy`.
    pub vcodec: String,
    /// kbps (0: FFmpeg's choice).
    pub vbitrate: u64,
    pub vfps: u64,
    pub vwidth: u64,
    pub vheight: u64,
    pub vthreads: u64,
    pub vprofile: String,
    pub vpreset: String,
    pub vparams: Vec<Param>,
    /// `aac`, `libfdk_aac`, `libmp3lame`, `libopus`, `copy` or `an` (no audio); empty means `copy`.
    pub acodec: String,
    /// kbps.
    pub abitrate: u64,
    pub asample_rate: u64,
    pub achannels: u64,
    pub aparams: Vec<Param>,
    /// Arguments before `-i`.
    pub perfile: Vec<Param>,
    /// Arguments between `-i` and the video codec.
    pub vfilter: Vec<Param>,
    /// The input format (`-f`), `off` for none.
    pub iformat: String,
    /// The output format (`-f`), `off` for none.
    pub oformat: String,
    /// Where FFmpeg publishes, with `[vhost] [port] [app] [stream] [engine] [param]`.
    pub output: String,
}

/// Video encoders whose output RTMP/FLV carries, plus SRS's `png`.
const VIDEO_CODECS: &[&str] =
    &["copy", "vn", "libx264", "libx265", "libopenh264", "libsvtav1", "libaom-av1", "png"];
const AUDIO_CODECS: &[&str] = &["copy", "an", "aac", "libfdk_aac", "libmp3lame", "libopus"];

impl Config {
    /// The video codec FFmpeg is given (`copy` when disabled or unset).
    pub fn video_codec(&self) -> &str {
        if !self.enabled || self.vcodec.is_empty() {
            "copy"
        } else {
            &self.vcodec
        }
    }

    pub fn audio_codec(&self) -> &str {
        if !self.enabled || self.acodec.is_empty() {
            "copy"
        } else {
            &self.acodec
        }
    }

    /// Unknown codecs are refused naming the engine and the field.
    pub fn validate(&self) -> Result<(), String> {
        if !VIDEO_CODECS.contains(&self.video_codec()) {
            return Err(format!(
                "engine `{}`: field `vcodec`: unknown codec `{}` (known: {})",
                self.name,
                self.vcodec,
                VIDEO_CODECS.join(", ")
            ));
        }
        if !AUDIO_CODECS.contains(&self.audio_codec()) {
            return Err(format!(
                "engine `{}`: field `acodec`: unknown codec `{}` (known: {})",
                self.name,
                self.acodec,
                AUDIO_CODECS.join(", ")
            ));
        }
        if self.video_codec() == "vn" && self.audio_codec() == "an" {
            return Err(format!("engine `{}`: `vn` and `an` together leave nothing to output", self.name));
        }
        Ok(())
    }

    /// FFmpeg's arguments (without the program) reading `input` and writing `output`.
    pub fn args(&self, input: &str, output: &str) -> Vec<String> {
        let mut args: Vec<String> = vec!["-hide_banner".into(), "-nostats".into()];
        args.extend(self.input_args());
        args.extend(["-i".into(), input.to_owned()]);
        args.extend(self.codec_args());
        if !self.oformat.is_empty() && self.oformat != "off" {
            args.extend(["-f".into(), self.oformat.clone()]);
        }
        args.extend(["-y".into(), output.to_owned()]);
        args
    }

    /// What goes before `-i`: `perfile`, then `-f iformat`.
    pub fn input_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        push_params(&mut args, &self.perfile);
        if !self.iformat.is_empty() && self.iformat != "off" {
            args.extend(["-f".into(), self.iformat.clone()]);
        }
        args
    }

    /// What goes between the input and the output format: `vfilter`, the video, the audio.
    pub fn codec_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        push_params(&mut args, &self.vfilter);
        match self.video_codec() {
            "vn" => args.push("-vn".into()),
            "copy" => args.extend(["-vcodec".into(), "copy".into()]),
            codec => {
                args.extend(["-vcodec".into(), codec.to_owned()]);
                push_number(&mut args, "-b:v", self.vbitrate, "k");
                push_number(&mut args, "-r", self.vfps, "");
                if self.vwidth > 0 && self.vheight > 0 {
                    args.extend(["-s".into(), format!("{}x{}", self.vwidth, self.vheight)]);
                }
                push_text(&mut args, "-profile:v", &self.vprofile);
                push_text(&mut args, "-preset", &self.vpreset);
                push_number(&mut args, "-threads", self.vthreads, "");
                push_params(&mut args, &self.vparams);
            }
        }
        match self.audio_codec() {
            "an" => args.push("-an".into()),
            "copy" => args.extend(["-acodec".into(), "copy".into()]),
            codec => {
                args.extend(["-acodec".into(), codec.to_owned()]);
                push_number(&mut args, "-b:a", self.abitrate, "k");
                push_number(&mut args, "-ar", self.asample_rate, "");
                push_number(&mut args, "-ac", self.achannels, "");
                push_params(&mut args, &self.aparams);
            }
        }
        args
    }
}

fn push_params(args: &mut Vec<String>, params: &[Param]) {
    for param in params {
        args.push(format!("-{}", param.name.trim_start_matches('-')));
        if !param.value.is_empty() {
            args.push(param.value.clone());
        }
    }
}

fn push_number(args: &mut Vec<String>, flag: &str, value: u64, unit: &str) {
    if value > 0 {
        args.extend([flag.to_owned(), format!("{value}{unit}")]);
    }
}

fn push_text(args: &mut Vec<String>, flag: &str, value: &str) {
    if !value.is_empty() {
        args.extend([flag.to_owned(), value.to_owned()]);
    }
}

/// An engine that copies both tracks (`enabled = False`), reading `iformat`.
pub fn copying(name: &str, iformat: &str) -> Config {
    Config { enabled: false, iformat: iformat.into(), ..engine(name) }
}

/// An enabled engine with nothing set (every codec copies until one is named).
pub fn engine(name: &str) -> Config {
    Config {
        name: name.into(),
        enabled: true,
        vcodec: String::new(),
        vbitrate: 0,
        vfps: 0,
        vwidth: 0,
        vheight: 0,
        vthreads: 0,
        vprofile: String::new(),
        vpreset: String::new(),
        vparams: Vec::new(),
        acodec: String::new(),
        abitrate: 0,
        asample_rate: 0,
        achannels: 0,
        aparams: Vec::new(),
        perfile: Vec::new(),
        vfilter: Vec::new(),
        iformat: "flv".into(),
        oformat: "flv".into(),
        output: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_engine_gives_srs_argument_order() {
        let config = Config {
            vcodec: "libx264".into(),
            vbitrate: 300,
            vfps: 25,
            vwidth: 320,
            vheight: 180,
            vthreads: 2,
            vprofile: "main".into(),
            vpreset: "superfast".into(),
            vparams: vec![Param { name: "g".into(), value: "50".into() }],
            acodec: "aac".into(),
            abitrate: 64,
            asample_rate: 44100,
            achannels: 2,
            ..engine("sd")
        };
        assert_eq!(
            config.args("rtmp://in", "rtmp://out").join(" "),
            "-hide_banner -nostats -f flv -i rtmp://in -vcodec libx264 -b:v 300k -r 25 -s 320x180 \
             -profile:v main -preset superfast -threads 2 -g 50 -acodec aac -b:a 64k -ar 44100 -ac 2 \
             -f flv -y rtmp://out"
        );
    }

    #[test]
    fn disabled_or_empty_codecs_copy_and_vn_an_drop_tracks() {
        let disabled = Config { enabled: false, vcodec: "libx264".into(), ..engine("c") };
        assert!(disabled.args("i", "o").join(" ").contains("-vcodec copy -acodec copy"));
        let audio_only = Config { vcodec: "vn".into(), acodec: "copy".into(), ..engine("a") };
        assert!(audio_only.args("i", "o").join(" ").contains("-vn -acodec copy"));
    }

    #[test]
    fn unknown_codecs_are_refused_naming_engine_and_field() {
        let bad = Config { vcodec: "libx999".into(), ..engine("hd") };
        let message = bad.validate().unwrap_err();
        assert!(
            message.contains("engine `hd`") && message.contains("`vcodec`") && message.contains("libx999")
        );
        let bad = Config { acodec: "pcm".into(), ..engine("hd") };
        assert!(bad.validate().unwrap_err().contains("`acodec`"));
        assert!(engine("ok").validate().is_ok());
    }
}
