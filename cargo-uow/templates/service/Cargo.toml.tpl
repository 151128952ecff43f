[package]
name = "{{name}}-service"
description = "The {{name}} service layer: commands, their handlers on the message bus, one unit of work; generic over the uow store."
version.workspace = true
edition.workspace = true
publish.workspace = true

[dependencies]
{{name}}-domain = { workspace = true }
uow-core = { workspace = true, features = ["derive"] }
thiserror = { workspace = true }
tokio = { workspace = true }

[dev-dependencies]
uow-testing = { workspace = true }
chrono = { workspace = true }
uuid = { workspace = true }
rust_decimal = { workspace = true }
serde_json = { workspace = true }
