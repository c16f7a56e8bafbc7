//! Domain operations that combine rules with lookups. The API calls these; they decide every
//! write, and the store carries them out in one transaction each. Each takes only the ports it
//! uses.

pub mod authenticate;
pub mod edit;
pub mod idempotency;
mod reporter;
pub mod schedule_period;
pub mod submit;
pub mod supervise;
pub mod sync;
pub mod tokens;

pub use authenticate::authenticate;
pub use edit::edit_report;
pub use idempotency::MAX_IDEMPOTENCY_KEY;
pub use schedule_period::schedule_period;
pub use submit::submit_report;
pub use sync::{SyncItemInput, sync_reports};
pub use tokens::{IssuedToken, MAX_TOKEN_NAME, TokenRequest, create_token};

#[cfg(test)]
mod tests;
