//! The HTTP surface: REST endpoints under `/v1` and the WebSocket upgrade, on one router.

mod admin;
mod extract;
mod groups;
mod messages;
mod users;
mod ws;

use axum::routing::{get, post, put};
use axum::Router;
use chinwag_protocol::rest::Health;
use chinwag_protocol::{ApiError, ErrorCode};

use crate::service::AppRef;
pub use extract::{HttpError, PeerAddr};

pub fn router(app: AppRef) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/login", post(users::login))
        .route("/v1/logout", post(users::logout))
        .route("/v1/me", get(users::me))
        .route("/v1/users", post(users::create).get(users::list))
        .route("/v1/users/{uid}", get(users::get).patch(users::update))
        .route(
            "/v1/users/{uid}/tokens",
            post(users::mint_token).delete(users::revoke_tokens),
        )
        .route("/v1/users/{uid}/deactivate", post(users::deactivate))
        .route("/v1/users/{uid}/activate", post(users::activate))
        .route(
            "/v1/users/{uid}/friends",
            get(users::list_friends).post(users::add_friends),
        )
        .route(
            "/v1/users/{uid}/friend_requests",
            get(users::friend_requests),
        )
        .route(
            "/v1/users/{uid}/friends/{friend}",
            axum::routing::delete(users::remove_friend),
        )
        .route("/v1/groups", post(groups::create).get(groups::list))
        .route("/v1/groups/{guid}", get(groups::get))
        .route("/v1/groups/{guid}/join", post(groups::join))
        .route("/v1/groups/{guid}/leave", post(groups::leave))
        .route(
            "/v1/groups/{guid}/members",
            get(groups::members).post(groups::add_members),
        )
        .route("/v1/groups/{guid}/kick", post(groups::kick))
        .route("/v1/groups/{guid}/ban", post(groups::ban))
        .route("/v1/groups/{guid}/unban", post(groups::unban))
        .route(
            "/v1/groups/{guid}/members/{uid}/scope",
            put(groups::change_scope),
        )
        .route("/v1/messages", get(messages::history).post(messages::send))
        .route(
            "/v1/messages/{id}",
            get(messages::get)
                .patch(messages::edit)
                .delete(messages::delete),
        )
        .route("/v1/calls/{session_id}", get(messages::get_call))
        .route("/v1/admin/throttle", post(admin::throttle))
        .route(chinwag_protocol::WS_PATH, get(ws::upgrade))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
}

async fn health(axum::extract::State(app): axum::extract::State<AppRef>) -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        app_id: app.config.app_id.clone(),
        protocol: chinwag_protocol::PROTOCOL_VERSION,
    })
}

async fn not_found(uri: axum::http::Uri) -> HttpError {
    ApiError::new(ErrorCode::NotFound, format!("no endpoint {}", uri.path())).into()
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> HttpError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("{method} is not supported on {}", uri.path()),
    )
    .into()
}
