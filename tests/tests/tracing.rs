//! The `unit_of_work` span is entered around the store's work: the events of
//! the store (uow-sqlx) and of sqlx itself, emitted while a unit of work
//! begins, reads and commits, nest in it.
//!
//! One test in its own binary: the recording subscriber is the process's
//! global one, and the backends run one after the other.

use std::sync::{Arc, Mutex};

use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use uow_core::Store;
use uow_tests::backends::{Backend, MySql, Postgres, Sqlite};
use uow_tests::bank::{Account, AccountId, Bank};

/// An event: its target, its message, and the names of the spans it is in
/// (innermost first).
#[derive(Clone, Debug)]
struct Recorded {
    target: String,
    message: String,
    spans: Vec<String>,
}

impl Recorded {
    fn in_unit_of_work(&self) -> bool {
        self.spans.iter().any(|s| s == "unit_of_work")
    }
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Recorded>>>);

impl Recorder {
    fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.0.lock().expect("recorder"))
    }
}

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let spans = ctx
            .event_scope(event)
            .map(|scope| scope.map(|span| span.name().to_owned()).collect())
            .unwrap_or_default();
        let mut message = Message(String::new());
        event.record(&mut message);
        self.0.lock().expect("recorder").push(Recorded {
            target: event.metadata().target().to_owned(),
            message: message.0,
            spans,
        });
    }
}

/// Adds an account in one unit of work, reads and changes it in a second;
/// returns the events recorded meanwhile.
async fn two_units<S: Store>(store: &S, recorder: &Recorder) -> Vec<Recorded> {
    recorder.take();
    let mut uow = Bank::begin(store).await.expect("begin");
    uow.accounts
        .add(Account::open("traced", "Ada", "north"))
        .expect("add");
    uow.commit().await.expect("commit");
    let mut uow = Bank::begin(store).await.expect("begin");
    let account = uow
        .accounts
        .get(&AccountId::new("traced"))
        .await
        .expect("get")
        .expect("stored");
    account.deposit(5);
    uow.commit().await.expect("commit");
    recorder.take()
}

async fn check<B: Backend<Store = uow_sqlx::SqlxStore>>(recorder: &Recorder, sqlx_nests: bool) {
    let Some(store) = B::fresh().await else {
        return;
    };
    let events = two_units(&store, recorder).await;
    // One line per commit, the unit of work's: the store does not log a
    // second one.
    let committed: Vec<&Recorded> = events
        .iter()
        .filter(|e| e.target.starts_with("uow") && e.message.contains("committed"))
        .collect();
    assert_eq!(committed.len(), 2, "{}: {events:#?}", B::NAME);
    for event in committed {
        assert_eq!(
            event.target,
            "uow_core::unit_of_work",
            "{}: {event:?}",
            B::NAME
        );
        assert!(
            event.in_unit_of_work(),
            "{}: the commit's event nests in the unit of work: {event:?}",
            B::NAME
        );
    }
    let statements: Vec<&Recorded> = events
        .iter()
        .filter(|e| e.target == "sqlx::query")
        .collect();
    assert!(
        !statements.is_empty(),
        "{}: sqlx logs its statements: {events:#?}",
        B::NAME
    );
    if sqlx_nests {
        for event in &statements {
            assert!(
                event.in_unit_of_work(),
                "{}: sqlx's statement event nests in the unit of work: {event:?}",
                B::NAME
            );
        }
    }
    uow_tests::report(&format!(
        "{}: {} store events and {} sqlx statement events, all in the unit_of_work span",
        B::NAME,
        events
            .iter()
            .filter(|e| e.target.starts_with("uow"))
            .count(),
        statements.len()
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_and_sqlx_events_nest_in_the_unit_of_work_span() {
    let recorder = Recorder::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(recorder.clone()))
        .expect("the only subscriber of this test binary");
    check::<Sqlite>(&recorder, true).await;
    check::<Postgres>(&recorder, true).await;
    check::<MySql>(&recorder, true).await;
}
