//! The limits of one GraphQL WebSocket connection (see `docs/sync.md`): how long the client has
//! to introduce itself, how often the server pings and re-checks the connection's token, and how
//! many operations one socket may run at once.

use std::time::Duration;

/// The limits of one WebSocket connection, with their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketLimits {
    /// Longest the client may take to send `connection_init` after the upgrade (close 4408
    /// beyond).
    pub init_timeout: Duration,
    /// How often the server sends a `ping` on an acknowledged connection.
    pub keep_alive: Duration,
    /// How often the connection's token is checked again while the socket is open (besides
    /// before every operation): a token revoked or expired since closes the socket (4403).
    pub token_recheck: Duration,
    /// Most queries and mutations one connection may have running at once; beyond, an
    /// operation is answered with an `error` message (RATE_LIMITED) and the socket stays open.
    pub max_operations: usize,
    /// Most subscriptions one connection may hold open at once; beyond, as for operations.
    pub max_subscriptions: usize,
}

impl Default for SocketLimits {
    fn default() -> Self {
        Self {
            init_timeout: Duration::from_secs(10),
            keep_alive: Duration::from_secs(15),
            token_recheck: Duration::from_secs(30),
            max_operations: 16,
            max_subscriptions: 8,
        }
    }
}
