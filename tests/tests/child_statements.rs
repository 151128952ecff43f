//! Child tables on the SQL stores: what they cost in statements, counted by
//! the store (loading many roots reads each child table once, and a commit
//! writes only the child rows that changed, with the root's version-checked
//! update), and the verification of child tables a migration made.

use uow_sqlx::SqlxStore;
use uow_tests::warehouse::{Batch, Product, TABLES, Warehouse};

mod scenarios {
    use super::*;

    const ROOTS: usize = 100;

    fn product(n: usize) -> Product {
        let mut product = Product::new(&format!("SKU-{n:03}"));
        product.batches = (0..3)
            .map(|b| {
                let mut batch = Batch::new(&format!("b-{b}"), 10).allocated(&["o-1", "o-2"]);
                batch.tracking = format!("T-{n}-{b}");
                batch
            })
            .collect();
        product
    }

    pub async fn child_tables_cost_one_query_each_to_load_and_one_statement_per_changed_row<
        B: uow_testing::Backend<Store = SqlxStore>,
    >() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        let child_tables = <Product as uow_core::Aggregate>::META
            .child_layout()
            .tables
            .len() as u64;
        assert_eq!(child_tables, 3, "batches, allocations, labels");

        let mut uow = Warehouse::begin(&store).await.expect("begin");
        for n in 0..ROOTS {
            uow.products.add(product(n)).expect("add");
        }
        let before = store.statements_executed();
        uow.commit().await.expect("commit");
        let adds = store.statements_executed() - before;
        assert!(
            adds <= 12,
            "{adds} statements to add {ROOTS} products with 300 batches and 600 allocations"
        );

        // Loading 100 roots: one query for the roots, one per child table.
        let mut uow = Warehouse::begin(&store).await.expect("begin");
        let before = store.statements_executed();
        let loaded = uow.products.list(ROOTS as u64).await.expect("list");
        let load = store.statements_executed() - before;
        assert_eq!(loaded.len(), ROOTS);
        assert!(loaded.iter().all(|p| p.batches.len() == 3
            && p.batches.iter().all(|b| b.allocations.len() == 2)));
        assert_eq!(
            load,
            1 + child_tables,
            "one query for the roots, one per child table"
        );
        drop(uow);

        // The cost of a commit that changes only a root's own column, on
        // the same database with commit markers off (the marker is one more
        // statement in a transaction, but folded into a lone update).
        let unmarked = store.with_commit_markers(false);
        let mut uow = Warehouse::begin(&unmarked).await.expect("begin");
        uow.products
            .get(&"SKU-007".to_owned())
            .await
            .expect("get")
            .expect("stored")
            .description = "changed".into();
        let before = unmarked.statements_executed();
        uow.commit().await.expect("commit");
        let root_only = unmarked.statements_executed() - before;
        assert_eq!(root_only, 1, "the root's version-checked update");

        // Changing one grandchild: that row's update, plus the root's
        // version-checked update, and nothing else.
        let mut uow = Warehouse::begin(&unmarked).await.expect("begin");
        let sku = "SKU-042".to_owned();
        uow.products
            .get(&sku)
            .await
            .expect("get")
            .expect("stored")
            .batch("b-1")
            .allocations[0]
            .quantity = 9;
        let before = unmarked.statements_executed();
        uow.commit().await.expect("commit");
        let grandchild = unmarked.statements_executed() - before;
        assert_eq!(
            grandchild,
            root_only + 1,
            "one child statement plus the root's version update ({root_only} statements)"
        );

        let mut uow = Warehouse::begin(&store).await.expect("begin");
        let stored = uow.products.get(&sku).await.expect("get").expect("stored");
        assert_eq!(
            (stored.version, stored.batch("b-1").allocations[0].quantity),
            (2, 9)
        );
        uow_tests::report(&format!(
            "{}: {ROOTS} products with 3 batches × 2 allocations added in {adds} statements, loaded in {load} queries; a commit of one root column takes {root_only} statements, of one allocation {grandchild}",
            B::NAME
        ));
    }

    /// `verify_tables` accepts the child tables uow's DDL makes, and names
    /// a child table whose `(root_id, id)` primary key a migration left out.
    pub async fn verification_names_a_child_table_without_its_key<
        B: uow_testing::Backend<Store = SqlxStore>,
    >() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        store
            .verify_tables(TABLES)
            .await
            .expect("uow's own tables pass");

        let ddl = store.ddl(&[<Product as uow_core::Aggregate>::META]);
        let create = ddl
            .split(";\n")
            .find(|s| s.contains("CREATE TABLE") && s.contains("wh_allocations"))
            .expect("the allocations table's DDL");
        let without_key: String = create
            .lines()
            .filter(|line| !line.trim_start().starts_with("PRIMARY KEY"))
            .collect::<Vec<_>>()
            .join("\n");
        uow_tests::raw_sql::execute(&store, "DROP TABLE wh_allocations")
            .await
            .expect("drop");
        uow_tests::raw_sql::execute(&store, &without_key)
            .await
            .unwrap_or_else(|e| panic!("{without_key}: {e}"));
        match store.verify_tables(TABLES).await {
            Err(uow_core::Error::Schema {
                table,
                column,
                problem,
            }) => {
                assert_eq!(table, "wh_allocations");
                assert_eq!(column.as_deref(), Some("id"));
                assert!(
                    problem.contains("no primary key on (root_id, id)"),
                    "{problem}"
                );
            }
            other => panic!("expected a schema error, got {other:?}"),
        }
    }
}

uow_tests::on_backends!([sqlite, postgres, mysql] scenarios: [
    child_tables_cost_one_query_each_to_load_and_one_statement_per_changed_row,
    verification_names_a_child_table_without_its_key,
]);
