//! A delivery: one change sent to one endpoint, tried until it is accepted or given up.

use chrono::{DateTime, Utc};

use super::backoff::RetrySchedule;
use super::endpoint::EndpointId;
use crate::ids::{ChangeId, string_enum};

/// Identifies a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeliveryId(pub i64);

string_enum!(
    /// Where a delivery stands.
    pub enum DeliveryStatus {
        /// Not yet accepted; tried again at `next_attempt_at`.
        Pending = "PENDING",
        /// The endpoint answered 2xx.
        Delivered = "DELIVERED",
        /// Given up: every attempt of the retry schedule failed, or the endpoint was disabled
        /// or its token revoked or expired.
        Failed = "FAILED",
    }
);

/// The Standard Webhooks `webhook-id` of the delivery of `change` to `endpoint`: the same on
/// every attempt, so a receiver can drop repeats.
pub fn message_id(endpoint: EndpointId, change: ChangeId) -> String {
    format!("msg_{}_{}", endpoint.0, change.0)
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Its key.
    pub id: DeliveryId,
    /// Where it goes.
    pub endpoint: EndpointId,
    /// Its `webhook-id` ([`message_id`]).
    pub message_id: String,
    /// The change it tells of.
    pub change: ChangeId,
    /// The JSON body, exactly as signed and sent.
    pub payload: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it is next tried (PENDING).
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last failed attempt failed (kept once a later attempt succeeds).
    pub last_error: Option<String>,
    /// The HTTP status of the last answer, if one came.
    pub last_status_code: Option<u16>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When the endpoint accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A delivery to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// The change it tells of.
    pub change: ChangeId,
    /// The JSON body.
    pub payload: String,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The endpoint answered 2xx.
    Accepted {
        /// The status code.
        status: u16,
    },
    /// Any other answer, or none.
    Refused {
        /// The status code, if an answer came.
        status: Option<u16>,
        /// What went wrong, for `lastError`.
        error: String,
    },
    /// The delivery may not go out at all (endpoint disabled, token revoked): given up now.
    Abandoned {
        /// Why.
        error: String,
    },
}

/// What to store after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The new status.
    pub status: DeliveryStatus,
    /// Attempts made, this one included.
    pub attempts: u32,
    /// When it is next tried (unchanged meaning once it is no longer PENDING).
    pub next_attempt_at: DateTime<Utc>,
    /// The error of this attempt if it failed, else of the last one that did.
    pub last_error: Option<String>,
    /// The status code of this attempt's answer.
    pub last_status_code: Option<u16>,
    /// When it was accepted.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When this was decided.
    pub at: DateTime<Utc>,
}

impl WebhookDelivery {
    /// What to record after an attempt made at `now` came to `outcome`: delivered, retried
    /// after the schedule's next wait, or given up when the schedule is spent.
    pub fn after_attempt(&self, outcome: AttemptOutcome, now: DateTime<Utc>, schedule: RetrySchedule) -> AttemptRecord {
        let attempts = self.attempts.saturating_add(1);
        let base = AttemptRecord {
            status: DeliveryStatus::Failed,
            attempts,
            next_attempt_at: now,
            last_error: None,
            last_status_code: None,
            delivered_at: None,
            at: now,
        };
        match outcome {
            // The last failure's reason stays: it tells why earlier attempts did not get through.
            AttemptOutcome::Accepted { status } => AttemptRecord {
                status: DeliveryStatus::Delivered,
                last_error: self.last_error.clone(),
                last_status_code: Some(status),
                delivered_at: Some(now),
                ..base
            },
            AttemptOutcome::Abandoned { error } => AttemptRecord {
                attempts: self.attempts,
                last_error: Some(error),
                last_status_code: self.last_status_code,
                ..base
            },
            AttemptOutcome::Refused { status, error } => {
                let wait = schedule.delay_after(attempts).and_then(|d| chrono::Duration::from_std(d).ok());
                match wait {
                    Some(wait) => AttemptRecord {
                        status: DeliveryStatus::Pending,
                        next_attempt_at: now + wait,
                        last_error: Some(error),
                        last_status_code: status,
                        ..base
                    },
                    None => AttemptRecord { last_error: Some(error), last_status_code: status, ..base },
                }
            }
        }
    }
}

/// Checks that an ADMIN may send `delivery` again: a FAILED one starts a new retry schedule
/// (see [`crate::ports::WebhookStore::requeue_failed`]), a PENDING one is already waiting.
///
/// # Errors
/// CONFLICT for a delivery the endpoint accepted.
pub fn check_retry(delivery: &WebhookDelivery) -> crate::Result<()> {
    match delivery.status {
        DeliveryStatus::Delivered => {
            Err(crate::Error::Conflict("the endpoint accepted this delivery; it is not sent again".into()))
        }
        DeliveryStatus::Pending | DeliveryStatus::Failed => Ok(()),
    }
}

/// Which deliveries to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliveryFilter {
    /// Of this endpoint only.
    pub endpoint: Option<EndpointId>,
    /// In this status only.
    pub status: Option<DeliveryStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(attempts: u32) -> WebhookDelivery {
        WebhookDelivery {
            id: DeliveryId(1),
            endpoint: EndpointId(2),
            message_id: message_id(EndpointId(2), ChangeId(3)),
            change: ChangeId(3),
            payload: "{}".into(),
            status: DeliveryStatus::Pending,
            attempts,
            next_attempt_at: DateTime::UNIX_EPOCH,
            last_error: None,
            last_status_code: None,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
            delivered_at: None,
        }
    }

    #[test]
    fn the_message_id_is_stable_per_endpoint_and_change() {
        assert_eq!(message_id(EndpointId(2), ChangeId(3)), "msg_2_3");
        assert_ne!(message_id(EndpointId(2), ChangeId(3)), message_id(EndpointId(3), ChangeId(2)));
    }

    #[test]
    fn a_2xx_answer_delivers() {
        let now = DateTime::UNIX_EPOCH + chrono::Duration::hours(1);
        let r = delivery(2).after_attempt(AttemptOutcome::Accepted { status: 204 }, now, RetrySchedule::default());
        assert_eq!(
            (r.status, r.attempts, r.delivered_at, r.last_status_code),
            (DeliveryStatus::Delivered, 3, Some(now), Some(204))
        );
        assert_eq!(r.last_error, None);
        let failed_before = WebhookDelivery { last_error: Some("HTTP 500".into()), ..delivery(1) };
        let r = failed_before.after_attempt(AttemptOutcome::Accepted { status: 200 }, now, RetrySchedule::default());
        assert_eq!(
            (r.status, r.last_error.as_deref()),
            (DeliveryStatus::Delivered, Some("HTTP 500")),
            "the last failure is kept"
        );
    }

    #[test]
    fn a_failure_is_retried_on_schedule_then_given_up() {
        let now = DateTime::UNIX_EPOCH;
        let schedule = RetrySchedule::default();
        let refused = || AttemptOutcome::Refused { status: Some(500), error: "HTTP 500".into() };
        let r = delivery(0).after_attempt(refused(), now, schedule);
        assert_eq!((r.status, r.attempts), (DeliveryStatus::Pending, 1));
        assert_eq!(r.next_attempt_at, now + chrono::Duration::seconds(5));
        assert_eq!((r.last_error.as_deref(), r.last_status_code), (Some("HTTP 500"), Some(500)));
        let r = delivery(1).after_attempt(refused(), now, schedule);
        assert_eq!(r.next_attempt_at, now + chrono::Duration::seconds(30));
        let last = delivery(RetrySchedule::MAX_ATTEMPTS - 1).after_attempt(refused(), now, schedule);
        assert_eq!((last.status, last.attempts), (DeliveryStatus::Failed, RetrySchedule::MAX_ATTEMPTS));
        assert_eq!(last.delivered_at, None);
    }

    #[test]
    fn only_a_delivery_not_yet_accepted_may_be_sent_again() {
        let failed = WebhookDelivery { status: DeliveryStatus::Failed, ..delivery(8) };
        assert!(check_retry(&failed).is_ok());
        assert!(check_retry(&delivery(1)).is_ok(), "a pending one is already waiting");
        let delivered = WebhookDelivery { status: DeliveryStatus::Delivered, ..delivery(1) };
        assert!(matches!(check_retry(&delivered), Err(crate::Error::Conflict(_))));
    }

    #[test]
    fn an_abandoned_delivery_fails_without_counting_an_attempt() {
        let r = delivery(1).after_attempt(
            AttemptOutcome::Abandoned { error: "the endpoint was disabled".into() },
            DateTime::UNIX_EPOCH,
            RetrySchedule::default(),
        );
        assert_eq!((r.status, r.attempts), (DeliveryStatus::Failed, 1));
        assert_eq!(r.last_error.as_deref(), Some("the endpoint was disabled"));
    }
}
