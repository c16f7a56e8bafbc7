//! The [`Notifier`] port: "something changed", told to every replica of the service.
//!
//! A write commits first and announces afterwards (an announcement inside the writing
//! transaction would serialise every commit behind the database's notification queue). An
//! announcement carries no data, only what kind of thing changed: a replica that hears it
//! reads the rows it needs. Announcements can be lost (a listener's connection drops, a slow
//! subscriber falls behind): the subscriber is then told [`Notice::Missed`] and catches up by
//! reading everything it caches again, so nothing is ever skipped, only re-read.
//!
//! On PostgreSQL it is `LISTEN`/`NOTIFY` on one dedicated connection per replica; on SQLite
//! (one process) an in-process broadcast. The real-time issue builds subscriptions on it.

use async_trait::async_trait;

use crate::Result;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// The plan: sections, tasks, responsibilities, agencies and their aliases, provinces
    /// (the importer and plan amendments write it).
    Plan,
    /// API tokens: created or revoked.
    Tokens,
    /// Progress reports: filed, edited, reviewed, withdrawn, synced or loaded.
    Reports,
    /// Obligations moved without a report write: exemptions and extensions made or revoked, a
    /// period (re)scheduled, or due-date events recorded by the cluster's timer.
    Obligations,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Self; 4] = [Self::Plan, Self::Tokens, Self::Reports, Self::Obligations];

    /// Its name on the wire (a `NOTIFY` payload).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Tokens => "tokens",
            Self::Reports => "reports",
            Self::Obligations => "obligations",
        }
    }

    /// The topic named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// What a subscriber hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// `topic` changed.
    Changed(Topic),
    /// Announcements may have been lost (the listener reconnected, or this subscriber fell
    /// behind): re-read whatever is cached.
    Missed,
}

/// One subscriber's stream of notices.
#[async_trait]
pub trait Subscription: Send {
    /// The next notice; waits until there is one.
    async fn next(&mut self) -> Notice;
}

/// Tells every replica that something changed, after the write committed.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Announces that `topic` changed. Best effort: a lost announcement is covered by the
    /// subscribers' periodic catch-up, so callers log a failure rather than fail the write
    /// that already committed.
    async fn notify(&self, topic: Topic) -> Result<()>;

    /// A new subscription, which hears every announcement made from now on (from every
    /// replica, this one included).
    fn subscribe(&self) -> Box<dyn Subscription>;
}

#[cfg(test)]
mod tests {
    use super::Topic;

    #[test]
    fn topics_round_trip_through_their_names() {
        for topic in Topic::ALL {
            assert_eq!(Topic::parse(topic.as_str()), Some(topic));
        }
        assert_eq!(Topic::parse("nothing"), None);
    }
}
