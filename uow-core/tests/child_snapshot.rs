//! A store that keeps the child rows it read as the aggregate's snapshot
//! (`attach_children_kept`) hands the unit of work exactly the rows it
//! would have encoded itself: the same values in the same order, whatever
//! order the database returned them in.

use uow_core::{
    Aggregate, Entity,
    backend::{ChildRows, attach_children, attach_children_kept, encode_children},
};

#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "warehouses")]
pub struct Warehouse {
    #[aggregate(id)]
    pub code: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(children)]
    pub shelves: Vec<Shelf>,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[entity(table = "shelves")]
pub struct Shelf {
    #[entity(id)]
    pub label: String,
    pub capacity: i64,
    #[entity(children)]
    pub boxes: Vec<Crate>,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[entity(table = "crates")]
pub struct Crate {
    #[entity(id)]
    pub number: i64,
    pub contents: Option<String>,
}

/// Shelves whose labels sort in another order than their positions, each
/// with crates whose numbers do too.
fn warehouse(code: &str) -> Warehouse {
    Warehouse {
        code: code.to_owned(),
        version: 3,
        shelves: ["north", "east", "south"]
            .into_iter()
            .enumerate()
            .map(|(s, label)| Shelf {
                label: label.to_owned(),
                capacity: 10 * s as i64,
                boxes: (0..3)
                    .map(|b| Crate {
                        number: 100 - (10 * s as i64 + b),
                        contents: (b != 1).then(|| format!("{code} {label} {b}")),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn without_children(warehouse: &Warehouse) -> Warehouse {
    Warehouse {
        shelves: Vec::new(),
        ..warehouse.clone()
    }
}

/// The rows of `warehouses`' children in one list per table, as a database
/// returns them for all of them: mixed, in no particular order.
fn as_read(warehouses: &[Warehouse]) -> ChildRows {
    let mut tables: ChildRows = Vec::new();
    for warehouse in warehouses {
        for (table, rows) in encode_children(warehouse).unwrap().into_iter().enumerate() {
            if tables.len() <= table {
                tables.push(Vec::new());
            }
            tables[table].extend(rows);
        }
    }
    for rows in &mut tables {
        rows.reverse();
        let half = rows.len() / 2;
        rows.rotate_left(half);
    }
    tables
}

#[test]
fn the_kept_rows_are_the_rows_the_unit_of_work_would_encode() {
    let stored = [warehouse("W-1"), warehouse("W-2")];
    let mut loaded: Vec<Warehouse> = stored.iter().map(without_children).collect();

    let snapshots = attach_children_kept(&mut loaded, as_read(&stored)).unwrap();

    assert_eq!(loaded, stored);
    assert_eq!(snapshots.len(), stored.len());
    for (snapshot, warehouse) in snapshots.iter().zip(&stored) {
        assert_eq!(*snapshot, encode_children(warehouse).unwrap());
    }
}

#[test]
fn keeping_the_rows_reads_the_same_children_as_moving_them() {
    let stored = [warehouse("W-1"), warehouse("W-2")];
    let mut kept: Vec<Warehouse> = stored.iter().map(without_children).collect();
    let mut moved = kept.clone();

    attach_children_kept(&mut kept, as_read(&stored)).unwrap();
    attach_children(&mut moved, as_read(&stored)).unwrap();

    assert_eq!(kept, moved);
    assert_eq!(kept[1].shelves[2].boxes[0].id(), &80);
}

#[test]
fn a_root_without_children_keeps_an_empty_snapshot() {
    let bare = Warehouse {
        shelves: Vec::new(),
        ..warehouse("W-3")
    };
    let expected = encode_children(&bare).unwrap();
    let mut loaded = vec![bare.clone()];

    let snapshots = attach_children_kept(&mut loaded, as_read(&[warehouse("W-4")])).unwrap();

    assert_eq!(snapshots, [expected]);
    assert_eq!(loaded, [bare]);
}
