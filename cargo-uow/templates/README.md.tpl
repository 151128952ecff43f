# {{name}}

A service built on [uow](https://example.invalid/uow): a domain crate
(`domain/`, aggregates and events, no storage), a service layer (`service/`:
commands, handlers on the message bus, one unit of work), and adapters
(`adapters/`: HTTP on axum, the SQL store, the entry point).

```sh
cargo run -p {{name}}-adapters # serves on 127.0.0.1:8080 ({{database_url}}); --bind ADDR or BIND to change
cargo test --workspace       # in memory and SQLite; PostgreSQL/MySQL with UOW_TEST_POSTGRES_URL / UOW_TEST_MYSQL_URL
```

```sh
curl -i -X POST localhost:8080/items -H 'content-type: application/json' -d '{"id":"i-1","name":"first"}'
curl -i localhost:8080/items/i-1                       # ETag: "1"
curl -i -X PATCH localhost:8080/items/i-1 -H 'If-Match: "1"' -H 'content-type: application/json' -d '{"name":"second"}'
```

Add an aggregate with `cargo uow add aggregate NAME field:type[:modifier]...`.

Migrations: `cargo uow migration new NAME` (`--dry-run` to print) writes
`migrations/<UTC timestamp>_NAME.sql` with what the database at
`DATABASE_URL` lacks for the aggregates (tables, columns, indexes; never a
drop); the service applies `migrations/` at start-up, then verifies its
tables. `cargo run -p {{name}} -- schema` prints the whole DDL.
