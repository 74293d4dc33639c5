//! The REST API end to end: every endpoint's success path and its error paths, asserting the
//! HTTP status and the `code` of the JSON error body. One test binary, a module per resource.

#[path = "../common/mod.rs"]
mod common;

mod support;

mod accounts;
mod calls_admin;
mod groups;
mod messages;
mod routing;
