//! API tokens in memory: authentication looks a secret's hash up in a table held by the store
//! (tens of rows), so it costs no statement.
//!
//! The table is read again when it is older than [`MAX_AGE`] (at most one statement a second
//! under load, none when idle), when a token is created or revoked through this store (at
//! once), and when another replica announces [`Topic::Tokens`](workplan_domain::ports::Topic)
//! ([`SeaStore::keep_fresh`]): a revocation takes effect everywhere within a second, and so
//! does a new token (at once on the replica that made it, and on PostgreSQL on every replica
//! that hears the announcement). An unknown hash is no reason to read the table sooner: a
//! flood of unknown tokens costs at most the one statement a second any load costs, whatever
//! its rate (`tests/hostile/rate_limits.rs` counts them).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{EntityTrait, QueryOrder};
use workplan_domain::Result;
use workplan_domain::ids::TokenId;
use workplan_domain::token::ApiToken;

use crate::convert::to_token;
use crate::entities::api_token;
use crate::error::DbResultExt;
use crate::store::SeaStore;

/// The oldest the table may be when a token is looked up.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(1);

/// The tokens by secret hash, when they were read, and how many changes were known then.
#[derive(Debug)]
struct TokenTable {
    by_hash: HashMap<String, ApiToken>,
    read_at: Instant,
    generation: u64,
}

/// The token table a store authenticates with.
#[derive(Debug, Default)]
pub(crate) struct LiveTokens {
    table: RwLock<Option<TokenTable>>,
    /// Counts the changes announced: a table read before the latest one is stale, and the
    /// next lookup reads it again.
    changes: AtomicU64,
    /// Held while reading the table, so concurrent lookups read it once.
    loading: tokio::sync::Mutex<()>,
}

/// What a lookup found in the table as it stands.
enum Lookup {
    /// Fresh enough: this is the answer.
    Answer(Option<ApiToken>),
    /// Read the table again first (it was read at the instant given, if ever).
    Reload(Option<Instant>),
}

impl LiveTokens {
    fn look(&self, hash: &str) -> Lookup {
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        let Some(table) = table.as_ref() else {
            return Lookup::Reload(None);
        };
        let age = table.read_at.elapsed();
        let stale = table.generation != self.changes.load(Ordering::Acquire);
        if stale || age >= MAX_AGE {
            return Lookup::Reload(Some(table.read_at));
        }
        Lookup::Answer(table.by_hash.get(hash).cloned())
    }

    /// The token whose secret hashes to `hash`.
    pub(crate) async fn by_hash(&self, store: &SeaStore, hash: &str) -> Result<Option<ApiToken>> {
        let seen = match self.look(hash) {
            Lookup::Answer(token) => return Ok(token),
            Lookup::Reload(seen) => seen,
        };
        let _loading = self.loading.lock().await;
        // Another lookup may have read the table, with every change so far, while this one
        // waited.
        let fresh = {
            let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
            table.as_ref().is_some_and(|t| {
                seen.is_none_or(|seen| t.read_at > seen) && t.generation == self.changes.load(Ordering::Acquire)
            })
        };
        if !fresh {
            self.load(store).await?;
        }
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        Ok(table.as_ref().and_then(|t| t.by_hash.get(hash).cloned()))
    }

    async fn load(&self, store: &SeaStore) -> Result<()> {
        // Taken before reading: a change made while the rows are read leaves the table stale.
        let generation = self.changes.load(Ordering::Acquire);
        let rows = api_token::Entity::find().order_by_asc(api_token::Column::Id).all(&store.db).await.db()?;
        let mut by_hash = HashMap::with_capacity(rows.len());
        for row in rows {
            let hash = row.secret_hash.clone();
            by_hash.insert(hash, to_token(row)?);
        }
        *self.table.write().unwrap_or_else(PoisonError::into_inner) =
            Some(TokenTable { by_hash, read_at: Instant::now(), generation });
        Ok(())
    }

    /// A token changed: read the table again before the next lookup.
    pub(crate) fn invalidate(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// Records in the table that token `id` was used at `at` (the database has it already), so
    /// the once-a-minute rule sees it before the next read.
    pub(crate) fn touched(&self, id: TokenId, at: DateTime<Utc>) {
        let mut table = self.table.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(token) = table.as_mut().and_then(|t| t.by_hash.values_mut().find(|t| t.id == id)) {
            token.last_used_at = Some(at);
        }
    }
}
