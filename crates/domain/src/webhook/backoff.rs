//! When a failed delivery is tried again: exponential backoff, for more than a day, then it is
//! given up (FAILED).

use std::time::Duration;

/// The waits before each retry, in units of the schedule's base: with the default base of 5 s,
/// 5 s, 30 s, 2 min, 10 min, 1 h, 2 h, 4 h, then 8 h four times — 31 h in all, 11 attempts.
const STEPS: [u32; 11] = [1, 6, 24, 120, 720, 1440, 2880, 5760, 5760, 5760, 5760];

/// The retry schedule of webhook deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// The first wait; every later one is a fixed multiple of it.
    pub base: Duration,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self { base: Duration::from_secs(5) }
    }
}

impl RetrySchedule {
    /// The most attempts a delivery gets (the first and every retry).
    pub const MAX_ATTEMPTS: u32 = STEPS.len() as u32 + 1;

    /// How long to wait after `attempts` failed attempts before the next, or `None` when the
    /// delivery is given up.
    pub fn delay_after(self, attempts: u32) -> Option<Duration> {
        let step = STEPS.get(usize::try_from(attempts.checked_sub(1)?).ok()?)?;
        Some(self.base.saturating_mul(*step))
    }

    /// How long the whole schedule waits, first attempt to last.
    pub fn total(self) -> Duration {
        (1..Self::MAX_ATTEMPTS).filter_map(|n| self.delay_after(n)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_grows_and_lasts_more_than_a_day() {
        let s = RetrySchedule::default();
        let mins = |m: u64| Duration::from_secs(60 * m);
        assert_eq!(s.delay_after(0), None, "no wait before the first attempt");
        assert_eq!(s.delay_after(1), Some(Duration::from_secs(5)));
        assert_eq!(s.delay_after(2), Some(Duration::from_secs(30)));
        assert_eq!(s.delay_after(3), Some(mins(2)));
        assert_eq!(s.delay_after(4), Some(mins(10)));
        assert_eq!(s.delay_after(5), Some(mins(60)));
        let waits: Vec<_> = (1..RetrySchedule::MAX_ATTEMPTS).map(|n| s.delay_after(n).expect("a wait")).collect();
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "never shorter than the last wait");
        assert!(s.total() >= Duration::from_secs(24 * 3600), "retried for at least a day: {:?}", s.total());
        assert_eq!(s.delay_after(RetrySchedule::MAX_ATTEMPTS), None, "given up after the last attempt");
    }

    #[test]
    fn the_base_scales_every_wait() {
        let s = RetrySchedule { base: Duration::from_millis(10) };
        assert_eq!(s.delay_after(1), Some(Duration::from_millis(10)));
        assert_eq!(s.delay_after(2), Some(Duration::from_millis(60)));
        assert_eq!(s.total(), RetrySchedule::default().total() / 500);
    }
}
