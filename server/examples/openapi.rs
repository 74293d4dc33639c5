//! Prints the server's OpenAPI description: `make openapi` writes it to `docs/openapi.json`.

fn main() {
    print!("{}", chinwag_server::openapi_json());
}
