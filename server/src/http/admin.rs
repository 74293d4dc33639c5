//! `/v1/admin/...`: operator actions with the API key.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chinwag_protocol::rest::{GroupList, ListGroupsQuery, ThrottleRequest};
use chinwag_protocol::ApiError;

use super::extract::{AdminCaller, Body, HttpResult, Params};
use crate::service::{page_limit, AppRef};
use crate::store;

/// Every group, whatever its type (`joined` is ignored): `chinwag-server admin groups list`.
#[utoipa::path(get, path = "/v1/admin/groups", tag = "admin", security(("api_key" = [])), params(ListGroupsQuery), responses((status = 200, body = GroupList, description = "A page of every group, whatever its type")))]
pub async fn groups(
    State(app): State<AppRef>,
    _admin: AdminCaller,
    Params(q): Params<ListGroupsQuery>,
) -> HttpResult<Json<GroupList>> {
    let limit = page_limit(q.limit)?;
    let page = app
        .store
        .read(move |c| {
            // One group beyond the page tells whether there is a next page.
            let mut groups =
                store::groups::list_all(c, q.search.as_deref(), q.after.as_deref(), limit + 1)?;
            let has_more = groups.len() > limit as usize;
            groups.truncate(limit as usize);
            let next_after = has_more
                .then(|| groups.last().map(|g| g.guid.clone()))
                .flatten();
            Ok(GroupList { groups, next_after })
        })
        .await?;
    Ok(Json(page))
}

/// Switches a feature off for every user for `duration_ms` (at most one hour).
#[utoipa::path(post, path = "/v1/admin/throttle", tag = "admin", security(("api_key" = [])), request_body = ThrottleRequest, responses((status = 204, description = "The feature is off for every user for `duration_ms`")))]
pub async fn throttle(
    State(app): State<AppRef>,
    _admin: AdminCaller,
    Body(req): Body<ThrottleRequest>,
) -> HttpResult<StatusCode> {
    if req.duration_ms == 0 || req.duration_ms > 3_600_000 {
        return Err(ApiError::new(
            chinwag_protocol::ErrorCode::InvalidArgument,
            "duration_ms must be 1..=3600000",
        )
        .into());
    }
    app.throttle_globally(
        req.feature,
        std::time::Duration::from_millis(req.duration_ms),
    );
    Ok(StatusCode::NO_CONTENT)
}
