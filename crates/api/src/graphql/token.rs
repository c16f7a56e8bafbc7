//! API tokens: their roles, listing, creation (the secret is shown once) and revocation.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use workplan_domain::access::can_manage_tokens;
use workplan_domain::ids::{AgencyId, TokenId};
use workplan_domain::usecases::{self, TokenRequest};

use super::agency::Agency;
use super::province::Province;
use crate::context::{plan, require, tokens, viewer};
use crate::error::GqlResultExt;
use crate::ids::{self, Kind};

/// What a token may do.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::token::AccessRole")]
pub enum AccessRole {
    /// Everything, including token management.
    Admin,
    /// Reviews reports and reads everything.
    Supervisor,
    /// Reports for one agency, on the tasks it is responsible for.
    AgencyReporter,
    /// Reports for one province, on any task.
    ProvinceReporter,
    /// Reads.
    Reader,
}

/// An API token (never its secret).
pub(crate) struct ApiToken(pub workplan_domain::token::ApiToken);

/// An API token: its name, role, scope and life. The secret is shown once, at creation.
#[Object]
impl ApiToken {
    /// The token's ID (for revoking it).
    async fn id(&self) -> ID {
        ids::encode(Kind::ApiToken, self.0.id.0)
    }

    /// The token's unique name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What it may do.
    async fn role(&self) -> AccessRole {
        self.0.role.into()
    }

    /// The agency it is bound to (AGENCY_REPORTER).
    async fn agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        match self.0.agency {
            Some(id) => Ok(Some(Agency(require(ctx, id).await?))),
            None => Ok(None),
        }
    }

    /// The province it is bound to (PROVINCE_REPORTER).
    async fn province(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Province>> {
        match self.0.province {
            Some(id) => Ok(Some(Province(require(ctx, id).await?))),
            None => Ok(None),
        }
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it stops working, if ever.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// When it was revoked, if it was.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }

    /// When it was last used (recorded at most once a minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
}

/// A token to create.
#[derive(InputObject, Debug)]
pub(crate) struct CreateApiTokenInput {
    /// A unique name, e.g. "guangdong-sync": one line of 1–100 characters, without control
    /// characters, bidi overrides or isolates. Only ADMIN and SUPERVISOR tokens read it as the
    /// actor of a write.
    pub name: String,
    /// What it may do.
    pub role: AccessRole,
    /// For AGENCY_REPORTER: the agency (an Agency ID).
    pub agency_id: Option<ID>,
    /// For PROVINCE_REPORTER: the province's GB/T 2260 code.
    pub province_code: Option<String>,
    /// When it stops working; never if absent.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A created token and its secret.
#[derive(SimpleObject)]
pub(crate) struct CreateApiTokenPayload {
    /// The token.
    pub token: ApiToken,
    /// The secret, shown this once: send it as `Authorization: Bearer <secret>`. Only its hash
    /// is stored.
    pub secret: String,
}

/// API tokens.
#[derive(Default)]
pub(crate) struct TokenQueryRoot;

/// API tokens.
#[Object]
impl TokenQueryRoot {
    /// Every API token (ADMIN).
    async fn api_tokens(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ApiToken>> {
        can_manage_tokens(viewer(ctx).principal().gql()?).gql()?;
        Ok(tokens(ctx)?.tokens().await.gql()?.into_iter().map(ApiToken).collect())
    }
}

/// Creating and revoking API tokens.
#[derive(Default)]
pub(crate) struct TokenMutationRoot;

/// Creating and revoking API tokens.
#[Object]
impl TokenMutationRoot {
    /// Creates an API token (ADMIN). Its secret is in the payload, once.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token to create.")] input: CreateApiTokenInput,
    ) -> async_graphql::Result<CreateApiTokenPayload> {
        can_manage_tokens(viewer(ctx).principal().gql()?).gql()?;
        let agency = input.agency_id.map(|id| ids::decode(Kind::Agency, &id, "agencyId")).transpose()?.map(AgencyId);
        let secret = crate::auth::new_secret().gql()?;
        let request = TokenRequest {
            name: &input.name,
            role: input.role.into(),
            agency,
            province_code: input.province_code.as_deref(),
            expires_at: input.expires_at,
        };
        let issued = usecases::create_token(plan(ctx)?.as_ref(), tokens(ctx)?.as_ref(), request, secret).await.gql()?;
        Ok(CreateApiTokenPayload { token: ApiToken(issued.token), secret: issued.secret })
    }

    /// Revokes an API token (ADMIN). It stops working at once.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token's ID.")] id: ID,
    ) -> async_graphql::Result<ApiToken> {
        can_manage_tokens(viewer(ctx).principal().gql()?).gql()?;
        let id = ids::decode(Kind::ApiToken, &id, "id")?;
        Ok(ApiToken(tokens(ctx)?.revoke_token(TokenId(id)).await.gql()?))
    }
}
