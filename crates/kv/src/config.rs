//! Topology and model parameters: colos, propagation delay, read-your-writes, cache TTL.

use edgesim_core::SimRng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole KV model's configuration: topology, delays and the namespaces that exist.
///
/// Deserialises from TOML/JSON with every field optional (defaults as [`KvConfig::default`])
/// and unknown fields rejected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KvConfig {
    /// The colos (edge locations), each with its own cache.
    pub colos: Vec<ColoConfig>,
    /// Delay from a write at a colo until it lands at central.
    pub propagation: Delay,
    /// Whether the writing colo sees its own write at once.
    pub read_your_writes: ReadYourWrites,
    /// The `cacheTtl` a read gets when it names none (production: 60 s).
    pub default_cache_ttl_s: u64,
    /// Model the regional/central cache tier: a miss for a key that is hot there costs half
    /// the colo's latency to central. Its content always equals central's (writes revalidate it).
    pub regional_tier: bool,
    /// Binding names of the namespaces (e.g. `ARTICLES`).
    pub namespaces: Vec<String>,
    /// Per-namespace overrides of propagation, read-your-writes and default cacheTtl.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub namespace_overrides: BTreeMap<String, NamespaceOverride>,
}

/// Settings one namespace may set differently from the store-wide ones.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NamespaceOverride {
    /// Replaces [`KvConfig::propagation`].
    pub propagation: Option<Delay>,
    /// Replaces [`KvConfig::read_your_writes`].
    pub read_your_writes: Option<ReadYourWrites>,
    /// Replaces [`KvConfig::default_cache_ttl_s`].
    pub default_cache_ttl_s: Option<u64>,
}

/// The effective model parameters of one namespace.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct NamespaceParams {
    /// Delay from a write until it lands at central.
    pub propagation: Delay,
    /// Whether the writer sees its write at once.
    pub read_your_writes: ReadYourWrites,
    /// `cacheTtl` of reads that name none, seconds.
    pub default_cache_ttl_s: u64,
}

impl NamespaceParams {
    /// Longest time from a write until every colo serves it (no faults, default cacheTtl).
    pub fn convergence_bound_ms(&self) -> u64 {
        self.propagation
            .max_ms()
            .saturating_add(self.default_cache_ttl_s.saturating_mul(1000))
    }
}

impl Default for KvConfig {
    fn default() -> Self {
        Self {
            colos: [
                ("SYD", 150),
                ("FRA", 20),
                ("IAD", 10),
                ("NRT", 110),
                ("GRU", 120),
            ]
            .into_iter()
            .map(|(name, ms)| ColoConfig::new(name, ms))
            .collect(),
            propagation: Delay::Uniform {
                min_ms: 100,
                max_ms: 2_000,
            },
            read_your_writes: ReadYourWrites::On,
            default_cache_ttl_s: crate::limits::DEFAULT_CACHE_TTL_S,
            regional_tier: false,
            namespaces: vec!["ARTICLES".to_string()],
            namespace_overrides: BTreeMap::new(),
        }
    }
}

impl KvConfig {
    /// The largest propagation delay this configuration can draw (any namespace), in ms.
    pub fn max_propagation_ms(&self) -> u64 {
        self.namespaces
            .iter()
            .map(|n| self.params_for(n).propagation.max_ms())
            .fold(self.propagation.max_ms(), u64::max)
    }

    /// The effective parameters of namespace `binding` (store-wide ones unless overridden).
    pub fn params_for(&self, binding: &str) -> NamespaceParams {
        let o = self.namespace_overrides.get(binding);
        NamespaceParams {
            propagation: o.and_then(|o| o.propagation).unwrap_or(self.propagation),
            read_your_writes: o
                .and_then(|o| o.read_your_writes)
                .unwrap_or(self.read_your_writes),
            default_cache_ttl_s: o
                .and_then(|o| o.default_cache_ttl_s)
                .unwrap_or(self.default_cache_ttl_s),
        }
    }
}

/// One edge location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColoConfig {
    /// Three-letter code such as `SYD`.
    pub name: String,
    /// One-way cost of a read or write that goes to central, in ms.
    pub latency_to_central_ms: u64,
}

impl ColoConfig {
    /// A colo called `name` at `latency_to_central_ms` from central.
    pub fn new(name: &str, latency_to_central_ms: u64) -> Self {
        Self {
            name: name.to_string(),
            latency_to_central_ms,
        }
    }
}

/// A delay distribution in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Delay {
    /// Always `ms`.
    Fixed { ms: u64 },
    /// Uniform in `[min_ms, max_ms]`.
    Uniform { min_ms: u64, max_ms: u64 },
    /// Lognormal around `median_ms` with shape `sigma`, capped at `max_ms`.
    LogNormal {
        median_ms: u64,
        sigma: f64,
        max_ms: u64,
    },
}

impl Delay {
    /// Draws one delay. `Fixed` draws nothing from `rng`.
    pub fn sample(&self, rng: &mut SimRng) -> u64 {
        match *self {
            Delay::Fixed { ms } => ms,
            Delay::Uniform { min_ms, max_ms } => rng.range_u64(min_ms, max_ms),
            Delay::LogNormal {
                median_ms,
                sigma,
                max_ms,
            } => {
                let x = (median_ms as f64) * (sigma * rng.normal()).exp();
                if x.is_finite() && x > 0.0 {
                    (x.round() as u64).min(max_ms)
                } else {
                    max_ms.min(median_ms)
                }
            }
        }
    }

    /// The largest value [`Delay::sample`] can return.
    pub fn max_ms(&self) -> u64 {
        match *self {
            Delay::Fixed { ms } => ms,
            Delay::Uniform { min_ms, max_ms } => min_ms.max(max_ms),
            Delay::LogNormal { max_ms, .. } => max_ms,
        }
    }
}

/// Whether a write is visible at once at the colo that made it.
///
/// Production: "usually immediately visible ... however, this is not guaranteed".
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadYourWrites {
    /// The writing colo's cache is updated with the write.
    On,
    /// The writing colo's cache is left alone; it sees the write like any other colo.
    Off,
    /// `On` with this probability per write (drawn from the injected RNG).
    Probability(f64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_in_bounds() {
        let mut rng = SimRng::from_seed(3);
        let u = Delay::Uniform {
            min_ms: 10,
            max_ms: 20,
        };
        let l = Delay::LogNormal {
            median_ms: 500,
            sigma: 1.5,
            max_ms: 4_000,
        };
        for _ in 0..1000 {
            assert!((10..=20).contains(&u.sample(&mut rng)));
            assert!(l.sample(&mut rng) <= 4_000);
        }
        assert_eq!(Delay::Fixed { ms: 7 }.sample(&mut rng), 7);
        assert_eq!(l.max_ms(), 4_000);
    }

    #[test]
    fn deserialises_partially_and_rejects_unknown_fields() {
        let c: KvConfig = serde_json::from_value(serde_json::json!({
            "propagation": {"kind": "log_normal", "median_ms": 800, "sigma": 0.5, "max_ms": 5000},
            "read_your_writes": {"probability": 0.9},
        }))
        .unwrap();
        assert_eq!(c.read_your_writes, ReadYourWrites::Probability(0.9));
        assert_eq!(c.propagation.max_ms(), 5000);
        assert_eq!(c.colos.len(), 5);
        let e = serde_json::from_value::<KvConfig>(serde_json::json!({"colo": []})).unwrap_err();
        assert!(e.to_string().contains("unknown field `colo`"), "{e}");
    }

    #[test]
    fn default_has_five_colos_and_articles() {
        let c = KvConfig::default();
        let names: Vec<_> = c.colos.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["SYD", "FRA", "IAD", "NRT", "GRU"]);
        assert_eq!(c.namespaces, ["ARTICLES"]);
        assert_eq!(c.default_cache_ttl_s, 60);
    }
}
