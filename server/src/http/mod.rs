//! The HTTP surface: REST endpoints under `/v1` and the WebSocket upgrade, on one router.

mod admin;
mod blocks;
mod conversations;
mod extract;
mod groups;
mod messages;
pub mod openapi;
pub mod threads;
mod users;
mod ws;

use axum::http::Method;
use axum::routing::MethodRouter;
use axum::Router;
use chinwag_protocol::rest::Health;
use chinwag_protocol::{ApiError, ErrorCode};

use crate::service::AppRef;
pub use extract::{HttpError, PeerAddr};

/// Every endpoint: method, path, handler. The router is built from this table and
/// [`routes`] lists it, so a test that walks `routes()` sees every endpoint the server serves.
/// A new one also gets `#[utoipa::path]` on its handler and a line in `openapi.rs` (see there);
/// server/tests/openapi.rs fails until it has.
fn endpoints() -> Vec<(Method, &'static str, MethodRouter<AppRef>)> {
    use axum::routing::{delete, get, patch, post, put};
    vec![
        (Method::GET, "/v1/health", get(health)),
        (Method::GET, "/v1/openapi.json", get(openapi::openapi_json)),
        (Method::POST, "/v1/login", post(users::login)),
        (Method::POST, "/v1/logout", post(users::logout)),
        (Method::GET, "/v1/me", get(users::me)),
        (Method::GET, "/v1/me/position", get(users::position)),
        (Method::GET, "/v1/me/blocked", get(blocks::list)),
        (Method::POST, "/v1/me/blocked", post(blocks::block)),
        (
            Method::DELETE,
            "/v1/me/blocked/{uid}",
            delete(blocks::unblock),
        ),
        (Method::POST, "/v1/users", post(users::create)),
        (Method::GET, "/v1/users", get(users::list)),
        (Method::GET, "/v1/users/{uid}", get(users::get)),
        (Method::PATCH, "/v1/users/{uid}", patch(users::update)),
        (
            Method::POST,
            "/v1/users/{uid}/tokens",
            post(users::mint_token),
        ),
        (
            Method::DELETE,
            "/v1/users/{uid}/tokens",
            delete(users::revoke_tokens),
        ),
        (
            Method::POST,
            "/v1/users/{uid}/deactivate",
            post(users::deactivate),
        ),
        (
            Method::POST,
            "/v1/users/{uid}/activate",
            post(users::activate),
        ),
        (
            Method::GET,
            "/v1/users/{uid}/friends",
            get(users::list_friends),
        ),
        (
            Method::POST,
            "/v1/users/{uid}/friends",
            post(users::add_friends),
        ),
        (
            Method::GET,
            "/v1/users/{uid}/friend_requests",
            get(users::friend_requests),
        ),
        (
            Method::DELETE,
            "/v1/users/{uid}/friends/{friend}",
            delete(users::remove_friend),
        ),
        (Method::POST, "/v1/groups", post(groups::create)),
        (Method::GET, "/v1/groups", get(groups::list)),
        (Method::GET, "/v1/groups/{guid}", get(groups::get)),
        (Method::POST, "/v1/groups/{guid}/join", post(groups::join)),
        (Method::POST, "/v1/groups/{guid}/leave", post(groups::leave)),
        (
            Method::GET,
            "/v1/groups/{guid}/members",
            get(groups::members),
        ),
        (
            Method::POST,
            "/v1/groups/{guid}/members",
            post(groups::add_members),
        ),
        (Method::POST, "/v1/groups/{guid}/kick", post(groups::kick)),
        (Method::POST, "/v1/groups/{guid}/ban", post(groups::ban)),
        (Method::POST, "/v1/groups/{guid}/unban", post(groups::unban)),
        (
            Method::PUT,
            "/v1/groups/{guid}/members/{uid}/scope",
            put(groups::change_scope),
        ),
        (Method::GET, "/v1/conversations", get(conversations::list)),
        (
            Method::GET,
            "/v1/conversations/unread",
            get(conversations::unread),
        ),
        (
            Method::GET,
            "/v1/conversations/{kind}/{with}",
            get(conversations::get),
        ),
        (
            Method::DELETE,
            "/v1/conversations/{kind}/{with}",
            delete(conversations::delete),
        ),
        (Method::GET, "/v1/messages", get(messages::history)),
        (Method::POST, "/v1/messages", post(messages::send)),
        (Method::GET, "/v1/messages/{id}", get(messages::get)),
        (Method::PATCH, "/v1/messages/{id}", patch(messages::edit)),
        (
            Method::GET,
            "/v1/messages/{id}/thread",
            get(threads::thread),
        ),
        (
            Method::DELETE,
            "/v1/messages/{id}",
            delete(messages::delete),
        ),
        (
            Method::GET,
            "/v1/calls/{session_id}",
            get(messages::get_call),
        ),
        (Method::POST, "/v1/admin/throttle", post(admin::throttle)),
        (Method::GET, "/v1/admin/groups", get(admin::groups)),
        (Method::GET, chinwag_protocol::WS_PATH, get(ws::upgrade)),
    ]
}

/// Every endpoint the router serves, as (method, path template).
pub fn routes() -> Vec<(Method, &'static str)> {
    endpoints().into_iter().map(|(m, p, _)| (m, p)).collect()
}

pub fn router(app: AppRef) -> Router {
    let mut router = Router::new();
    for (_, path, handler) in endpoints() {
        // The same path under several methods: axum merges the method routers.
        router = router.route(path, handler);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
}

#[utoipa::path(get, path = "/v1/health", tag = "server", security(()), responses((status = 200, body = Health, description = "The server is up")))]
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
