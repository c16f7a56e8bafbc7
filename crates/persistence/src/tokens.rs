//! API tokens: stored by the hash of their secret, never the secret. Lookups by hash come
//! from memory (`live_tokens.rs`); every change announces [`Topic::Tokens`] to the replicas.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use workplan_domain::ids::TokenId;
use workplan_domain::ports::{NewToken, TokenStore, Topic};
use workplan_domain::token::ApiToken;
use workplan_domain::{Error, Result};

use crate::convert::{to_token, token_active_model};
use crate::entities::api_token;
use crate::error::DbResultExt;
use crate::store::SeaStore;

#[async_trait]
impl TokenStore for SeaStore {
    async fn create_token(&self, token: NewToken) -> Result<ApiToken> {
        let _writer = self.sqlite_writer().await;
        let row = token_active_model(token, Utc::now()).insert(&self.db).await.db()?;
        self.tokens_changed().await;
        to_token(row)
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>> {
        let rows = api_token::Entity::find().order_by_asc(api_token::Column::Id).all(&self.db).await.db()?;
        rows.into_iter().map(to_token).collect()
    }

    async fn token_by_secret_hash(&self, hash: &str) -> Result<Option<ApiToken>> {
        self.tokens.by_hash(self, hash).await
    }

    async fn token_by_name(&self, name: &str) -> Result<Option<ApiToken>> {
        let row = api_token::Entity::find().filter(api_token::Column::Name.eq(name)).one(&self.db).await.db()?;
        row.map(to_token).transpose()
    }

    async fn revoke_token(&self, id: TokenId) -> Result<ApiToken> {
        let _writer = self.sqlite_writer().await;
        let row = api_token::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .ok_or_else(|| Error::not_found("token", Some("id")))?;
        if row.revoked_at.is_some() {
            return to_token(row);
        }
        let mut active: api_token::ActiveModel = row.into();
        active.revoked_at = Set(Some(Utc::now()));
        let row = active.update(&self.db).await.db()?;
        self.tokens_changed().await;
        to_token(row)
    }

    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<()> {
        let _writer = self.sqlite_writer().await;
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, sea_orm::sea_query::Expr::value(at))
            .filter(api_token::Column::Id.eq(id.0))
            .exec(&self.db)
            .await
            .db()?;
        self.tokens.touched(id, at);
        Ok(())
    }
}

impl SeaStore {
    /// After a token was created or revoked: this store reads the table again before its next
    /// lookup, and the other replicas are told.
    async fn tokens_changed(&self) {
        self.tokens.invalidate();
        self.announce(Topic::Tokens).await;
    }
}
