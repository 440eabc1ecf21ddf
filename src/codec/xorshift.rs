//! xorshift64: a tiny deterministic generator for handshake filler bytes and the fuzz-style tests
//! of every codec. Never for secrets.

#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (zero, which would stay zero, is replaced).
    pub fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed })
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_is_the_classic_xorshift64() {
        let mut rng = XorShift::new(1);
        assert_eq!(rng.next_u64(), 1_082_269_761);
        assert_ne!(XorShift::new(0).next_u64(), 0, "a zero seed does not get stuck");
    }
}
