//! Rate limiting by cost: each caller (a token, or an IP address for anonymous callers) has a
//! bucket of cost units that refills over time; a request costs what [`crate::cost`] says,
//! charged by the limits extension once the request is valid and within its limits. Buckets
//! live in each replica's memory: with N replicas behind a balancer a caller gets up to N times
//! the rate, which bounds abuse without any shared store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::ServerError;
use async_graphql::extensions::ExtensionContext;

use crate::error::code;

/// Bucket settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Most cost units a caller can spend at once.
    pub capacity: f64,
    /// Units returned per second.
    pub refill_per_second: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self { capacity: 300_000.0, refill_per_second: 50_000.0 }
    }
}

/// Who is charged for a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RateKey {
    Token(i64),
    Ip(std::net::IpAddr),
    /// No address known (e.g. in-process tests): one shared bucket.
    Unknown,
}

impl RateKey {
    /// The bucket a caller is charged to: its token, else its address.
    pub fn of(viewer: &workplan_domain::access::Viewer, addr: Option<std::net::SocketAddr>) -> Self {
        match (viewer, addr) {
            (workplan_domain::access::Viewer::Token(p), _) => Self::Token(p.token.0),
            (workplan_domain::access::Viewer::Anonymous, Some(addr)) => Self::Ip(addr.ip()),
            (workplan_domain::access::Viewer::Anonymous, None) => Self::Unknown,
        }
    }
}

/// The buckets.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<RateKey, (f64, Instant)>>,
}

impl RateLimiter {
    /// A limiter with `limit`.
    pub fn new(limit: RateLimit) -> Self {
        Self { limit, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes `cost` units from `key`'s bucket, or says how long until they would be there.
    pub fn take(&self, key: &RateKey, cost: f64) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 100_000 {
            // Forget callers whose buckets have refilled: they are as good as new.
            let full = self.limit.capacity / self.limit.refill_per_second.max(f64::MIN_POSITIVE);
            buckets.retain(|_, (_, at)| now.duration_since(*at).as_secs_f64() < full);
        }
        let (tokens, at) = buckets.entry(key.clone()).or_insert((self.limit.capacity, now));
        let refilled =
            (*tokens + now.duration_since(*at).as_secs_f64() * self.limit.refill_per_second).min(self.limit.capacity);
        let cost = cost.min(self.limit.capacity);
        if refilled >= cost {
            *tokens = refilled - cost;
            *at = now;
            Ok(())
        } else {
            *tokens = refilled;
            *at = now;
            let wait = (cost - refilled) / self.limit.refill_per_second.max(f64::MIN_POSITIVE);
            Err(Duration::from_secs_f64(wait.clamp(0.001, 3600.0)))
        }
    }
}

/// Charges `cost` to the caller's bucket (when the request carries a limiter and a key), or
/// refuses the request with RATE_LIMITED and `extensions.retryAfter`.
pub(crate) fn charge(ctx: &ExtensionContext<'_>, cost: u64) -> Result<(), ServerError> {
    let (Some(limiter), Some(key)) = (ctx.data_opt::<Arc<RateLimiter>>(), ctx.data_opt::<RateKey>()) else {
        return Ok(());
    };
    #[expect(clippy::cast_precision_loss, reason = "costs far below 2^52; buckets count in f64")]
    let cost = cost.max(1) as f64;
    limiter.take(key, cost).map_err(|wait| {
        let secs = wait.as_secs().max(1);
        let mut error = ServerError::new(format!("rate limit exceeded: retry in {secs} s"), None);
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", code::RATE_LIMITED);
        extensions.set("retryAfter", secs);
        error.extensions = Some(extensions);
        error
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_drain_and_refill() {
        let limiter = RateLimiter::new(RateLimit { capacity: 10.0, refill_per_second: 1000.0 });
        let key = RateKey::Token(1);
        assert!(limiter.take(&key, 6.0).is_ok());
        let slow = RateLimiter::new(RateLimit { capacity: 10.0, refill_per_second: 0.001 });
        assert!(slow.take(&key, 10.0).is_ok());
        let wait = slow.take(&key, 5.0).expect_err("empty");
        assert!(wait > Duration::from_secs(100));
        assert!(slow.take(&RateKey::Token(2), 10.0).is_ok(), "buckets are per caller");
    }
}
