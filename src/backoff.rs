//! Retry delays (docs/behaviour.md, section 4). Pure functions of the attempt number and a
//! random source, so tests check bounds and jitter on computed delays without waiting.

use std::time::Duration;

use rand::Rng;

use crate::settings::Timings;

/// Delay before the first retry after an established connection dropped: U(0, first_retry_max).
pub fn first_retry(t: &Timings, rng: &mut impl Rng) -> Duration {
    uniform(rng, Duration::ZERO, t.first_retry_max)
}

/// Delay before attempt `n` (n >= 1) after a failed attempt:
/// `base + U(0, min(cap, base * 2^n))`. The jitter is drawn after the cap.
pub fn after_failure(t: &Timings, n: u32, rng: &mut impl Rng) -> Duration {
    let exp = t
        .backoff_base
        .saturating_mul(1u32.checked_shl(n.min(31)).unwrap_or(u32::MAX));
    let span = exp.min(t.backoff_cap);
    t.backoff_base + uniform(rng, Duration::ZERO, span)
}

/// Delay between attempts while SUSPENDED: U(min, max).
pub fn suspended(t: &Timings, rng: &mut impl Rng) -> Duration {
    uniform(rng, t.suspended_retry_min, t.suspended_retry_max)
}

/// The larger of our delay and one the server asked for.
pub fn honour_server(ours: Duration, server: Option<Duration>) -> Duration {
    server.map_or(ours, |s| s.max(ours))
}

fn uniform(rng: &mut impl Rng, lo: Duration, hi: Duration) -> Duration {
    if hi <= lo {
        return lo;
    }
    let span = (hi - lo).as_micros() as u64;
    lo + Duration::from_micros(rng.gen_range(0..=span))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn bounds_hold_for_every_attempt() {
        let t = Timings::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..1000 {
            assert!(first_retry(&t, &mut rng) <= Duration::from_secs(1));
        }
        for n in 1..40 {
            let cap =
                Duration::from_millis(500 * (1u64 << n.min(20))).min(Duration::from_millis(29_500));
            for _ in 0..200 {
                let d = after_failure(&t, n, &mut rng);
                assert!(d >= Duration::from_millis(500), "attempt {n}: {d:?}");
                assert!(d <= Duration::from_millis(500) + cap, "attempt {n}: {d:?}");
            }
        }
        for _ in 0..200 {
            let d = suspended(&t, &mut rng);
            assert!(d >= Duration::from_secs(15) && d <= Duration::from_secs(30));
        }
    }

    #[test]
    fn jitter_spreads_delays() {
        // Without jitter every client would retry in lockstep.
        let t = Timings::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let delays: std::collections::HashSet<u128> = (0..100)
            .map(|_| after_failure(&t, 10, &mut rng).as_millis())
            .collect();
        assert!(delays.len() > 50, "only {} distinct delays", delays.len());
        let capped: Vec<Duration> = (0..1000).map(|_| after_failure(&t, 30, &mut rng)).collect();
        let max = capped.iter().max().copied().unwrap_or_default();
        let min = capped.iter().min().copied().unwrap_or_default();
        assert!(
            max > Duration::from_secs(25),
            "jitter reaches near the cap: {max:?}"
        );
        assert!(
            min < Duration::from_secs(5),
            "jitter is drawn after the cap: {min:?}"
        );
    }

    #[test]
    fn server_delay_wins_when_longer() {
        let d = Duration::from_secs(1);
        assert_eq!(
            honour_server(d, Some(Duration::from_secs(5))),
            Duration::from_secs(5)
        );
        assert_eq!(honour_server(d, Some(Duration::from_millis(5))), d);
        assert_eq!(honour_server(d, None), d);
    }
}
