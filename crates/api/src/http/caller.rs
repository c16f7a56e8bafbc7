//! Who is calling, worked out once per request before anything else is read: the client's
//! address (through trusted proxies, [`crate::client_address`]) and the bearer token (the token
//! table is in memory: no statement); and the limit by request count, charged to that caller
//! ([`limit_requests`]), so refused and cheap requests cost as much as any other.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use workplan_domain::access::Viewer;

use super::AppState;
use super::respond::{JSON, negotiate};
use crate::auth::viewer_from_headers;
use crate::rate::{RateKey, rate_limited_error, retry_after_secs};

/// The caller of one request.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    /// The client's address; `None` when the server was started without connect info.
    pub(super) client: Option<IpAddr>,
    /// Whom the `Authorization` header names: anonymous without one, UNAUTHENTICATED for a
    /// malformed, unknown, revoked or expired token.
    pub(super) viewer: workplan_domain::Result<Viewer>,
}

impl Caller {
    /// Works out the caller of the request `parts` belongs to.
    async fn identify(parts: &Parts, state: &AppState) -> Self {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let client = peer.map(|peer| state.config.trusted_proxies.client(peer, &parts.headers));
        let viewer = viewer_from_headers(state.ports.tokens.as_ref(), &parts.headers).await;
        Self { client, viewer }
    }

    /// The bucket this caller's requests are counted in: its token, else its address (an
    /// unknown token is no token).
    pub(super) fn rate_key(&self) -> RateKey {
        RateKey::of(self.viewer.as_ref().unwrap_or(&Viewer::Anonymous), self.client)
    }
}

/// The caller [`limit_requests`] found, or — on a route without it — worked out now.
impl FromRequestParts<AppState> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Self>() {
            Some(caller) => Ok(caller.clone()),
            None => Ok(Self::identify(parts, state).await),
        }
    }
}

/// Middleware: charges one request to the caller's bucket, or answers 429 RATE_LIMITED with
/// `Retry-After` before the handler reads anything. The caller is kept in the request for the
/// handler.
pub(super) async fn limit_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = Caller::identify(&parts, &state).await;
    if let Some(limiter) = &state.requests
        && let Err(wait) = limiter.take(&caller.rate_key(), 1)
    {
        state.metrics.rejected("requests");
        return too_many_requests(wait, negotiate(&parts.headers).unwrap_or(JSON));
    }
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, body)).await
}

/// 429 with `Retry-After` and a GraphQL error RATE_LIMITED with `extensions.retryAfter`, in
/// the media type `media`.
pub(super) fn too_many_requests(wait: std::time::Duration, media: &'static str) -> Response {
    /// The body, its error serialised as async-graphql writes errors (`message` first).
    #[derive(serde::Serialize)]
    struct Body {
        errors: [async_graphql::ServerError; 1],
    }
    let body = serde_json::to_string(&Body { errors: [rate_limited_error(wait)] }).unwrap_or_default();
    let mut response = (StatusCode::TOO_MANY_REQUESTS, [(header::CONTENT_TYPE, HeaderValue::from_static(media))], body)
        .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs(wait)));
    response
}
