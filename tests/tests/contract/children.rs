//! The child-entity scenarios of the store contract: an aggregate is whole,
//! its children are diffed by id at commit, and any change inside it checks
//! and bumps the root's version.

use uow_core::{Error, Store};
use uow_tests::backends::Backend;
use uow_tests::warehouse::{
    Allocation, AllocationFinders, Batch, BatchFinders, Label, Order, OrderLine, Product, TABLES,
    Warehouse,
};

macro_rules! fresh {
    ($b:ty) => {
        match <$b as uow_testing::Backend>::fresh_with(TABLES).await {
            Some(store) => store,
            None => return,
        }
    };
}

async fn seed<S: Store>(store: &S, products: Vec<Product>, orders: Vec<Order>) {
    let mut uow = Warehouse::begin(store).await.expect("begin");
    for product in products {
        uow.products.add(product).expect("add");
    }
    for order in orders {
        uow.orders.add(order).expect("add");
    }
    uow.commit().await.expect("seed commit");
}

async fn product<S: Store>(store: &S, sku: &str) -> Option<Product> {
    let mut uow = Warehouse::begin(store).await.expect("begin");
    uow.products
        .get(&sku.to_owned())
        .await
        .expect("get")
        .cloned()
}

async fn order<S: Store>(store: &S, id: &str) -> Option<Order> {
    let mut uow = Warehouse::begin(store).await.expect("begin");
    uow.orders.get(&id.to_owned()).await.expect("get").cloned()
}

fn lamp() -> Product {
    let mut lamp = Product::new("LAMP");
    lamp.batches = vec![
        Batch::new("b-3", 30).allocated(&["o-1", "o-2"]),
        Batch::new("b-1", 10).allocated(&["o-3"]),
        Batch::new("b-2", 20),
    ];
    lamp.batches[1].eta = Some(1_700_000_000);
    lamp.label = Some(Label {
        code: "L-1".into(),
        text: "brass".into(),
    });
    lamp
}

pub async fn child_tables_round_trip_three_levels_in_the_order_written<B: Backend>() {
    let store = fresh!(B);
    let written = lamp();
    seed(&store, vec![written.clone(), Product::new("BARE")], vec![]).await;

    let loaded = product(&store, "LAMP").await.expect("stored");
    assert_eq!(
        loaded,
        Product {
            version: 1,
            ..written
        }
    );
    let bare = product(&store, "BARE").await.expect("stored");
    assert!(bare.batches.is_empty() && bare.label.is_none(), "{bare:?}");

    let mut uow = Warehouse::begin(&store).await.expect("begin");
    let listed = uow.products.list(10).await.expect("list");
    let counts: Vec<(String, usize)> = listed
        .iter()
        .map(|p| (p.sku.clone(), p.batches.len()))
        .collect();
    assert_eq!(counts, [("BARE".to_owned(), 0), ("LAMP".to_owned(), 3)]);
}

pub async fn changing_only_a_child_moves_the_owner_version<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![lamp()], vec![]).await;

    let mut uow = Warehouse::begin(&store).await.expect("begin");
    let lamp = uow
        .products
        .get(&"LAMP".to_owned())
        .await
        .expect("get")
        .expect("stored");
    lamp.batch("b-3").allocations[1].quantity = 5;
    uow.commit().await.expect("commit");

    let loaded = product(&store, "LAMP").await.expect("stored");
    assert_eq!(loaded.version, 2, "a grandchild's change bumps the root");
    assert_eq!(loaded.batches[0].allocations[1].quantity, 5);

    // Loading and committing without a change writes nothing.
    let mut uow = Warehouse::begin(&store).await.expect("begin");
    uow.products
        .get(&"LAMP".to_owned())
        .await
        .expect("get")
        .expect("stored");
    uow.commit().await.expect("commit");
    assert_eq!(product(&store, "LAMP").await.expect("stored").version, 2);

    // Replacing the optional child is a change too.
    let mut uow = Warehouse::begin(&store).await.expect("begin");
    let lamp = uow
        .products
        .get(&"LAMP".to_owned())
        .await
        .expect("get")
        .expect("stored");
    lamp.label = None;
    uow.commit().await.expect("commit");
    let loaded = product(&store, "LAMP").await.expect("stored");
    assert_eq!((loaded.version, loaded.label), (3, None));
}

pub async fn a_new_child_with_an_application_assigned_uuid_is_inserted_not_updated<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![lamp()], vec![]).await;

    let added = Allocation::new("o-9", 4);
    let mut uow = Warehouse::begin(&store).await.expect("begin");
    let lamp = uow
        .products
        .get(&"LAMP".to_owned())
        .await
        .expect("get")
        .expect("stored");
    lamp.batch("b-2").allocations.push(added.clone());
    uow.commit().await.expect("the new child is inserted");

    let loaded = product(&store, "LAMP").await.expect("stored");
    assert_eq!(loaded.batches[2].allocations, vec![added]);
    assert_eq!(loaded.version, 2);
}

pub async fn a_new_child_with_a_composite_key_is_inserted_not_updated<B: Backend>() {
    let store = fresh!(B);
    // Line 1 exists in order o-1: the same line number in o-2 is another
    // child (its key is order + line).
    seed(&store, vec![], vec![Order::new("o-1", &["LAMP", "SOFA"])]).await;

    let mut uow = Warehouse::begin(&store).await.expect("begin");
    uow.orders.add(Order::new("o-2", &["RUG"])).expect("add");
    let first = uow
        .orders
        .get(&"o-1".to_owned())
        .await
        .expect("get")
        .expect("stored");
    first.lines.push(OrderLine {
        number: 3,
        sku: "CHAIR".into(),
        quantity: 2,
    });
    uow.commit().await.expect("commit");

    let first = order(&store, "o-1").await.expect("stored");
    let numbers: Vec<i32> = first.lines.iter().map(|l| l.number).collect();
    assert_eq!((numbers, first.version), (vec![1, 2, 3], 2));
    let second = order(&store, "o-2").await.expect("stored");
    assert_eq!(second.lines, Order::new("o-2", &["RUG"]).lines);
}

pub async fn two_units_changing_different_children_of_one_root_child_conflict<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![lamp()], vec![]).await;

    let mut first = Warehouse::begin(&store).await.expect("begin");
    let mut second = Warehouse::begin(&store).await.expect("begin");
    first
        .products
        .get(&"LAMP".to_owned())
        .await
        .expect("get")
        .expect("stored")
        .batch("b-1")
        .quantity = 11;
    second
        .products
        .get(&"LAMP".to_owned())
        .await
        .expect("get")
        .expect("stored")
        .batch("b-2")
        .quantity = 22;
    first.commit().await.expect("the first commits");
    match second.commit().await {
        Err(Error::Conflict {
            aggregate,
            id,
            expected,
        }) => assert_eq!((aggregate, id.as_str(), expected), ("Product", "LAMP", 1)),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let loaded = product(&store, "LAMP").await.expect("stored");
    let quantities: Vec<i64> = loaded.batches.iter().map(|b| b.quantity).collect();
    assert_eq!((quantities, loaded.version), (vec![30, 11, 20], 2));
}

pub async fn children_are_diffed_by_id_added_changed_removed_and_reordered<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![lamp()], vec![]).await;

    let mut uow = Warehouse::begin(&store).await.expect("begin");
    let lamp = uow
        .products
        .get(&"LAMP".to_owned())
        .await
        .expect("get")
        .expect("stored");
    // b-3 (with its allocations) goes, b-2 changes, b-4 comes, b-1 moves
    // to the end.
    lamp.batches.retain(|b| b.reference != "b-3");
    lamp.batch("b-2").eta = Some(42);
    let first = lamp.batches.remove(0);
    lamp.batches.push(Batch::new("b-4", 40));
    lamp.batches.push(first);
    let expected = lamp.batches.clone();
    uow.commit().await.expect("commit");

    let loaded = product(&store, "LAMP").await.expect("stored");
    assert_eq!(loaded.batches, expected);
    // The allocations of the removed batch went with it: a batch of that
    // reference added again starts with none.
    let mut uow = Warehouse::begin(&store).await.expect("begin");
    let lamp = uow
        .products
        .get(&"LAMP".to_owned())
        .await
        .expect("get")
        .expect("stored");
    lamp.batches.push(Batch::new("b-3", 1));
    uow.commit().await.expect("commit");
    let loaded = product(&store, "LAMP").await.expect("stored");
    assert!(loaded.batch_ref("b-3").allocations.is_empty());
}

pub async fn a_child_moves_between_roots_in_one_unit<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![lamp(), Product::new("SOFA")], vec![]).await;

    let mut uow = Warehouse::begin(&store).await.expect("begin");
    let lamp = uow
        .products
        .get(&"LAMP".to_owned())
        .await
        .expect("get")
        .expect("stored");
    let index = lamp
        .batches
        .iter()
        .position(|b| b.reference == "b-3")
        .expect("b-3");
    let moved = lamp.batches.remove(index);
    uow.products
        .get(&"SOFA".to_owned())
        .await
        .expect("get")
        .expect("stored")
        .batches
        .push(moved.clone());
    uow.commit().await.expect("commit");

    let lamp = product(&store, "LAMP").await.expect("stored");
    let sofa = product(&store, "SOFA").await.expect("stored");
    assert!(lamp.batches.iter().all(|b| b.reference != "b-3"));
    assert_eq!(sofa.batches, vec![moved]);
    assert_eq!((lamp.version, sofa.version), (2, 2));
}

pub async fn a_grandchild_moves_to_a_new_child_of_its_root<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![lamp()], vec![]).await;

    let mut uow = Warehouse::begin(&store).await.expect("begin");
    let lamp = uow
        .products
        .get(&"LAMP".to_owned())
        .await
        .expect("get")
        .expect("stored");
    // b-3 goes; its first allocation moves to a new batch b-5.
    let index = lamp
        .batches
        .iter()
        .position(|b| b.reference == "b-3")
        .expect("b-3");
    let old = lamp.batches.remove(index);
    let mut new = Batch::new("b-5", 50);
    new.allocations.push(old.allocations[0].clone());
    lamp.batches.push(new.clone());
    uow.commit().await.expect("commit");

    let loaded = product(&store, "LAMP").await.expect("stored");
    assert_eq!(loaded.batch_ref("b-5"), &new);
}

pub async fn removing_a_root_removes_its_children<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![lamp()], vec![]).await;

    let mut uow = Warehouse::begin(&store).await.expect("begin");
    uow.products
        .remove(&"LAMP".to_owned())
        .await
        .expect("remove");
    uow.commit().await.expect("commit");
    assert_eq!(product(&store, "LAMP").await, None);

    // The same id added again holds only what it is given: no child rows
    // were left behind (nor their unique tracking codes).
    let mut again = Product::new("LAMP");
    again.batches.push(Batch::new("b-1", 1));
    seed(&store, vec![again.clone()], vec![]).await;
    let loaded = product(&store, "LAMP").await.expect("stored");
    assert_eq!(
        loaded,
        Product {
            version: 1,
            ..again
        }
    );
}

pub async fn two_children_with_one_id_are_a_duplicate_child_error<B: Backend>() {
    let store = fresh!(B);
    let mut twice = Product::new("LAMP");
    twice.batches = vec![Batch::new("b-1", 1), Batch::new("b-1", 2)];
    twice.batches[1].tracking = "other".into();
    let mut uow = Warehouse::begin(&store).await.expect("begin");
    uow.products.add(twice).expect("staged");
    match uow.commit().await {
        Err(Error::DuplicateChild {
            aggregate,
            id,
            child,
            child_id,
        }) => assert_eq!(
            (aggregate, id.as_str(), child, child_id.as_str()),
            ("Product", "LAMP", "Batch", "b-1")
        ),
        other => panic!("expected a duplicate child, got {other:?}"),
    }
    assert_eq!(product(&store, "LAMP").await, None);
}

pub async fn a_taken_unique_child_value_is_a_duplicate<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![lamp()], vec![]).await;

    let mut sofa = Product::new("SOFA");
    let mut batch = Batch::new("b-9", 1);
    batch.tracking = "T-b-1".into(); // LAMP's b-1 holds it
    sofa.batches.push(batch);
    let mut uow = Warehouse::begin(&store).await.expect("begin");
    uow.products.add(sofa).expect("staged");
    match uow.commit().await {
        Err(Error::Duplicate { column, .. }) => assert_eq!(column, "tracking"),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    assert_eq!(product(&store, "SOFA").await, None, "nothing was committed");
}

pub async fn roots_are_found_by_a_child_or_grandchild_column<B: Backend>() {
    let store = fresh!(B);
    let mut sofa = Product::new("SOFA");
    sofa.batches.push(Batch::new("b-7", 7).allocated(&["o-1"]));
    seed(&store, vec![lamp(), sofa, Product::new("RUG")], vec![]).await;

    let mut uow = Warehouse::begin(&store).await.expect("begin");
    let found = uow
        .products
        .get_by_batch_tracking("T-b-2")
        .await
        .expect("get_by")
        .map(|p| p.sku.clone());
    assert_eq!(found.as_deref(), Some("LAMP"));
    assert!(
        uow.products
            .get_by_batch_tracking("T-b-2 ")
            .await
            .expect("get_by")
            .is_none(),
        "exact values only"
    );
    // o-1 is allocated in LAMP and in SOFA: both, the lowest sku first,
    // each once although LAMP holds it in one batch only.
    let skus: Vec<String> = uow
        .products
        .find_by_allocation_order("o-1")
        .await
        .expect("find_by")
        .into_iter()
        .map(|p| p.sku.clone())
        .collect();
    assert_eq!(skus, ["LAMP", "SOFA"]);
    // A root found this way is whole, and the one the unit of work holds.
    let lamp = uow
        .products
        .get(&"LAMP".to_owned())
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(lamp.batches.len(), 3);
    lamp.description = "changed here".into();
    let again = uow
        .products
        .get_by_batch_tracking("T-b-1")
        .await
        .expect("get_by")
        .expect("found");
    assert_eq!(again.description, "changed here");
}

/// Roots loaded by a typed query (a page included) are tracked with their
/// children's snapshot, as those loaded by `get` are: changing one child
/// writes that child only, an unchanged root writes nothing, and nothing is
/// inserted twice.
pub async fn roots_found_by_a_query_are_diffed_by_child_like_loaded_ones<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![lamp(), Product::new("BARE")], vec![]).await;

    let mut uow = Warehouse::begin(&store).await.expect("begin");
    let found = uow
        .products
        .query()
        .filter(|p| p.sku.eq("LAMP"))
        .all()
        .await
        .expect("query");
    assert_eq!(found.len(), 1);
    let lamp = found.into_iter().next().expect("found");
    assert_eq!(lamp.batches.len(), 3, "children come with a queried root");
    lamp.batch("b-1").quantity = 11;
    uow.commit()
        .await
        .expect("commit: only the changed child is written");

    let loaded = product(&store, "LAMP").await.expect("stored");
    assert_eq!(loaded.version, 2);
    let b1 = loaded.batches.iter().find(|b| b.reference == "b-1");
    assert_eq!(b1.map(|b| b.quantity), Some(11));
    assert_eq!(loaded.batches.len(), 3);
    assert_eq!(loaded.batches[0].allocations.len(), 2);

    // A page of roots, none changed: no write, no version moves.
    let mut uow = Warehouse::begin(&store).await.expect("begin");
    let page = uow
        .products
        .query()
        .order_by(|p| p.sku.asc())
        .page(10, None)
        .await
        .expect("page");
    assert_eq!(page.items.len(), 2);
    uow.commit().await.expect("commit");
    assert_eq!(product(&store, "LAMP").await.expect("stored").version, 2);
    assert_eq!(product(&store, "BARE").await.expect("stored").version, 1);
}
