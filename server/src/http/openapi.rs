//! The OpenAPI 3 description of the REST API, generated from the handlers' `#[utoipa::path]`
//! annotations and the wire types' schemas (chinwag-protocol's `openapi` feature). Served at
//! `GET /v1/openapi.json`; `docs/openapi.json` is the same document, committed (`make openapi`
//! writes it; server/tests/openapi.rs fails when the two differ or when a route of
//! [`super::routes`] is not described).
//!
//! Adding an endpoint: list it in `endpoints()` (mod.rs), annotate its handler with
//! `#[utoipa::path(...)]` (method, path, params, body, success response, `security`), and name
//! the handler in [`ApiDoc`]'s `paths(...)` below. The error answers are added here for every
//! operation, so an annotation lists only what succeeds.

use std::sync::OnceLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chinwag_protocol::{ApiError, ErrorCode};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use super::{admin, blocks, conversations, groups, messages, threads, users, ws};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chinwag REST API",
        description = "The REST surface of chinwag-server (docs/protocol.md describes it in prose, \
                       and the WebSocket protocol). Every failure answers with the `ApiError` body: \
                       its `code` says what went wrong, the HTTP status follows from the code. Any request \
                       may carry `X-Chinwag-App` with the app id the client expects: another one \
                       fails with APP_MISMATCH (400).",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        super::health,
        openapi_json,
        users::login,
        users::logout,
        users::me,
        users::position,
        blocks::list,
        blocks::block,
        blocks::unblock,
        users::create,
        users::list,
        users::get,
        users::update,
        users::mint_token,
        users::revoke_tokens,
        users::deactivate,
        users::activate,
        users::list_friends,
        users::add_friends,
        users::friend_requests,
        users::remove_friend,
        groups::create,
        groups::list,
        groups::get,
        groups::join,
        groups::leave,
        groups::members,
        groups::add_members,
        groups::kick,
        groups::ban,
        groups::unban,
        groups::change_scope,
        conversations::list,
        conversations::unread,
        conversations::get,
        conversations::delete,
        messages::history,
        messages::send,
        messages::get,
        messages::edit,
        messages::delete,
        threads::thread,
        messages::get_call,
        admin::throttle,
        admin::groups,
        ws::upgrade,
    ),
    components(schemas(ApiError, ErrorCode, super::users::Revoked)),
    modifiers(&Errors),
    tags(
        (name = "server", description = "Health and this description"),
        (name = "session", description = "Logging in and out, the caller's own view"),
        (name = "users", description = "Users, tokens, friends, blocking"),
        (name = "groups", description = "Groups and their members"),
        (name = "conversations", description = "The caller's conversations and unread counts"),
        (name = "messages", description = "Messages and calls"),
        (name = "admin", description = "Operator actions (API key)"),
    )
)]
pub struct ApiDoc;

/// The security schemes, one per credential kind, named in each operation's `security`.
pub const BEARER: &str = "bearer";
pub const API_KEY: &str = "api_key";
pub const AUTH_KEY: &str = "auth_key";

/// Adds the security schemes and, to every operation but the two that cannot fail, the error
/// answers: one response per HTTP status an `ApiError` maps to, listing the codes behind it.
struct Errors;

impl Modify for Errors {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A user's token (POST /v1/login, or minted by the app's backend)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            API_KEY,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "The app's API key: its backend, acting as admin",
            ))),
        );
        components.add_security_scheme(
            AUTH_KEY,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Auth-Key",
                "The app's auth key (development): may create users",
            ))),
        );
        for status in statuses() {
            components
                .responses
                .insert(response_name(status), error_response(status).into());
        }
        for (path, item) in api.paths.paths.iter_mut() {
            let ops = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
            ];
            for (method, op) in ops {
                let Some(op) = op.as_mut() else { continue };
                // Handler names repeat across modules (`list`, `get`): the id is the route.
                op.operation_id = Some(operation_id(method, path));
                if path == "/v1/health" || path == "/v1/openapi.json" {
                    continue;
                }
                add_errors(op, method != "get");
            }
        }
    }
}

/// `get /v1/users/{uid}/friends` -> `get_users_uid_friends`.
fn operation_id(method: &str, path: &str) -> String {
    let words = path
        .trim_start_matches("/v1")
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty());
    std::iter::once(method)
        .chain(words)
        .collect::<Vec<_>>()
        .join("_")
}

/// Every HTTP status an error code maps to, in order; but 405, which only a method that no
/// operation documents gets.
fn statuses() -> Vec<u16> {
    let mut s: Vec<u16> = all_codes()
        .iter()
        .map(|c| c.http_status())
        .filter(|s| *s != 405)
        .collect();
    s.sort_unstable();
    s.dedup();
    s
}

/// Every error code, read from the enum's own schema (so a new code shows up by itself).
fn all_codes() -> Vec<ErrorCode> {
    let schema = serde_json::to_value(ErrorCode::schema()).unwrap_or_default();
    schema["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| serde_json::from_value(v.clone()).ok())
        .collect()
}

fn response_name(status: u16) -> String {
    format!("Error{status}")
}

fn error_response(status: u16) -> utoipa::openapi::Response {
    let codes: Vec<&str> = all_codes()
        .into_iter()
        .filter(|c| c.http_status() == status)
        .map(ErrorCode::as_str)
        .collect();
    let mut b = ResponseBuilder::new()
        .description(format!("Refused: `code` is one of {}", codes.join(", ")))
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ApiError::name())))
                .build(),
        );
    if status == 429 {
        b = b.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(u64::schema()))
                .description(Some("Seconds to wait (also `retry_after_ms` in the body)"))
                .build(),
        );
    }
    b.build()
}

/// The error answers an operation can give: every status, but 409 (a conflict with stored
/// state) and 413 (a body too large) only where the request writes.
fn add_errors(op: &mut Operation, writes: bool) {
    for status in statuses() {
        if !writes && (status == 409 || status == 413) {
            continue;
        }
        op.responses.responses.insert(
            status.to_string(),
            RefOr::Ref(Ref::from_response_name(response_name(status))),
        );
    }
}

/// The document as served and committed: pretty JSON with a final newline.
pub fn json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut s = ApiDoc::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    })
}

/// This description.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "server",
    responses((status = 200, description = "The OpenAPI 3 description of this API", content_type = "application/json")))]
pub async fn openapi_json() -> Response {
    ([(CONTENT_TYPE, "application/json")], json()).into_response()
}
