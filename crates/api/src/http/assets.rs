//! GraphiQL, served from the binary so it works offline.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// GraphiQL and the browser builds it runs on, vendored unmodified (see `assets/graphiql/MANIFEST.json`).
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("graphiql.min.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/graphiql/graphiql.min.js")),
    ("graphiql.min.css", "text/css; charset=utf-8", include_bytes!("../../assets/graphiql/graphiql.min.css")),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
];

const GRAPHIQL_HTML: &str = include_str!("../../assets/graphiql/index.html");

/// The GraphiQL page.
pub(super) async fn graphiql() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], GRAPHIQL_HTML).into_response()
}

/// One of GraphiQL's vendored files.
pub(super) async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [(header::CONTENT_TYPE, *content_type), (header::CACHE_CONTROL, "public, max-age=86400")],
            Body::from(*bytes),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
