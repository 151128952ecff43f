//! Enum columns: a fieldless enum deriving `ColumnValue` is stored as the
//! name of its variant (or its `rename`), round-trips, and is looked up by a
//! finder and a unique getter, on every backend. A stored text that names no
//! variant is reported as a decode error naming the column.

use uow_core::{Aggregate, ColumnValue, Error, Store, unit_of_work};
use uow_tests::backends::Backend;

/// Where a payment stands.
#[derive(ColumnValue, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentStatus {
    Pending,
    #[column_value(rename = "settled_in_full")]
    Settled,
    Refunded,
}

/// The channel a payment came through: a unique column of an enum type.
#[derive(ColumnValue, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Card,
    Transfer,
    Cash,
}

#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "payments")]
pub struct Payment {
    #[aggregate(id)]
    pub id: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by)]
    pub status: PaymentStatus,
    #[aggregate(unique)]
    pub channel: Channel,
    pub previous: Option<PaymentStatus>,
}

#[unit_of_work]
pub struct Payments {
    pub payments: Payment,
}

const TABLES: &[&uow_core::backend::AggregateMeta] = &[Payment::META];

fn payment(id: &str, status: PaymentStatus, channel: Channel) -> Payment {
    Payment {
        id: id.to_owned(),
        version: 0,
        status,
        channel,
        previous: None,
    }
}

async fn store_three<S: Store>(store: &S) {
    let mut uow = Payments::begin(store).await.expect("begin");
    uow.payments
        .add(payment("p1", PaymentStatus::Pending, Channel::Card))
        .expect("add");
    uow.payments
        .add(payment("p2", PaymentStatus::Settled, Channel::Transfer))
        .expect("add");
    let mut refunded = payment("p3", PaymentStatus::Refunded, Channel::Cash);
    refunded.previous = Some(PaymentStatus::Settled);
    uow.payments.add(refunded).expect("add");
    uow.commit().await.expect("commit");
}

mod scenarios {
    use super::*;

    /// Each variant comes back as itself, through `get`, the finder and the
    /// unique getter, and an optional enum column holds NULL or a variant.
    pub async fn enum_columns_round_trip_and_are_found<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        store_three(&store).await;
        let mut uow = Payments::begin(&store).await.expect("begin");
        let p3 = uow.payments.get(&"p3".to_owned()).await.expect("get");
        let p3 = p3.expect("p3 stored").clone();
        assert_eq!(p3.status, PaymentStatus::Refunded);
        assert_eq!(p3.channel, Channel::Cash);
        assert_eq!(p3.previous, Some(PaymentStatus::Settled));
        let p1 = uow.payments.get(&"p1".to_owned()).await.expect("get");
        assert_eq!(p1.expect("p1 stored").previous, None);

        let settled: Vec<String> = uow
            .payments
            .find_by_status(&PaymentStatus::Settled)
            .await
            .expect("find_by_status")
            .into_iter()
            .map(|p| p.id.clone())
            .collect();
        assert_eq!(settled, ["p2"]);
        let pending = uow
            .payments
            .find_by_status(&PaymentStatus::Pending)
            .await
            .expect("find_by_status");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id, "p1");

        let by_transfer = uow
            .payments
            .get_by_channel(&Channel::Transfer)
            .await
            .expect("get_by_channel")
            .expect("a payment by transfer");
        assert_eq!(by_transfer.id, "p2");
        assert_eq!(by_transfer.status, PaymentStatus::Settled);
    }

    /// A variant changed in a unit is stored and found under its new value.
    pub async fn a_changed_variant_is_found_under_its_new_value<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        store_three(&store).await;
        let mut uow = Payments::begin(&store).await.expect("begin");
        let p1 = uow.payments.get(&"p1".to_owned()).await.expect("get");
        let p1 = p1.expect("p1 stored");
        p1.previous = Some(p1.status);
        p1.status = PaymentStatus::Settled;
        uow.commit().await.expect("commit");

        let mut uow = Payments::begin(&store).await.expect("begin");
        let mut settled: Vec<String> = uow
            .payments
            .find_by_status(&PaymentStatus::Settled)
            .await
            .expect("find_by_status")
            .into_iter()
            .map(|p| p.id.clone())
            .collect();
        settled.sort();
        assert_eq!(settled, ["p1", "p2"]);
        assert!(
            uow.payments
                .find_by_status(&PaymentStatus::Pending)
                .await
                .expect("find_by_status")
                .is_empty()
        );
    }
}

mod stored_text {
    use super::*;
    use uow_sqlx::SqlxStore;
    use uow_tests::raw_sql;

    /// The column holds the variant's name, or its `rename`; a text that
    /// names no variant is a decode error naming the column and the text.
    pub async fn the_column_holds_the_variant_name<B: Backend<Store = SqlxStore>>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        store_three(&store).await;
        let text = |id: &str| format!("SELECT status FROM payments WHERE id = '{id}'");
        assert_eq!(raw_sql::text(&store, &text("p1")).await.unwrap(), "Pending");
        assert_eq!(
            raw_sql::text(&store, &text("p2")).await.unwrap(),
            "settled_in_full"
        );
        raw_sql::run(
            &store,
            &["UPDATE payments SET status = 'Settled' WHERE id = 'p2'"],
        )
        .await;
        let mut uow = Payments::begin(&store).await.expect("begin");
        let error = uow
            .payments
            .get(&"p2".to_owned())
            .await
            .expect_err("an unknown variant text");
        match &error {
            Error::Decode { column, reason, .. } => {
                assert_eq!(*column, "status");
                assert!(
                    reason
                        .to_string()
                        .contains("\"Settled\" is not a variant of `PaymentStatus`"),
                    "{reason}"
                );
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
    }
}

uow_tests::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
    enum_columns_round_trip_and_are_found,
    a_changed_variant_is_found_under_its_new_value,
]);

mod sql {
    uow_tests::on_backends!([sqlite, postgres, mysql] stored_text: [
        the_column_holds_the_variant_name,
    ]);
    use super::stored_text;
}
