//! One seeded source of randomness, forked per component by name.

use rand::{Rng, RngCore, SeedableRng, TryRngCore};
use rand_chacha::ChaCha8Rng;

/// A seeded, portable RNG (ChaCha8). The same seed gives the same stream on every machine.
///
/// Components get their own stream with [`SimRng::fork`], so adding a random draw in one room
/// does not shift the draws of another.
#[derive(Clone, Debug)]
pub struct SimRng {
    seed: u64,
    inner: ChaCha8Rng,
}

impl SimRng {
    /// An RNG whose whole stream is fixed by `seed`.
    pub fn from_seed(seed: u64) -> Self {
        Self {
            seed,
            inner: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// An RNG seeded from the OS, for `edgesim dev`. Log [`SimRng::seed`] so a run can be replayed.
    pub fn from_os() -> Self {
        let mut buf = [0u8; 8];
        rand::rngs::OsRng.try_fill_bytes(&mut buf).ok();
        Self::from_seed(u64::from_le_bytes(buf))
    }

    /// The seed this RNG (or the root it was forked from) started with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// An independent stream for the component called `name`, fixed by the root seed and the name.
    pub fn fork(&self, name: &str) -> SimRng {
        // FNV-1a over the name, mixed with the root seed: stable across Rust versions.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ self.seed;
        for b in name.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        SimRng {
            seed: self.seed,
            inner: ChaCha8Rng::seed_from_u64(h),
        }
    }

    /// A uniformly random `u64`.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        self.inner.random::<f64>()
    }

    /// `true` with probability `p` (clamped to `[0, 1]`).
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            false
        } else if p >= 1.0 {
            true
        } else {
            self.unit() < p
        }
    }

    /// A uniform integer in `[lo, hi]` (inclusive); `lo` when the range is empty.
    pub fn range_u64(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            self.inner.random_range(lo..=hi)
        }
    }

    /// A standard normal draw (Box–Muller), for lognormal delays.
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

impl RngCore for SimRng {
    fn next_u32(&mut self) -> u32 {
        self.inner.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.inner.fill_bytes(dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_forks_differ() {
        let mut a = SimRng::from_seed(42);
        let mut b = SimRng::from_seed(42);
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mut k = SimRng::from_seed(42).fork("kv");
        let mut w = SimRng::from_seed(42).fork("webhooks");
        assert_ne!(k.next_u64(), w.next_u64());
        assert_ne!(
            SimRng::from_seed(43).next_u64(),
            SimRng::from_seed(42).next_u64()
        );
    }

    #[test]
    fn helpers_stay_in_range() {
        let mut r = SimRng::from_seed(1);
        for _ in 0..1000 {
            let x = r.range_u64(3, 9);
            assert!((3..=9).contains(&x));
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert!(!r.chance(0.0));
        assert!(r.chance(1.0));
        assert_eq!(r.range_u64(5, 5), 5);
    }
}
