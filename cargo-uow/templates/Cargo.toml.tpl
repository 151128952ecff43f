[workspace]
resolver = "3"
members = ["domain", "service", "adapters"]

[workspace.package]
version = "0.1.0"
edition = "2024"
publish = false

[workspace.dependencies]
{{name}}-domain = { path = "domain" }
{{name}}-service = { path = "service" }
uow-core = {{uow_core}}
uow-sqlx = {{uow_sqlx}}
uow-testing = {{uow_testing}}
serde = { version = "1", features = ["derive"] }
serde_json = "1"
thiserror = "2"
tracing = "0.1"
tokio = { version = "1", features = ["rt-multi-thread", "macros", "sync", "time", "net", "signal"] }
chrono = { version = "0.4", default-features = false, features = ["std", "clock", "serde"] }
uuid = { version = "1", features = ["serde"] }
rust_decimal = { version = "1", default-features = false, features = ["std", "serde"] }
