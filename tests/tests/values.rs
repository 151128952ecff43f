//! Bad values in: strings with quotes, semicolons, NUL bytes and non-ASCII
//! text, strings of a megabyte, extreme numbers. On every backend each either
//! round-trips unchanged — through `get` and, for a finder column, through
//! the finder — or is rejected at commit with a clear typed error that names
//! the aggregate, storing nothing. Values are bound parameters, never SQL
//! text, so nothing a value holds changes a statement. (Identifiers are
//! validated at compile time: see the `tests/ui` cases.)
//!
//! Every backend and the in-memory store give the same answer: what one
//! database cannot hold (NUL in text — PostgreSQL; a key longer than 255
//! characters — MySQL/MariaDB's key columns; floats that are not finite —
//! SQLite and MySQL/MariaDB) is refused at commit everywhere with
//! `Error::Encode` (see `uow_core::backend::check_storable`).

use uow_core::{
    Aggregate, Error, Store,
    backend::{Value, encode_row},
    unit_of_work,
};
use uow_tests::backends::Backend;

/// A note: text in a key column (id), a finder column (title), an unbounded
/// column (body) and a JSON document; bytes; every integer width; floats.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "notes")]
pub struct Note {
    #[aggregate(id)]
    pub id: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by)]
    pub title: String,
    pub body: String,
    #[aggregate(json)]
    pub tags: Vec<String>,
    pub bytes: Vec<u8>,
    pub tiny: i8,
    pub small: i16,
    pub medium: i32,
    pub large: i64,
    pub unsigned: u64,
    pub single: f32,
    pub double: f64,
}

#[unit_of_work]
pub struct Notebook {
    pub notes: Note,
}

const TABLES: &[&uow_core::backend::AggregateMeta] = &[Note::META];

fn note(id: &str) -> Note {
    Note {
        id: id.to_owned(),
        version: 0,
        title: id.to_owned(),
        body: id.to_owned(),
        tags: vec![id.to_owned()],
        bytes: id.as_bytes().to_vec(),
        tiny: 0,
        small: 0,
        medium: 0,
        large: 0,
        unsigned: 0,
        single: 0.0,
        double: 0.0,
    }
}

/// The stored form of a note, which compares floats by their bits (NaN
/// equals NaN, -0.0 differs from 0.0): "unchanged" means this is equal.
/// (uow stores -0.0 as 0.0 on every backend, as SQLite and MySQL store it.)
fn stored_form(note: &Note) -> Vec<Value> {
    let mut note = note.clone();
    note.version = 1;
    encode_row(&note).expect("encodable")
}

/// What a backend did with a value.
#[derive(Debug, PartialEq)]
enum Fate {
    RoundTrip,
    Rejected,
}

/// Adds `note` in a unit of work of its own and reads it back by id and by
/// title; the value round-trips unchanged, or the commit is rejected with a
/// typed error naming the aggregate and nothing is stored.
async fn fate<S: Store>(store: &S, note: &Note) -> Fate {
    let mut uow = Notebook::begin(store).await.expect("begin");
    uow.notes.add(note.clone()).expect("add");
    let label = || {
        format!("{:?}", note.id)
            .chars()
            .take(60)
            .collect::<String>()
    };
    match uow.commit().await {
        Ok(_) => {
            let mut uow = Notebook::begin(store).await.expect("begin");
            let loaded = uow
                .notes
                .get(&note.id)
                .await
                .unwrap_or_else(|e| panic!("{}: get: {e:.300}", label()))
                .unwrap_or_else(|| panic!("{}: stored, but not found by id", label()))
                .clone();
            assert!(
                stored_form(&loaded) == stored_form(note),
                "{}: changed on the way:\n  stored {:.300?}\n  loaded {:.300?}",
                label(),
                stored_form(note),
                stored_form(&loaded)
            );
            let found: Vec<String> = uow
                .notes
                .find_by_title(&note.title)
                .await
                .unwrap_or_else(|e| panic!("{}: find_by_title: {e:.300}", label()))
                .into_iter()
                .map(|n| n.id.clone())
                .collect();
            assert_eq!(
                found,
                std::slice::from_ref(&note.id),
                "{}: the finder",
                label()
            );
            Fate::RoundTrip
        }
        Err(error) => {
            assert!(
                matches!(error, Error::Backend(_) | Error::Encode { .. }),
                "{}: rejected with an untyped error: {error:?}",
                label()
            );
            let text = error.to_string();
            assert!(
                text.contains("Note"),
                "{}: the error names the aggregate: {text:.300}",
                label()
            );
            assert!(
                text.len() < 1_000,
                "{}: the message is short enough to read ({} bytes): {text:.300}",
                label(),
                text.len()
            );
            let mut uow = Notebook::begin(store).await.expect("begin");
            let stored = uow.notes.list(1_000).await.expect("list");
            assert!(
                stored.iter().all(|n| n.id != note.id),
                "{}: rejected, yet stored",
                label()
            );
            uow_tests::report(&format!("  rejected {}: {text:.200}", label()));
            Fate::Rejected
        }
    }
}

/// Pseudo-random text (so no database compresses it away) of `len` chars.
fn incompressible(len: usize) -> String {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'!' + (state % 94) as u8)
        })
        .collect()
}

mod scenarios {
    use super::*;

    /// Strings shaped like SQL, quotes of every dialect, placeholders and
    /// non-ASCII text, in the id, a finder column, a text column and JSON.
    pub async fn strings_shaped_like_sql_round_trip_in_every_column<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        let strings = [
            "'; DROP TABLE notes; --",
            "Robert'); DELETE FROM notes WHERE ('1' = '1",
            "\" OR \"1\" = \"1",
            "`notes`; TRUNCATE `notes`",
            "[notes]",
            "\\'\\\"\\\\",
            "$1 ? ?1 :name @p1 %s %% _",
            "/* comment */ -- comment",
            "naïve café – 日本語 🦀",
            "\u{202e}right-to-left\u{202c} e\u{301} \u{feff}bom",
            "tab\there\r\nnew line",
            "\u{7f}\u{1}\u{1b}[31m",
            "",
        ];
        for s in strings {
            assert_eq!(fate(&store, &note(s)).await, Fate::RoundTrip, "{s:?}");
        }
    }

    /// A NUL byte in text: PostgreSQL's text cannot hold it, so every
    /// store refuses it at commit.
    pub async fn a_nul_byte_round_trips_or_is_a_clear_error<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        let expected = Fate::Rejected;
        assert_eq!(fate(&store, &note("nul\0in the id")).await, expected);
        let mut in_body = note("nul-in-body");
        in_body.body = "before\0after".to_owned();
        assert_eq!(fate(&store, &in_body).await, expected);
        let mut in_json = note("nul-in-json");
        in_json.tags = vec!["a\0b".to_owned()];
        // JSON escapes it as \u0000, which PostgreSQL's JSONB rejects too.
        assert_eq!(fate(&store, &in_json).await, expected);
        // Bytes are not text: a NUL is an ordinary byte everywhere.
        let mut in_bytes = note("nul-in-bytes");
        in_bytes.bytes = vec![0, 0, 1, 0];
        assert_eq!(fate(&store, &in_bytes).await, Fate::RoundTrip);
    }

    /// A megabyte in an unbounded column round-trips everywhere; in a key
    /// column it is refused everywhere (keys hold 255 characters).
    pub async fn a_megabyte_string_round_trips_or_is_a_clear_error<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        let megabyte = incompressible(1 << 20);
        let mut body = note("megabyte-body");
        body.body = megabyte.clone();
        body.tags = vec![megabyte.clone()];
        body.bytes = megabyte.clone().into_bytes();
        assert_eq!(fate(&store, &body).await, Fate::RoundTrip);

        let mut title = note("megabyte-title");
        title.title = megabyte.clone();
        // MySQL's key columns are VARCHAR(255), PostgreSQL's B-tree entries
        // are limited to about 2.7 kB: every store refuses a longer key.
        let expected = Fate::Rejected;
        assert_eq!(fate(&store, &title).await, expected);

        let mut id = note(&megabyte);
        id.title = "megabyte-id".to_owned();
        assert_eq!(fate(&store, &id).await, expected, "a megabyte id");
    }

    /// The extremes of every integer width round-trip; a `u64` beyond what
    /// a signed 64-bit column holds is rejected before any SQL runs.
    pub async fn extreme_integers_round_trip<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        let mut low = note("lowest");
        (low.tiny, low.small, low.medium, low.large, low.unsigned) =
            (i8::MIN, i16::MIN, i32::MIN, i64::MIN, 0);
        assert_eq!(fate(&store, &low).await, Fate::RoundTrip);
        let mut high = note("highest");
        (
            high.tiny,
            high.small,
            high.medium,
            high.large,
            high.unsigned,
        ) = (i8::MAX, i16::MAX, i32::MAX, i64::MAX, i64::MAX as u64);
        assert_eq!(fate(&store, &high).await, Fate::RoundTrip);

        let mut beyond = note("beyond");
        beyond.unsigned = u64::MAX;
        let mut uow = Notebook::begin(&store).await.expect("begin");
        uow.notes.add(beyond).expect("add");
        match uow.commit().await {
            Err(Error::Encode { field, .. }) => assert_eq!(field, "unsigned"),
            other => panic!("expected an encode error, got {other:?}"),
        }
    }

    /// Finite float extremes round-trip bit for bit (including -0.0 and
    /// subnormals); infinities and NaN, which SQLite and MySQL/MariaDB
    /// cannot store, are refused by every store.
    pub async fn extreme_floats_round_trip_or_are_a_clear_error<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        let finite: [(f32, f64); 6] = [
            (f32::MAX, f64::MAX),
            (f32::MIN, f64::MIN),
            (f32::MIN_POSITIVE, f64::MIN_POSITIVE),
            (f32::from_bits(1), f64::from_bits(1)),
            // Stored as 0.0 on every backend (see `stored_form`).
            (-0.0, -0.0),
            (std::f32::consts::PI, std::f64::consts::PI),
        ];
        for (i, (single, double)) in finite.into_iter().enumerate() {
            let mut n = note(&format!("finite-{i}"));
            (n.single, n.double) = (single, double);
            assert_eq!(
                fate(&store, &n).await,
                Fate::RoundTrip,
                "{single:e} / {double:e}"
            );
        }
        let not_finite: [(f32, f64); 3] = [
            (f32::INFINITY, f64::INFINITY),
            (f32::NEG_INFINITY, f64::NEG_INFINITY),
            (f32::NAN, f64::NAN),
        ];
        for (i, (single, double)) in not_finite.into_iter().enumerate() {
            let expected = Fate::Rejected;
            let mut n = note(&format!("not-finite-{i}"));
            n.double = double;
            assert_eq!(fate(&store, &n).await, expected, "double {double}");
            let mut n = note(&format!("not-finite-single-{i}"));
            n.single = single;
            assert_eq!(fate(&store, &n).await, expected, "single {single}");
        }
    }

    /// Ids and finder values that differ only in trailing spaces are
    /// different values (on MariaDB, uow's tables use the no-pad
    /// `utf8mb4_nopad_bin` collation).
    pub async fn keys_that_differ_only_in_trailing_spaces_are_distinct<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        for s in ["pad", "pad ", "pad  "] {
            assert_eq!(fate(&store, &note(s)).await, Fate::RoundTrip, "{s:?}");
        }
    }
}

uow_tests::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
    strings_shaped_like_sql_round_trip_in_every_column,
    a_nul_byte_round_trips_or_is_a_clear_error,
    a_megabyte_string_round_trips_or_is_a_clear_error,
    extreme_integers_round_trip,
    extreme_floats_round_trip_or_are_a_clear_error,
    keys_that_differ_only_in_trailing_spaces_are_distinct,
]);
