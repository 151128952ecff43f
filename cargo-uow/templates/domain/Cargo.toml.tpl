[package]
name = "{{name}}-domain"
description = "The {{name}} domain: aggregates and events. Depends on uow-core only (plus serde, chrono, uuid and rust_decimal as vocabulary)."
version.workspace = true
edition.workspace = true
publish.workspace = true

[dependencies]
uow-core = { workspace = true, features = ["derive", "chrono", "uuid", "decimal"] }
serde = { workspace = true }
serde_json = { workspace = true }
chrono = { workspace = true }
uuid = { workspace = true }
rust_decimal = { workspace = true }
