//! Seeded webhook faults: for each delivery, whether and when it arrives (drop, delay,
//! duplicate, reorder), drawn from the `webhooks` RNG fork.

use crate::scenario::{RangeMs, WebhookFate, WebhookFaults};
use edgesim_core::SimRng;

/// A scripted override for the webhooks of one mutation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Override {
    /// Drop, duplicate or deliver.
    pub fate: WebhookFate,
    /// A fixed delay instead of a random one.
    pub delay_ms: Option<u64>,
}

/// What happens to one delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Delay of each copy that arrives: empty = dropped, two entries = duplicated.
    pub copies: Vec<u64>,
    /// Whether the first copy was held back to be overtaken.
    pub reordered: bool,
}

fn draw(rng: &mut SimRng, r: RangeMs) -> u64 {
    rng.range_u64(r.min, r.max)
}

/// Decides one delivery sent at `t_ms` (ms since start): random faults apply inside the window
/// `[from, to)`; an override with a non-default fate or delay wins. Draws the same number of
/// values whatever the outcome, so one decision never shifts the next.
pub fn decide(
    faults: &WebhookFaults,
    window: (u64, u64),
    ov: Override,
    rng: &mut SimRng,
    t_ms: u64,
) -> Decision {
    let in_window = (window.0..window.1).contains(&t_ms);
    let (u_drop, u_dup, u_re) = (rng.unit(), rng.unit(), rng.unit());
    let base = draw(rng, faults.delay_ms);
    let second = draw(rng, faults.delay_ms);
    let hold = draw(rng, faults.reorder_ms);
    let active = |p: f64, u: f64| in_window && u < p;
    let delay = ov.delay_ms.unwrap_or(base);
    match ov.fate {
        WebhookFate::Drop => Decision {
            copies: vec![],
            reordered: false,
        },
        WebhookFate::Duplicate => Decision {
            copies: vec![delay, delay + second],
            reordered: false,
        },
        WebhookFate::Deliver => {
            if ov.delay_ms.is_some() {
                return Decision {
                    copies: vec![delay],
                    reordered: false,
                };
            }
            if active(faults.drop, u_drop) {
                return Decision {
                    copies: vec![],
                    reordered: false,
                };
            }
            let reordered = active(faults.reorder, u_re);
            let first = if reordered { delay + hold } else { delay };
            let mut copies = vec![first];
            if active(faults.duplicate, u_dup) {
                copies.push(delay + second);
            }
            Decision { copies, reordered }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_windows_and_overrides() {
        let mut rng = SimRng::from_seed(1);
        let all = WebhookFaults {
            drop: 1.0,
            ..WebhookFaults::default()
        };
        assert!(
            decide(&all, (0, 100), Override::default(), &mut rng, 5)
                .copies
                .is_empty()
        );
        // Outside the window: delivered once, within the default delay.
        let d = decide(&all, (0, 100), Override::default(), &mut rng, 100);
        assert_eq!(d.copies.len(), 1);
        assert!((5..=50).contains(&d.copies[0]));
        let ov = Override {
            fate: WebhookFate::Deliver,
            delay_ms: Some(4_000),
        };
        assert_eq!(decide(&all, (0, 100), ov, &mut rng, 5).copies, vec![4_000]);
        let dup = Override {
            fate: WebhookFate::Duplicate,
            delay_ms: Some(10),
        };
        let d = decide(&WebhookFaults::default(), (0, 100), dup, &mut rng, 5);
        assert_eq!(d.copies.len(), 2);
        let re = WebhookFaults {
            reorder: 1.0,
            ..WebhookFaults::default()
        };
        let d = decide(&re, (0, 100), Override::default(), &mut rng, 5);
        assert!(d.reordered && d.copies[0] >= 1_500);
    }
}
