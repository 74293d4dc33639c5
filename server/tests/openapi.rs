mod common;

// The OpenAPI description (`GET /v1/openapi.json`): the same document as the committed
// `docs/openapi.json`, every route of the router described, and the error answers and
// credential kinds on every operation. `make api-contract-test` checks the live server against
// it with schemathesis.

use std::collections::BTreeSet;

use common::*;
use serde_json::Value;

const REGENERATE: &str = "run `make openapi` and commit docs/openapi.json";

fn committed() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}; {REGENERATE}"))
}

async fn served(server: &TestServer) -> (String, String) {
    let r = server
        .http
        .get(format!("{}/v1/openapi.json", server.url))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(r.status(), 200);
    let kind = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (kind, r.text().await.expect("a body"))
}

#[tokio::test]
async fn served_description_is_the_committed_docs_openapi_json() {
    let server = TestServer::start().await;
    let (kind, body) = served(&server).await;
    assert_eq!(kind, "application/json");
    let doc: Value = serde_json::from_str(&body).expect("the description is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    // Compared as text: the committed file is exactly what `make openapi` writes.
    if body != committed() {
        let first = body
            .lines()
            .zip(committed().lines())
            .position(|(a, b)| a != b)
            .map_or("the length".to_string(), |n| format!("line {}", n + 1));
        panic!(
            "docs/openapi.json differs from GET /v1/openapi.json (first at {first}): {REGENERATE}"
        );
    }
}

/// Every (method, path) the router serves is an operation of the description, and the other
/// way round: a new route without its `#[utoipa::path]` (or not listed in http/openapi.rs) fails.
#[test]
fn every_route_is_described_and_nothing_else() {
    let doc: Value = serde_json::from_str(chinwag_server::openapi_json()).expect("JSON");
    let described: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                .filter(|k| ["get", "put", "post", "delete", "patch"].contains(&k.as_str()))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = chinwag_server::routes()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let undescribed: Vec<_> = routed.difference(&described).collect();
    let unrouted: Vec<_> = described.difference(&routed).collect();
    assert!(
        undescribed.is_empty(),
        "routes without an OpenAPI operation (annotate the handler with #[utoipa::path] and list \
         it in server/src/http/openapi.rs): {undescribed:?}"
    );
    assert!(
        unrouted.is_empty(),
        "operations the router does not serve: {unrouted:?}"
    );
}

/// Each operation but health and the description itself documents the error answers (the
/// `ApiError` body, 429 with `Retry-After`) and names only the declared credential kinds; the
/// operation ids are unique.
#[test]
fn every_operation_documents_its_errors_and_credentials() {
    let doc: Value = serde_json::from_str(chinwag_server::openapi_json()).expect("JSON");
    let schemes: BTreeSet<&str> = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        schemes,
        BTreeSet::from(["api_key", "auth_key", "bearer"]),
        "one scheme per credential kind"
    );
    let error_body = &doc["components"]["responses"]["Error400"]["content"]["application/json"];
    assert_eq!(
        error_body["schema"]["$ref"],
        "#/components/schemas/ApiError"
    );
    assert!(doc["components"]["responses"]["Error429"]["headers"]["Retry-After"].is_object());
    let codes = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("the codes");
    assert!(codes.iter().any(|c| c == "INVALID_TOKEN"), "{codes:?}");

    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let id = op["operationId"].as_str().expect("an operation id");
            assert!(ids.insert(id.to_string()), "operation id {id} twice");
            if path == "/v1/health" || path == "/v1/openapi.json" {
                continue;
            }
            let responses = op["responses"].as_object().expect("responses");
            for status in ["400", "401", "403", "404", "429", "500"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not document {status}"
                );
            }
            let security = op["security"].as_array();
            assert!(
                security.is_some_and(|s| !s.is_empty()),
                "{method} {path} names no credential kind"
            );
            for requirement in security.into_iter().flatten() {
                for scheme in requirement.as_object().expect("a requirement").keys() {
                    assert!(
                        schemes.contains(scheme.as_str()),
                        "{method} {path}: {scheme}"
                    );
                }
            }
        }
    }
}
