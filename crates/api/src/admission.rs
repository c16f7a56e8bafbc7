//! Admission: a global bound on GraphQL operations executing at once, with a short queue.
//!
//! Every operation needs database connections, and the pool has only so many: a burst far
//! above it would otherwise wait on the pool until its acquire timeout and fail as INTERNAL,
//! while every other caller stalled behind it. Here at most [`AdmissionLimit::max_operations`]
//! run at once (by default twice the pool, so the pool stays busy while answers are written);
//! a caller beyond them waits in line at most [`AdmissionLimit::queue_wait`], then gets a quick
//! `RATE_LIMITED` with HTTP 503 and `Retry-After`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a caller turned away should wait before trying again, in seconds.
pub const RETRY_AFTER_SECS: u64 = 1;

/// The bound's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionLimit {
    /// Most operations executing at once.
    pub max_operations: usize,
    /// Longest an operation waits for its turn before it is turned away.
    pub queue_wait: Duration,
}

impl AdmissionLimit {
    /// The default for a database pool of `pool_size` connections: twice the pool, and a
    /// queue of 250 ms.
    pub fn for_pool(pool_size: u32) -> Self {
        let pool = usize::try_from(pool_size).unwrap_or(usize::MAX);
        Self { max_operations: pool.saturating_mul(2).max(1), queue_wait: DEFAULT_QUEUE_WAIT }
    }
}

/// The default longest wait in the queue.
pub const DEFAULT_QUEUE_WAIT: Duration = Duration::from_millis(250);

/// The running bound: its permits and how long to wait for one.
#[derive(Debug)]
pub struct Admission {
    permits: Arc<Semaphore>,
    limit: AdmissionLimit,
}

/// An operation turned away: all turns were taken for the whole queue wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overloaded;

impl Admission {
    /// A bound of `limit`.
    pub fn new(limit: AdmissionLimit) -> Self {
        Self { permits: Arc::new(Semaphore::new(limit.max_operations.max(1))), limit }
    }

    /// Waits for a turn (first come, first served), at most the queue wait. The operation
    /// runs while the permit is held.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, Overloaded> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        match tokio::time::timeout(self.limit.queue_wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; a timeout means every turn stayed taken.
            Ok(Err(_)) | Err(_) => Err(Overloaded),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn turns_are_bounded_and_the_queue_gives_up() {
        let admission = Admission::new(AdmissionLimit { max_operations: 2, queue_wait: Duration::from_millis(20) });
        let first = admission.enter().await.expect("a turn");
        let _second = admission.enter().await.expect("a turn");
        assert_eq!(admission.enter().await.err(), Some(Overloaded), "the third waits, then is turned away");
        drop(first);
        assert!(admission.enter().await.is_ok(), "a turn given back is taken again");
        assert_eq!(AdmissionLimit::for_pool(10).max_operations, 20);
    }
}
