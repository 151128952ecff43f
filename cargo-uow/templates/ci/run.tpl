#!/usr/bin/env bash
# The checks CI runs. PostgreSQL and MySQL tests run when
# UOW_TEST_POSTGRES_URL / UOW_TEST_MYSQL_URL are set (required with CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
