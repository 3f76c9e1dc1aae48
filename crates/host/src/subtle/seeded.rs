//! A random-number generator made from the guest's random bytes, for the operations whose
//! algorithms draw randomness (RSA key generation, RSA-PSS salts, RSA-OAEP seeds).
//!
//! The guest's `crypto.getRandomValues` is seeded per invocation (deterministic under
//! simulation), so the host never draws from the OS: the shim sends 32 random bytes and this
//! generator stretches them (SHA-256 of the seed and a block counter).

use rsa::rand_core::{CryptoRng, Error, RngCore};
use sha2::{Digest, Sha256};

/// A deterministic stream of bytes from a seed.
pub(super) struct Seeded {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl Seeded {
    /// The generator of `seed` (any length; hashed to 32 bytes).
    pub(super) fn new(seed: &[u8]) -> Seeded {
        Seeded {
            seed: Sha256::digest(seed).into(),
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    fn refill(&mut self) {
        let mut h = Sha256::new();
        h.update(self.seed);
        h.update(self.counter.to_le_bytes());
        self.block = h.finalize().into();
        self.counter += 1;
        self.used = 0;
    }
}

impl RngCore for Seeded {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for byte in dest {
            if self.used == self.block.len() {
                self.refill();
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Seeded {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_stream_and_another_seed_another() {
        let draw = |seed: &[u8]| {
            let mut r = Seeded::new(seed);
            let mut out = [0u8; 70];
            r.fill_bytes(&mut out);
            out
        };
        assert_eq!(draw(b"a"), draw(b"a"));
        assert_ne!(draw(b"a"), draw(b"b"));
        let a = draw(b"a");
        assert_ne!(a[..32], a[32..64]);
    }
}
