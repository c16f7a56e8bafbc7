//! Rate limiting, per caller: a valid token, else the client's address (an IPv6 address counts
//! by its /64, the block one subscriber is usually given). Two limits, each a bucket per
//! caller that refills over time:
//!
//! - by request count: every request to `/graphql`, `/graphql/ws` and `/export/…` costs 1,
//!   charged before anything else is read, so refused requests (bad JSON, validation errors,
//!   unknown tokens) and cheap ones (`{ __typename }`) count too ([`crate::http`]); over a
//!   WebSocket each operation costs 1 more;
//! - by cost: a valid operation costs what [`crate::cost`] says, charged by the limits
//!   extension (`charge`), an export a fixed amount.
//!
//! The buckets are [`governor`]'s keyed GCRA limiters. They live in each replica's memory: with
//! N replicas behind a balancer a caller gets up to N times the rate, which bounds abuse
//! without any shared store.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_graphql::ServerError;
use async_graphql::extensions::ExtensionContext;
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota};
use workplan_domain::access::Viewer;

use crate::error::code;

/// The longest a bucket may take to fill from empty: governor counts time in nanoseconds in a
/// `u64`, and a bucket that takes longer than a year to refill is a mistake anyway.
const MAX_FILL_TIME: Duration = Duration::from_secs(366 * 24 * 3600);

/// How many callers a limiter remembers before it forgets those whose buckets are full again
/// (they are as good as new).
const MAX_CALLERS: usize = 100_000;

/// A bucket's size and refill rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    quota: Quota,
}

/// Why a [`RateLimit`] cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RateLimitError {
    /// The capacity is 0.
    #[error("the capacity must be at least 1")]
    NoCapacity,
    /// The refill is not a positive number, or so large that a unit would come back in less
    /// than a nanosecond.
    #[error("the refill must be a number above 0 and at most 1000000000 a second (it is {0})")]
    Refill(f64),
    /// The bucket would take longer than a year to fill.
    #[error("a bucket of {capacity} refilled at {refill} a second would take over a year to fill")]
    TooSlow {
        /// The capacity asked for.
        capacity: u32,
        /// The refill asked for.
        refill: f64,
    },
}

impl RateLimit {
    /// A bucket of `capacity` units returning `refill_per_second` units a second.
    ///
    /// # Errors
    /// When the capacity is 0, the refill is not above 0 (or not finite, or over 10⁹), or the
    /// bucket would take over a year to fill.
    pub fn new(capacity: u32, refill_per_second: f64) -> Result<Self, RateLimitError> {
        let burst = NonZeroU32::new(capacity).ok_or(RateLimitError::NoCapacity)?;
        if !(refill_per_second.is_finite() && refill_per_second > 0.0 && refill_per_second <= 1e9) {
            return Err(RateLimitError::Refill(refill_per_second));
        }
        let too_slow = RateLimitError::TooSlow { capacity, refill: refill_per_second };
        if f64::from(capacity) / refill_per_second > MAX_FILL_TIME.as_secs_f64() {
            return Err(too_slow);
        }
        let period = Duration::try_from_secs_f64(1.0 / refill_per_second).map_err(|_| too_slow.clone())?;
        let quota = Quota::with_period(period).ok_or(RateLimitError::Refill(refill_per_second))?;
        Ok(Self { quota: quota.allow_burst(burst) })
    }

    /// Most units a caller can spend at once.
    pub fn capacity(&self) -> u32 {
        self.quota.burst_size().get()
    }

    /// Units returned per second.
    pub fn refill_per_second(&self) -> f64 {
        1.0 / self.quota.replenish_interval().as_secs_f64()
    }

    /// The default limit by cost: 300,000 units, 50,000 a second.
    pub const fn default_cost() -> Self {
        Self { quota: Quota::per_second(nz(50_000)).allow_burst(nz(300_000)) }
    }

    /// The default limit by request count: 300 requests at once, 100 a second.
    pub const fn default_requests() -> Self {
        Self { quota: Quota::per_second(nz(100)).allow_burst(nz(300)) }
    }
}

/// `n` as a `NonZeroU32`, for the constants above (1 for 0).
const fn nz(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
}

/// Who is charged for a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RateKey {
    Token(i64),
    /// An IPv4 address, or the /64 an IPv6 address is in.
    Ip(IpAddr),
    /// No address known (e.g. in-process tests): one shared bucket.
    Unknown,
}

impl RateKey {
    /// The bucket a caller is charged to: its token, else its address.
    pub fn of(viewer: &Viewer, client: Option<IpAddr>) -> Self {
        match (viewer, client) {
            (Viewer::Token(p), _) => Self::Token(p.token.0),
            (Viewer::Anonymous, Some(ip)) => Self::address(ip),
            (Viewer::Anonymous, None) => Self::Unknown,
        }
    }

    /// The bucket of a client address: an IPv4 address (also when written as IPv4-mapped
    /// IPv6), or the /64 of an IPv6 one, which one subscriber usually holds whole.
    pub fn address(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !(u128::from(u64::MAX));
                Self::Ip(IpAddr::V6(prefix.into()))
            }
            v4 @ IpAddr::V4(_) => Self::Ip(v4),
        }
    }
}

/// One limit's buckets, a bucket per caller.
#[derive(Debug)]
pub struct RateLimiter {
    buckets: DefaultKeyedRateLimiter<RateKey>,
    capacity: NonZeroU32,
    /// Takes since the buckets were last tidied.
    takes: AtomicU32,
}

impl RateLimiter {
    /// A limiter with `limit`.
    pub fn new(limit: RateLimit) -> Self {
        Self { buckets: governor::RateLimiter::keyed(limit.quota), capacity: limit.quota.burst_size(), takes: 0.into() }
    }

    /// Takes `cost` units from `key`'s bucket, or says how long until they would be there. A
    /// cost above the capacity is charged as the whole capacity: such a request passes only
    /// when the bucket is full, and empties it.
    ///
    /// # Errors
    /// How long to wait when the bucket holds too little.
    pub fn take(&self, key: &RateKey, cost: u64) -> Result<(), Duration> {
        self.tidy();
        let n = u32::try_from(cost).unwrap_or(u32::MAX).clamp(1, self.capacity.get());
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        match self.buckets.check_key_n(key, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(self.buckets.clock().now())),
            // Cannot happen: `n` is at most the capacity. Refuse for a second rather than let
            // the request through.
            Err(_) => Err(Duration::from_secs(1)),
        }
    }

    /// Every few thousand takes, forgets the callers whose buckets are full again, once there
    /// are many: memory stays bounded under a flood from ever-new addresses.
    fn tidy(&self) {
        if self.takes.fetch_add(1, Ordering::Relaxed).is_multiple_of(4096) && self.buckets.len() > MAX_CALLERS {
            self.buckets.retain_recent();
            self.buckets.shrink_to_fit();
        }
    }
}

/// Whole seconds to wait, rounded up, at least 1: for `Retry-After` and `extensions.retryAfter`.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The RATE_LIMITED error for a caller who must wait `wait`, with `extensions.retryAfter`.
pub fn rate_limited_error(wait: Duration) -> ServerError {
    let secs = retry_after_secs(wait);
    let mut error = ServerError::new(format!("rate limit exceeded: retry in {secs} s"), None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code::RATE_LIMITED);
    extensions.set("retryAfter", secs);
    error.extensions = Some(extensions);
    error
}

/// The limiter by cost, as a request's data holds it (so the limits extension can find it).
#[derive(Debug, Clone)]
pub(crate) struct CostLimiter(pub(crate) Arc<RateLimiter>);

/// Charges `cost` to the caller's bucket (when the request carries a limiter and a key), or
/// refuses the request with RATE_LIMITED and `extensions.retryAfter`.
pub(crate) fn charge(ctx: &ExtensionContext<'_>, cost: u64) -> Result<(), ServerError> {
    let (Some(limiter), Some(key)) = (ctx.data_opt::<CostLimiter>(), ctx.data_opt::<RateKey>()) else {
        return Ok(());
    };
    limiter.0.take(key, cost).map_err(rate_limited_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_drain_and_refill() {
        let key = RateKey::Token(1);
        let slow = RateLimiter::new(RateLimit::new(10, 0.001).expect("valid"));
        assert!(slow.take(&key, 10).is_ok());
        let wait = slow.take(&key, 5).expect_err("empty");
        assert!(wait > Duration::from_secs(100), "{wait:?}");
        assert!(slow.take(&RateKey::Token(2), 10).is_ok(), "buckets are per caller");
        assert!(slow.take(&RateKey::Token(3), 1_000_000).is_ok(), "a cost over the capacity empties a full bucket");
        assert!(slow.take(&RateKey::Token(3), 1).is_err());
        let counted = RateLimiter::new(RateLimit::new(3, 0.001).expect("valid"));
        let taken = (0..10).filter(|_| counted.take(&key, 0).is_ok()).count();
        assert_eq!(taken, 3, "a cost of 0 still costs 1");
    }

    #[test]
    fn limits_that_cannot_work_are_refused() {
        assert_eq!(RateLimit::new(0, 1.0), Err(RateLimitError::NoCapacity));
        for refill in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e9] {
            assert!(matches!(RateLimit::new(10, refill), Err(RateLimitError::Refill(_))), "{refill}");
        }
        assert!(matches!(RateLimit::new(u32::MAX, 1.0), Err(RateLimitError::TooSlow { .. })));
        let limit = RateLimit::new(300, 100.0).expect("valid");
        assert_eq!((limit.capacity(), limit.refill_per_second()), (300, 100.0));
        assert_eq!(limit, RateLimit::default_requests());
        assert_eq!(RateLimit::new(300_000, 50_000.0), Ok(RateLimit::default_cost()));
    }

    #[test]
    fn ipv6_callers_are_counted_by_their_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(RateKey::address(a), RateKey::address(b));
        assert_ne!(RateKey::address(a), RateKey::address(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(RateKey::address(mapped), RateKey::Ip("192.0.2.7".parse().expect("ip")));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
    }
}
