//! Placeholder

pub mod flv_frames;
