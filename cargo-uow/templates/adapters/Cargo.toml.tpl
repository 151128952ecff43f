[package]
name = "{{name}}-adapters"
description = "The {{name}} service's adapters and entry point: an HTTP API on axum over the service layer, wired to SQLite, PostgreSQL or MySQL through uow-sqlx."
version.workspace = true
edition.workspace = true
publish.workspace = true

# The entry point keeps the service's name: `cargo run -p {{name}}-adapters`
# builds and runs the `{{name}}` binary.
[[bin]]
name = "{{name}}"
path = "src/main.rs"

[dependencies]
{{name}}-domain = { workspace = true }
{{name}}-service = { workspace = true }
uow-core = { workspace = true }
uow-sqlx = { workspace = true, features = ["sqlite", "postgres", "mysql"] }
# The runtime Migrator only (no migrate! macro, so no sqlx-macros).
sqlx = { version = "0.9", default-features = false, features = ["migrate"] }
tokio = { workspace = true }
serde = { workspace = true }
serde_json = { workspace = true }
tracing = { workspace = true }
tracing-subscriber = { version = "0.3", default-features = false, features = ["fmt", "std", "ansi"] }
axum = { version = "0.8", default-features = false, features = ["http1", "json", "tokio", "tracing", "matched-path"] }
tower-http = { version = "0.6", default-features = false, features = ["trace"] }

[dev-dependencies]
uow-testing = { workspace = true }
tower = { version = "0.5", default-features = false, features = ["util"] }
