//! API tokens: stored by the hash of their secret, never the secret.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use workplan_domain::ids::TokenId;
use workplan_domain::ports::{NewToken, TokenStore};
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
        to_token(row)
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>> {
        let rows = api_token::Entity::find().order_by_asc(api_token::Column::Id).all(&self.db).await.db()?;
        rows.into_iter().map(to_token).collect()
    }

    async fn token_by_secret_hash(&self, hash: &str) -> Result<Option<ApiToken>> {
        let row = api_token::Entity::find().filter(api_token::Column::SecretHash.eq(hash)).one(&self.db).await.db()?;
        row.map(to_token).transpose()
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
        to_token(active.update(&self.db).await.db()?)
    }

    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<()> {
        let _writer = self.sqlite_writer().await;
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, sea_orm::sea_query::Expr::value(at))
            .filter(api_token::Column::Id.eq(id.0))
            .exec(&self.db)
            .await
            .db()?;
        Ok(())
    }
}
