//! The repository of one aggregate inside a unit of work: a collection-like
//! port (`get`, `add`, `remove`, `list`, finders) over an identity map.

use std::collections::{BTreeMap, BTreeSet, btree_map};
use std::fmt;
use std::sync::Arc;

use tracing::Instrument;

use crate::aggregate::{Aggregate, encode_row, id_text, refresh_row};
use crate::children::{
    ChildEntity, ChildRows, check_unique_ids, diff_children, encode_children, sort_changes,
};
use crate::error::Error;
use crate::outbox::EventSource;
use crate::query::{Filter, QueryBuilder, Queryable, Select};
use crate::store::{Delete, Loaded, Query, Store, TableChanges, Transaction, Update};
use crate::unit_of_work::UnitId;
use crate::value::{ColumnValue, Key, Value};

/// The repository of aggregate `A` in one unit of work on store `S`.
///
/// Each field of a `#[unit_of_work]` struct is one of these. It behaves like
/// a collection held in memory:
///
/// - **Identity map.** Loading an id twice returns the same object and reads
///   the store once; finders and `list` return the already-loaded object for
///   ids this unit of work holds.
/// - **Copies.** What `get` returns is this unit of work's own copy: changing
///   it changes nothing stored until `commit()`.
/// - **Dirty checking.** `commit()` writes only aggregates whose stored form
///   differs from the snapshot taken at load, and only those get version + 1.
/// - **Deferred writes.** `add` and `remove` are staged; reads never see the
///   staged writes of this or any other unit of work (finders query the store).
///
/// Finders (`find_by_<field>`, `get_by_<field>`) come from the repository
/// trait that `#[derive(Aggregate)]` generates (`ProductRepository`); bring it
/// into scope to call them.
pub struct Repository<A: Aggregate, S: Store> {
    tx: Arc<S::Tx>,
    /// The unit of work's span, entered around the store's reads.
    span: tracing::Span,
    entries: BTreeMap<A::Id, Entry<A>>,
}

struct Entry<A: Aggregate> {
    aggregate: A,
    state: State,
    /// Events taken from the aggregate at commit and not yet handed out.
    events: Vec<A::Event>,
    /// Whether the aggregate recorded an event in this unit of work: a
    /// decision taken on its state, so its version is checked and bumped
    /// at commit even when its stored form did not change.
    recorded: bool,
}

impl<A: Aggregate> Entry<A> {
    fn new(aggregate: A, state: State) -> Self {
        Entry {
            aggregate,
            state,
            events: Vec::new(),
            recorded: false,
        }
    }

    /// Moves the aggregate's new events into the entry.
    fn take_events(&mut self) {
        let events = self.aggregate.take_events();
        if !events.is_empty() {
            self.recorded = true;
            self.events.extend(events);
        }
    }
}

enum State {
    /// Loaded from the store: the stored row and child rows at load, for
    /// dirty checking.
    Loaded {
        snapshot: Vec<Value>,
        children: ChildRows,
        version: u64,
    },
    /// Added in this unit of work: inserted at commit.
    Added,
    /// Loaded, then removed: deleted at commit with a version check (its
    /// children with it).
    Removed { version: u64, children: ChildRows },
    /// Loaded, removed, then added again with the same id: the stored row
    /// is replaced at commit, checked against the version loaded, and the
    /// stored children diffed against the new ones.
    Replaced { version: u64, children: ChildRows },
}

impl<A: Aggregate, S: Store> fmt::Debug for Repository<A, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Repository")
            .field("aggregate", &A::META.name)
            .field("tracked", &self.entries.len())
            .finish()
    }
}

impl<A: Aggregate, S: Store> Repository<A, S> {
    #[doc(hidden)]
    pub fn new(tx: Arc<S::Tx>) -> Self {
        Repository::in_span(tx, tracing::Span::none())
    }

    /// A repository whose reads run in `span` (the unit of work's).
    #[doc(hidden)]
    pub fn in_span(tx: Arc<S::Tx>, span: tracing::Span) -> Self {
        Repository {
            tx,
            span,
            entries: BTreeMap::new(),
        }
    }

    /// The id of the unit of work this repository belongs to (the same for
    /// every repository of the unit). Take it before `commit()` to ask
    /// [`Store::commit_outcome`] about a commit whose future you drop:
    ///
    /// ```
    /// # use uow_core::{CommitOutcome, InMemoryStore, Store};
    /// # #[derive(uow_core::Aggregate, Clone, Debug)]
    /// # #[aggregate(table = "notes")]
    /// # struct Note { #[aggregate(id)] id: String, #[aggregate(version)] version: u64, text: String }
    /// # #[uow_core::unit_of_work]
    /// # struct Notes { notes: Note }
    /// # async fn run() -> Result<(), uow_core::Error> {
    /// let store = InMemoryStore::new();
    /// let mut uow = Notes::begin(&store).await?;
    /// uow.notes.add(Note { id: "n-1".into(), version: 0, text: "hello".into() })?;
    /// let unit = uow.notes.unit_id().clone();
    /// let _gave_up = tokio::time::timeout(std::time::Duration::from_secs(1), uow.commit()).await;
    /// assert_eq!(store.commit_outcome(&unit).await?, CommitOutcome::Committed);
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
    /// ```
    pub fn unit_id(&self) -> &UnitId {
        self.tx.unit_id()
    }

    /// The aggregate with this id, or `None` if none is stored (or it was
    /// removed in this unit of work). An aggregate added in this unit of work
    /// is returned too.
    pub async fn get(&mut self, id: &A::Id) -> Result<Option<&mut A>, Error> {
        if !self.entries.contains_key(id) {
            let value = key_value::<A, A::Id>(id, A::META.id)?;
            for loaded in in_store(self.tx.fetch_loaded::<A>(Query::Id(value)), &self.span).await? {
                self.track(loaded)?;
            }
        }
        Ok(self
            .entries
            .get_mut(id)
            .filter(|e| !matches!(e.state, State::Removed { .. }))
            .map(|e| &mut e.aggregate))
    }

    /// Stages `aggregate` for insertion at commit, with version 1.
    ///
    /// Fails at once with [`Error::Duplicate`] if this unit of work already
    /// holds an aggregate with the same id; an id taken in the store is
    /// reported by `commit()`, the way a database reports it.
    ///
    /// Adding an aggregate whose id this unit of work removed replaces the
    /// stored one: the commit writes the new aggregate over it, checked
    /// against the version the removed one was loaded with (a conflict if
    /// another unit of work changed it since), with that version + 1.
    pub fn add(&mut self, aggregate: A) -> Result<(), Error> {
        // One search of the map, not two: `add` runs once per new aggregate.
        match self.entries.entry(aggregate.id().clone()) {
            btree_map::Entry::Occupied(mut removed)
                if matches!(removed.get().state, State::Removed { .. }) =>
            {
                let State::Removed { version, children } =
                    std::mem::replace(&mut removed.get_mut().state, State::Added)
                else {
                    return Ok(());
                };
                removed.insert(Entry::new(aggregate, State::Replaced { version, children }));
                Ok(())
            }
            btree_map::Entry::Occupied(taken) => Err(Error::Duplicate {
                aggregate: A::META.name,
                id: id_text::<A>(taken.key()),
                column: A::META.id_column().name.to_owned(),
            }),
            btree_map::Entry::Vacant(free) => {
                free.insert(Entry::new(aggregate, State::Added));
                Ok(())
            }
        }
    }

    /// Stages the aggregate with this id for deletion at commit, checked
    /// against the version it was loaded with. Loads it first if needed;
    /// [`Error::NotFound`] if it is not stored.
    pub async fn remove(&mut self, id: &A::Id) -> Result<(), Error> {
        if self.get(id).await?.is_none() {
            return Err(Error::NotFound {
                aggregate: A::META.name,
                id: id_text::<A>(id),
            });
        }
        let Some(entry) = self.entries.get_mut(id) else {
            return Ok(());
        };
        match std::mem::replace(&mut entry.state, State::Added) {
            State::Loaded {
                version, children, ..
            }
            | State::Replaced { version, children } => {
                entry.state = State::Removed { version, children }
            }
            State::Added => {
                self.entries.remove(id);
            }
            removed @ State::Removed { .. } => entry.state = removed,
        }
        Ok(())
    }

    /// At most `limit` aggregates, the lowest ids first.
    pub async fn list(&mut self, limit: u64) -> Result<Vec<&mut A>, Error> {
        let loaded = in_store(self.tx.fetch_loaded::<A>(Query::All { limit }), &self.span).await?;
        let ids = self.track_loaded(loaded)?;
        Ok(self.tracked(&ids))
    }

    /// The aggregates whose column `column` equals `key`; what generated
    /// `find_by_<field>` methods call (through `__private::find_by_column`,
    /// so that no method of this name can hide a generated one).
    pub(crate) async fn lookup_column<K: Key + ?Sized>(
        &mut self,
        column: usize,
        key: &K,
    ) -> Result<Vec<&mut A>, Error> {
        let value = key_value::<A, K>(key, column)?;
        let loaded = in_store(
            self.tx.fetch_loaded::<A>(Query::Column { column, value }),
            &self.span,
        )
        .await?;
        let ids = self.track_loaded(loaded)?;
        Ok(self.tracked(&ids))
    }

    /// The aggregate whose unique column `column` equals `key`; what generated
    /// `get_by_<field>` methods call (through `__private::get_by_column`).
    pub(crate) async fn lookup_unique<K: Key + ?Sized>(
        &mut self,
        column: usize,
        key: &K,
    ) -> Result<Option<&mut A>, Error> {
        Ok(self.lookup_column(column, key).await?.into_iter().next())
    }

    /// Starts a typed query on this repository: `uow.payments.query()
    ///     .filter(|p| p.merchant.eq("acme")).order_by(|p| p.created_at.desc())
    ///     .page(50, cursor.as_ref()).await?` (the [`query`](crate::query)
    /// module has a runnable example, the operators and the ordering rules).
    ///
    /// It is answered from the committed state of the store; aggregates
    /// this unit of work already tracks come back as the tracked instance
    /// (with its unsaved changes), those it removed are left out.
    pub fn query(&mut self) -> QueryBuilder<'_, A, S>
    where
        A: Queryable,
    {
        QueryBuilder::new(self)
    }

    /// Runs `select` on the store: the loaded aggregates, in order, each
    /// with its stored row.
    pub(crate) async fn run_select(
        &mut self,
        select: Select,
    ) -> Result<Vec<(Loaded<A>, Vec<Value>)>, Error> {
        let loaded = in_store(self.tx.fetch_loaded::<A>(Query::Select(select)), &self.span).await?;
        let mut rows = Vec::with_capacity(loaded.len());
        for mut loaded in loaded {
            let row = match loaded.row.take() {
                Some(row) => row,
                None => encode_row(&loaded.aggregate)?,
            };
            rows.push((loaded, row));
        }
        Ok(rows)
    }

    /// How many stored rows match `filter`.
    pub(crate) async fn run_count(&mut self, filter: Filter) -> Result<u64, Error> {
        in_store(self.tx.count::<A>(filter), &self.span).await
    }

    /// Tracks what a query loaded and returns the tracked instances in the
    /// query's order, leaving out those this unit of work removed.
    pub(crate) fn tracked_in_order(
        &mut self,
        loaded: Vec<(Loaded<A>, Vec<Value>)>,
    ) -> Result<Vec<&mut A>, Error> {
        let mut order = Vec::with_capacity(loaded.len());
        for (loaded, row) in loaded {
            order.push(loaded.aggregate.id().clone());
            self.track_encoded(loaded, Some(row))?;
        }
        // The tracked instances in id order (the map's), each taken once by
        // a binary search: no second map is built.
        let mut by_id: Vec<(&A::Id, Option<&mut A>)> = self
            .entries
            .iter_mut()
            .filter(|(_, e)| !matches!(e.state, State::Removed { .. }))
            .map(|(id, e)| (id, Some(&mut e.aggregate)))
            .collect();
        Ok(order
            .iter()
            .filter_map(|id| {
                let at = by_id
                    .binary_search_by(|(tracked, _)| (*tracked).cmp(id))
                    .ok()?;
                by_id[at].1.take()
            })
            .collect())
    }

    /// The aggregates holding a child `C` whose own column `column` (index
    /// into `C::META.columns`) equals `key`; what generated
    /// `find_by_<child>_<field>` methods call.
    pub(crate) async fn lookup_child<C: ChildEntity, K: Key + ?Sized>(
        &mut self,
        column: usize,
        key: &K,
    ) -> Result<Vec<&mut A>, Error> {
        let layout = A::META.child_layout();
        let Some(table) = layout.tables.iter().find(|t| std::ptr::eq(t.meta, C::META)) else {
            return Err(Error::Schema {
                table: A::META.table.to_owned(),
                column: None,
                problem: format!(
                    "{} holds no {} children, so it cannot be found by one",
                    A::META.name,
                    C::META.name
                ),
            });
        };
        let stored = table.prefix() + column;
        let value = key
            .key_value()
            .map(|v| crate::aggregate::key_in_column(&table.stored.columns[stored], v))
            .map_err(|e| Error::Encode {
                aggregate: A::META.name,
                field: C::META.columns.get(column).map_or("?", |c| c.field),
                id: "?".to_owned(),
                reason: e,
            })?;
        let loaded = in_store(
            self.tx.fetch_loaded::<A>(Query::Child {
                table: table.index,
                column: stored,
                value,
            }),
            &self.span,
        )
        .await?;
        let ids = self.track_loaded(loaded)?;
        Ok(self.tracked(&ids))
    }

    /// How many aggregates this unit of work tracks (loaded, added or removed).
    pub fn tracked_len(&self) -> usize {
        self.entries.len()
    }

    fn track_loaded(&mut self, loaded: Vec<Loaded<A>>) -> Result<BTreeSet<A::Id>, Error> {
        let mut ids = BTreeSet::new();
        for loaded in loaded {
            let id = loaded.aggregate.id().clone();
            self.track(loaded)?;
            ids.insert(id);
        }
        Ok(ids)
    }

    /// Tracks an aggregate just loaded, with the snapshot its changes are
    /// checked against, unless this unit of work holds its id already: the
    /// object it holds wins.
    fn track(&mut self, loaded: Loaded<A>) -> Result<(), Error> {
        self.track_encoded(loaded, None)
    }

    /// [`track`](Self::track), with the root's row when the caller has it
    /// already (queries keep it for their cursor). The snapshot is the rows
    /// the store read the aggregate from when it kept them, otherwise the
    /// aggregate encoded.
    fn track_encoded(&mut self, loaded: Loaded<A>, row: Option<Vec<Value>>) -> Result<(), Error> {
        let Loaded {
            aggregate,
            row: read,
            children,
        } = loaded;
        if let btree_map::Entry::Vacant(free) = self.entries.entry(aggregate.id().clone()) {
            let snapshot = match row.or(read) {
                Some(row) => row,
                None => encode_row(&aggregate)?,
            };
            let children = match children {
                Some(children) => children,
                None => encode_children(&aggregate)?,
            };
            let version = aggregate.version();
            free.insert(Entry::new(
                aggregate,
                State::Loaded {
                    snapshot,
                    children,
                    version,
                },
            ));
        }
        Ok(())
    }

    fn tracked(&mut self, ids: &BTreeSet<A::Id>) -> Vec<&mut A> {
        self.entries
            .iter_mut()
            .filter(|(id, e)| !matches!(e.state, State::Removed { .. }) && ids.contains(*id))
            .map(|(_, e)| &mut e.aggregate)
            .collect()
    }

    /// The writes this repository contributes to the commit: changed loaded
    /// aggregates (version + 1), added ones (version 1), removed ones.
    ///
    /// Called once, by the unit of work's commit: the snapshot of a changed
    /// aggregate becomes its new row (moved into the changes, not copied).
    ///
    /// A loaded aggregate that recorded an event is a write too, even if its
    /// stored form did not change: the event is a decision taken on the
    /// state this unit of work loaded, so the commit checks that version
    /// (and bumps it), and of two units of work deciding on the same version
    /// only one commits.
    #[doc(hidden)]
    pub fn collect_changes(&mut self) -> Result<TableChanges, Error> {
        let meta = A::META;
        let layout = meta.child_layout();
        // An aggregate without child tables has no child rows to encode,
        // check or diff (not even empty lists of them).
        let has_children = !layout.is_empty();
        let mut changes = TableChanges::new(meta);
        // The values a changed row replaced, one buffer for all of them.
        let mut replaced = Vec::new();
        for (id, entry) in &mut self.entries {
            entry.take_events();
            match &mut entry.state {
                State::Loaded {
                    snapshot,
                    children,
                    version,
                } => {
                    // The common case first, without encoding anything: a
                    // root that compares equal to its snapshot field by
                    // field, no child table, no event.
                    let same_root = entry.aggregate.same_row(snapshot);
                    if same_root && !has_children && !entry.recorded {
                        continue;
                    }
                    let children_changed = has_children && {
                        let now = encode_children(&entry.aggregate)?;
                        check_unique_ids::<A>(id, &now)?;
                        diff_children(layout, children, &now, &mut changes.children)
                    };
                    if entry.aggregate.id() != id {
                        return Err(Error::IdChanged {
                            aggregate: meta.name,
                            id: id_text::<A>(id),
                        });
                    }
                    // The snapshot becomes the new row, changed in place
                    // where a field changed: the commit is the last use of
                    // a unit of work's snapshots, and the unchanged values
                    // (most of a row) are not copied again.
                    let root_changed = !same_root
                        && if snapshot.len() == meta.columns.len() {
                            refresh_row(&entry.aggregate, snapshot, &mut replaced)?
                        } else {
                            let row = encode_row(&entry.aggregate)?;
                            let changed = row
                                .iter()
                                .zip(snapshot.iter())
                                .enumerate()
                                .any(|(i, (a, b))| i != meta.version && a != b);
                            *snapshot = row;
                            changed
                        };
                    if root_changed || children_changed || entry.recorded {
                        let next = *version + 1;
                        let mut row = std::mem::take(snapshot);
                        row[meta.version] = version_value::<A>(next, id)?;
                        entry.aggregate.set_version(next);
                        changes.updates.push(Update {
                            row,
                            expected: *version,
                        });
                    }
                }
                State::Added => {
                    entry.aggregate.set_version(1);
                    changes.inserts.push(encode_row(&entry.aggregate)?);
                    if has_children {
                        let now = encode_children(&entry.aggregate)?;
                        check_unique_ids::<A>(id, &now)?;
                        let none = vec![Vec::new(); now.len()];
                        diff_children(layout, &none, &now, &mut changes.children);
                    }
                }
                State::Replaced { version, children } => {
                    if has_children {
                        let now = encode_children(&entry.aggregate)?;
                        check_unique_ids::<A>(id, &now)?;
                        diff_children(layout, children, &now, &mut changes.children);
                    }
                    let next = *version + 1;
                    entry.aggregate.set_version(next);
                    let mut row = encode_row(&entry.aggregate)?;
                    row[meta.version] = version_value::<A>(next, id)?;
                    changes.updates.push(Update {
                        row,
                        expected: *version,
                    });
                }
                State::Removed { version, .. } => changes.deletes.push(Delete {
                    id: snapshot_id::<A>(id)?,
                    expected: *version,
                }),
            }
        }
        if has_children {
            sort_changes(&mut changes.children);
        }
        Ok(changes)
    }

    /// Drains the events of every tracked aggregate, in id order and, per
    /// aggregate, in recording order, each with the aggregate it came from.
    #[doc(hidden)]
    pub fn drain_events<E>(
        &mut self,
        out: &mut Vec<(EventSource, E)>,
        mut convert: impl FnMut(A::Event) -> E,
    ) {
        for (id, entry) in &mut self.entries {
            entry.take_events();
            let events = std::mem::take(&mut entry.events);
            if events.is_empty() {
                continue;
            }
            let source = EventSource {
                aggregate_type: A::META.name,
                aggregate_id: id_text::<A>(id),
            };
            out.extend(events.into_iter().map(|e| (source.clone(), convert(e))));
        }
    }
}

/// A store's read, run in the unit of work's `span`. The store's future is
/// boxed: a database store's future is large (a state for each database
/// it can run on), and each move of it — into the span's wrapper, into the
/// future of the caller awaiting it — copied all of it, tens of
/// kilobytes per read; a box moves as a pointer.
fn in_store<F: std::future::Future>(
    read: F,
    span: &tracing::Span,
) -> tracing::instrument::Instrumented<std::pin::Pin<Box<F>>> {
    Box::pin(read).instrument(span.clone())
}

/// The stored form of a lookup key for column `column` of `A`.
fn key_value<A: Aggregate, K: Key + ?Sized>(key: &K, column: usize) -> Result<Value, Error> {
    let meta = A::META.columns.get(column);
    key.key_value()
        .map(|v| match meta {
            Some(c) => crate::aggregate::key_in_column(c, v),
            None => v,
        })
        .map_err(|e| Error::Encode {
            aggregate: A::META.name,
            field: A::META.columns.get(column).map_or("?", |c| c.field),
            id: "(lookup key)".to_owned(),
            reason: e,
        })
}

fn snapshot_id<A: Aggregate>(id: &A::Id) -> Result<Value, Error> {
    id.to_value().map_err(|e| Error::Encode {
        aggregate: A::META.name,
        field: A::META.id_column().field,
        id: format!("{id:?}"),
        reason: e,
    })
}

fn version_value<A: Aggregate>(version: u64, id: &A::Id) -> Result<Value, Error> {
    version.to_value().map_err(|e| Error::Encode {
        aggregate: A::META.name,
        field: A::META.version_column().field,
        id: id_text::<A>(id),
        reason: e,
    })
}
