//! Streaming conversion from the input's sample rate to the model's, with `rubato`.
//!
//! Input is gathered into fixed-size chunks before it reaches the resampler, so the output
//! depends only on the samples, never on how they were split into calls: a file analysed in one
//! call and the same audio arriving in random host blocks give identical features.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

/// Input frames per resampler call.
const CHUNK_FRAMES: usize = 1024;

pub struct StreamResampler {
    /// `None` when input and output rates are equal: samples pass straight through.
    fft: Option<Fft<f32>>,
    /// Input waiting for a full chunk; capacity `CHUNK_FRAMES`.
    pending: Vec<f32>,
    /// Resampler output for one chunk; sized for the worst case up front.
    chunk_out: Vec<f32>,
    /// Leading output samples still to drop, so output sample 0 lines up with input sample 0.
    delay_left: usize,
    /// Input samples consumed; with `produced`, tells how long the flushed tail must be.
    consumed: u64,
    /// Output samples emitted.
    produced: u64,
    ratio: f64,
}

impl StreamResampler {
    pub fn new(input_rate: u32, output_rate: u32) -> Result<Self, String> {
        if input_rate == 0 {
            return Err("input sample rate is 0 Hz".into());
        }
        let ratio = output_rate as f64 / input_rate as f64;
        if input_rate == output_rate {
            return Ok(Self {
                fft: None,
                pending: Vec::new(),
                chunk_out: Vec::new(),
                delay_left: 0,
                consumed: 0,
                produced: 0,
                ratio,
            });
        }
        let fft = Fft::<f32>::new(input_rate as usize, output_rate as usize, CHUNK_FRAMES, 1, FixedSync::Input)
            .map_err(|e| format!("cannot resample {input_rate} Hz to {output_rate} Hz: {e}"))?;
        let chunk_out = vec![0.0; fft.output_frames_max()];
        let delay_left = fft.output_delay();
        Ok(Self {
            pending: Vec::with_capacity(fft.input_frames_max()),
            fft: Some(fft),
            chunk_out,
            delay_left,
            consumed: 0,
            produced: 0,
            ratio,
        })
    }

    /// Resamples `input`, appending whatever output is ready to `out`.
    pub fn push(&mut self, mut input: &[f32], out: &mut Vec<f32>) {
        if self.fft.is_none() {
            out.extend_from_slice(input);
            return;
        }
        while !input.is_empty() {
            let need = self.chunk_len() - self.pending.len();
            let take = need.min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() == self.chunk_len() {
                self.run_chunk(None, out);
            }
        }
    }

    /// Pushes the buffered remainder through (padded with silence) and emits exactly the
    /// output that corresponds to the input seen so far. Call once at the end of a stream.
    pub fn flush(&mut self, out: &mut Vec<f32>) {
        if self.fft.is_none() {
            return;
        }
        let expected = (self.consumed as f64 + self.pending.len() as f64) * self.ratio;
        let expected = expected.round() as u64;
        let mut partial = Some(self.pending.len());
        // The resampler's delay means the tail of real audio is still inside it: feed silence
        // until every expected output sample is out (bounded: the delay is a few chunks).
        for _ in 0..64 {
            if self.produced >= expected {
                break;
            }
            let before = out.len();
            self.run_chunk(partial.take().or(Some(0)), out);
            let overshoot = self.produced.saturating_sub(expected) as usize;
            out.truncate(out.len() - overshoot.min(out.len() - before));
            self.produced -= overshoot as u64;
        }
        self.pending.clear();
    }

    fn chunk_len(&self) -> usize {
        self.fft.as_ref().map_or(0, |f| f.input_frames_next())
    }

    fn run_chunk(&mut self, partial_len: Option<usize>, out: &mut Vec<f32>) {
        let fft = self.fft.as_mut().expect("only called when resampling");
        let frames = fft.input_frames_next();
        self.pending.resize(frames, 0.0);
        let input = InterleavedSlice::new(&self.pending[..], 1, frames).expect("sized above");
        let out_frames = self.chunk_out.len();
        let mut output = InterleavedSlice::new_mut(&mut self.chunk_out[..], 1, out_frames).expect("sized in new()");
        let indexing = partial_len.map(|len| Indexing {
            input_offset: 0,
            output_offset: 0,
            partial_len: Some(len),
            active_channels_mask: None,
        });
        let (_, written) = fft
            .process_into_buffer(&input, &mut output, indexing.as_ref())
            .expect("buffers sized from the resampler's own limits");
        self.consumed += partial_len.unwrap_or(frames) as u64;
        self.pending.clear();
        let skip = self.delay_left.min(written);
        self.delay_left -= skip;
        out.extend_from_slice(&self.chunk_out[skip..written]);
        self.produced += (written - skip) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, hz: f32, seconds: f32) -> Vec<f32> {
        let n = (rate as f32 * seconds) as usize;
        (0..n).map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin()).collect()
    }

    fn resample_in_blocks(input: &[f32], from: u32, to: u32, block: usize) -> Vec<f32> {
        let mut r = StreamResampler::new(from, to).unwrap();
        let mut out = Vec::new();
        for chunk in input.chunks(block.max(1)) {
            r.push(chunk, &mut out);
        }
        r.flush(&mut out);
        out
    }

    #[test]
    fn output_length_and_alignment_follow_the_ratio() {
        let input = sine(44100, 440.0, 1.0);
        let out = resample_in_blocks(&input, 44100, 16000, 512);
        assert_eq!(out.len(), 16000);
        // Aligned: the resampled sine matches the ideal one away from the edges. A whole-sample
        // offset would give errors of ~0.17 at 440 Hz / 16 kHz; rubato's delay is a whole number
        // of output samples, so what remains is a fraction of one (~0.03).
        let ideal = sine(16000, 440.0, 1.0);
        let err = out[2000..14000].iter().zip(&ideal[2000..14000]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(err < 0.05, "max error {err}");
    }

    #[test]
    fn block_size_does_not_change_the_output() {
        let input = sine(48000, 300.0, 0.7);
        let whole = resample_in_blocks(&input, 48000, 16000, input.len());
        for block in [1, 7, 64, 1000, 4096] {
            assert_eq!(resample_in_blocks(&input, 48000, 16000, block), whole, "block {block}");
        }
    }

    #[test]
    fn equal_rates_pass_through() {
        let input = sine(16000, 300.0, 0.1);
        assert_eq!(resample_in_blocks(&input, 16000, 16000, 33), input);
    }

    #[test]
    fn extreme_rates_work() {
        for rate in [8000, 768000] {
            let out = resample_in_blocks(&sine(rate, 200.0, 0.25), rate, 16000, 999);
            assert_eq!(out.len(), 4000, "{rate} Hz");
        }
    }
}
