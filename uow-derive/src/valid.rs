//! The rules an item must follow beyond its syntax: exactly one id, one
//! version, names that are SQL identifiers, and so on — one function per
//! rule. Each broken rule is recorded at the attribute, field or type at
//! fault. Rules about types that only rustc can decide (a version type, a
//! nullable id behind an alias, two aggregates on one table) are checked in
//! the expansion instead, by trait or by constant.

use std::collections::HashMap;

use quote::quote;
use syn::Generics;

use crate::ast::{self, Aggregate, ColumnValue, Entity, Field, SqlName, UnitOfWork};
use crate::attr::Flag;
use crate::ctxt::Ctxt;
use crate::symbol::{self, Symbol};

/// Longest identifier every supported database accepts (PostgreSQL: 63).
const MAX_NAME_LEN: usize = 63;

/// Words that need quoting in at least one SQL dialect and confuse readers of
/// the generated SQL; names are quoted anyway, but a table called `order` is
/// trouble waiting for the first hand-written query.
const RESERVED: &[&str] = &[
    "all",
    "and",
    "any",
    "as",
    "asc",
    "between",
    "by",
    "case",
    "check",
    "column",
    "constraint",
    "create",
    "default",
    "delete",
    "desc",
    "distinct",
    "drop",
    "else",
    "end",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "index",
    "insert",
    "into",
    "is",
    "join",
    "key",
    "like",
    "limit",
    "not",
    "null",
    "offset",
    "on",
    "or",
    "order",
    "primary",
    "references",
    "revoke",
    "select",
    "table",
    "then",
    "union",
    "unique",
    "update",
    "user",
    "values",
    "when",
    "where",
];

/// Every rule of an aggregate, each a function of its own below.
pub fn check_aggregate(cx: &Ctxt, aggregate: &Aggregate) {
    no_generics(
        cx,
        aggregate.generics,
        "#[derive(Aggregate)]",
        "an aggregate",
    );
    exactly_one_id(cx, aggregate);
    exactly_one_version(cx, aggregate);
    at_most_one_events_field(cx, aggregate);
    for field in &aggregate.fields {
        check_field(cx, field);
    }
    let owner = ast::snake_case(&aggregate.name());
    check_sql_name(cx, &aggregate.table, NameKind::Table, &owner);
    for (_, field) in aggregate.columns() {
        check_sql_name(cx, &field.column, NameKind::Column, &owner);
    }
    distinct_columns(cx, aggregate);
    index_names_stored_fields(cx, aggregate);
}

/// Each field of an `index(..)` is a stored field, not `json`, listed once.
fn index_names_stored_fields(cx: &Ctxt, aggregate: &Aggregate) {
    for index in &aggregate.indexes {
        for (n, name) in index.iter().enumerate() {
            if index[..n].contains(name) {
                cx.error_spanned_by(
                    name,
                    format!("`{name}` is listed twice in this index; keep one"),
                );
                continue;
            }
            match aggregate.columns().find(|(_, f)| f.ident == name) {
                Some((_, field)) if field.is_json() => cx.error_spanned_by(
                    name,
                    format!(
                        "`{name}` is a `json` field: a document cannot be indexed; index fields stored in columns of their own"
                    ),
                ),
                Some(_) => {}
                None => {
                    let stored: Vec<String> = aggregate
                        .columns()
                        .map(|(_, f)| f.ident.to_string())
                        .collect();
                    let closest = stored
                        .iter()
                        .map(|s| (crate::attr::edit_distance(&name.to_string(), s), s))
                        .filter(|(d, _)| *d <= 2)
                        .min_by_key(|(d, _)| *d)
                        .map(|(_, s)| s.clone());
                    let message = match closest {
                        Some(s) => format!("no stored field `{name}` in this aggregate; did you mean `{s}`?"),
                        None => format!(
                            "no stored field `{name}` in this aggregate; an index lists fields of the struct: {}",
                            stored.join(", ")
                        ),
                    };
                    cx.error_spanned_by(name, message);
                }
            }
        }
    }
}

/// Whether a key that could not be read may have been `key`: that key's
/// error then says what is wrong, and a missing `key` is not reported too.
fn unread(aggregate: &Aggregate, key: Symbol) -> bool {
    aggregate
        .fields
        .iter()
        .any(|f| f.attrs.unread.may_mean(key))
}

fn exactly_one_id(cx: &Ctxt, aggregate: &Aggregate) {
    let (name, a) = (aggregate.name(), symbol::AGGREGATE);
    let ids: Vec<&Field> = aggregate
        .fields
        .iter()
        .filter(|f| f.attrs.id.is_set())
        .collect();
    match ids.split_first() {
        None if unread(aggregate, symbol::ID) => {}
        None => cx.error_spanned_by(
            aggregate.ident,
            format!("`{name}` has no id field: mark its identity field with `#[{a}(id)]`"),
        ),
        Some((first, others)) => {
            for other in others {
                at_flag(
                    cx,
                    other.attrs.id,
                    format!(
                        "`{name}` already has an id field, `{}`: an aggregate has exactly one `#[{a}(id)]`",
                        first.name()
                    ),
                );
            }
        }
    }
}

fn exactly_one_version(cx: &Ctxt, aggregate: &Aggregate) {
    let (name, a) = (aggregate.name(), symbol::AGGREGATE);
    let versions: Vec<&Field> = aggregate
        .fields
        .iter()
        .filter(|f| f.attrs.version.is_set())
        .collect();
    match versions.split_first() {
        None if unread(aggregate, symbol::VERSION) => {}
        None => cx.error_spanned_by(
            aggregate.ident,
            format!(
                "`{name}` has no version field: add `#[{a}(version)] pub version: u64`, which the framework uses to detect concurrent changes"
            ),
        ),
        Some((first, others)) => {
            for other in others {
                at_flag(
                    cx,
                    other.attrs.version,
                    format!(
                        "`{name}` already has a version field, `{}`: an aggregate has exactly one `#[{a}(version)]`",
                        first.name()
                    ),
                );
            }
        }
    }
}

fn at_most_one_events_field(cx: &Ctxt, aggregate: &Aggregate) {
    let (name, a) = (aggregate.name(), symbol::AGGREGATE);
    let mut events = aggregate.fields.iter().filter(|f| f.is_events());
    let Some(first) = events.next() else {
        return;
    };
    for field in events {
        at_flag(
            cx,
            field.attrs.events,
            format!(
                "`{name}` already has an events field, `{}`: record all events in one `#[{a}(events)]` field",
                first.name()
            ),
        );
    }
}

/// Two columns of one name (compared as SQL compares them, ignoring case).
fn distinct_columns(cx: &Ctxt, aggregate: &Aggregate) {
    let a = symbol::AGGREGATE;
    let owner = ast::snake_case(&aggregate.name());
    let all_columns: Vec<String> = aggregate
        .columns()
        .map(|(_, field)| field.column.value.to_lowercase())
        .collect();
    let mut columns: HashMap<String, &Field> = HashMap::new();
    for (_, field) in aggregate.columns() {
        let key = field.column.value.to_lowercase();
        let Some(first) = columns.get(&key) else {
            columns.insert(key, field);
            continue;
        };
        let field_name = field.name();
        let free = |candidate: &String| {
            is_identifier(candidate)
                && !is_reserved(candidate)
                && !all_columns.contains(&candidate.to_lowercase())
        };
        let fix = [field_name.clone(), format!("{owner}_{field_name}")]
            .into_iter()
            .find(free)
            .map_or_else(
                || format!("give `{field_name}` a column of its own with `#[{a}(column = \"...\")]`"),
                |column| format!("give `{field_name}` a column of its own, such as `#[{a}(column = \"{column}\")]`"),
            );
        cx.error_at(
            field.column.span,
            format!(
                "column `{}` is already used by field `{}`; {fix}",
                field.column.value,
                first.name()
            ),
        );
    }
}

/// The element type to suggest for an events field written `ty`:
/// `ProductEvent` for `Option<ProductEvent>` or `ProductEvent`.
fn event_guess(ty: &syn::Type) -> String {
    let syn::Type::Path(path) = ty else {
        return "MyEvent".to_owned();
    };
    let Some(last) = path.path.segments.last() else {
        return "MyEvent".to_owned();
    };
    match &last.arguments {
        syn::PathArguments::None => ast::type_display(ty),
        syn::PathArguments::AngleBracketed(args) => match args.args.first() {
            Some(syn::GenericArgument::Type(inner)) if args.args.len() == 1 => {
                ast::type_display(inner)
            }
            _ => "MyEvent".to_owned(),
        },
        syn::PathArguments::Parenthesized(_) => "MyEvent".to_owned(),
    }
}

/// The rules about one field's own keys.
fn check_field(cx: &Ctxt, field: &Field) {
    if field.is_events() {
        events_field_stores_nothing(cx, field);
        events_field_is_a_vec(cx, field);
        return;
    }
    version_is_not_the_id(cx, field);
    id_is_not_optional(cx, field);
    if field.is_json() {
        json_field_is_not_looked_up(cx, field);
        json_field_is_not_id_or_version(cx, field);
        json_field_has_no_decimal_scale(cx, field);
        return;
    }
    id_and_version_are_not_looked_up(cx, field);
    finder_or_unique(cx, field);
    events_need_their_key(cx, field);
    types_of_features_need_the_feature(cx, field);
}

/// The feature of uow-core that stores `ty` (a type of the `uuid`,
/// `chrono`, `time` or `rust_decimal` crate, recognised by a name no other
/// type plausibly has, or by its crate's path), if any.
pub fn feature_of(ty: &syn::Type) -> Option<&'static str> {
    let ty = ast::option_inner(ty).unwrap_or(ty);
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let last = segments.last()?.as_str();
    let first = segments.first()?.as_str();
    let qualified = segments.len() > 1;
    Some(match (first, last) {
        (_, "Uuid") => "uuid",
        (_, "NaiveDate" | "NaiveDateTime" | "NaiveTime") => "chrono",
        ("chrono", "DateTime") => "chrono",
        (_, "OffsetDateTime" | "PrimitiveDateTime") => "time",
        ("time", "Date" | "Time") if qualified => "time",
        ("rust_decimal", "Decimal") => "decimal",
        (_, "Decimal") if !qualified => "decimal",
        _ => return None,
    })
}

/// Whether uow-core's feature `feature` is on (it sets ours of that name).
pub fn feature_enabled(feature: &str) -> bool {
    const FEATURES: [(&str, bool); 4] = [
        ("uuid", cfg!(feature = "uuid")),
        ("chrono", cfg!(feature = "chrono")),
        ("time", cfg!(feature = "time")),
        ("decimal", cfg!(feature = "decimal")),
    ];
    FEATURES
        .iter()
        .find(|(name, _)| *name == feature)
        .is_none_or(|(_, enabled)| *enabled)
}

/// A column of a type that uow-core stores only with one of its features,
/// while that feature is off: the remedy is the feature, which the missing
/// `ColumnValue` alone would not say.
fn types_of_features_need_the_feature(cx: &Ctxt, field: &Field) {
    let Some(feature) = feature_of(field.ty) else {
        return;
    };
    if feature_enabled(feature) {
        return;
    }
    cx.error_spanned_by(
        field.ty,
        format!(
            "`{}` is stored with uow-core's `{feature}` feature, which is off: enable it, `uow-core = {{ version = \"...\", features = [\"{feature}\"] }}`",
            ast::type_display(field.ty),
        ),
    );
}

fn version_is_not_the_id(cx: &Ctxt, field: &Field) {
    let attrs = &field.attrs;
    if attrs.version.is_set() && attrs.id.is_set() {
        at_flag(
            cx,
            attrs.version,
            format!(
                "a field cannot be both `id` and `version`: keep `{}` as the id and add a version of its own, `#[{a}(version)] pub version: u64`",
                field.name(),
                a = symbol::AGGREGATE
            ),
        );
    }
}

/// An id written `Option<...>` (an alias of one is caught by a constant
/// the expansion evaluates).
fn id_is_not_optional(cx: &Ctxt, field: &Field) {
    if !field.attrs.id.is_set() {
        return;
    }
    if let Some(inner) = ast::option_inner(field.ty) {
        cx.error_spanned_by(
            field.ty,
            format!(
                "the id cannot be an `Option`: a primary key is never NULL; declare `{}: {}`",
                field.name(),
                ast::type_display(inner)
            ),
        );
    }
}

fn events_field_stores_nothing(cx: &Ctxt, field: &Field) {
    let attrs = &field.attrs;
    let stored_keys = [
        (symbol::ID, attrs.id),
        (symbol::VERSION, attrs.version),
        (symbol::JSON, attrs.json),
        (symbol::FIND_BY, attrs.find_by),
        (symbol::UNIQUE, attrs.unique),
    ];
    for (key, flag) in stored_keys {
        at_flag(
            cx,
            flag,
            format!(
                "`{key}` cannot be used on the events field: events are never stored; remove `{key}`"
            ),
        );
    }
    if let Some(column) = &attrs.column {
        cx.error_spanned_by(
            column,
            "`column` cannot be used on the events field: events are never stored; remove `column`",
        );
    }
}

fn events_field_is_a_vec(cx: &Ctxt, field: &Field) {
    if ast::vec_element(field.ty).is_none() {
        let ty = field.ty;
        cx.error_spanned_by(
            ty,
            format!(
                "the events field must be a `Vec` of the aggregate's event type, such as `Vec<{}>`, not `{}`",
                event_guess(ty),
                ast::type_display(ty)
            ),
        );
    }
}

fn json_field_is_not_looked_up(cx: &Ctxt, field: &Field) {
    let attrs = &field.attrs;
    for (key, flag) in [
        (symbol::FIND_BY, attrs.find_by),
        (symbol::UNIQUE, attrs.unique),
    ] {
        at_flag(
            cx,
            flag,
            format!(
                "`{key}` cannot be used on a `json` field: a JSON document cannot be looked up; remove `{key}`, or `json` if the type is a `ColumnValue`"
            ),
        );
    }
}

fn json_field_is_not_id_or_version(cx: &Ctxt, field: &Field) {
    let attrs = &field.attrs;
    for (what, flag) in [("id", attrs.id), ("version", attrs.version)] {
        if flag.is_set() {
            at_flag(
                cx,
                attrs.json,
                format!(
                    "the {what} field cannot be `json`: it is stored as one plain column; remove `json`"
                ),
            );
        }
    }
}

fn json_field_has_no_decimal_scale(cx: &Ctxt, field: &Field) {
    if let Some(decimal) = &field.attrs.decimal {
        cx.error_spanned_by(
            &decimal.path,
            "`decimal` cannot be used on a `json` field: it is stored as one JSON document; remove `decimal`, or `json`",
        );
    }
}

fn id_and_version_are_not_looked_up(cx: &Ctxt, field: &Field) {
    let attrs = &field.attrs;
    if !attrs.id.is_set() && !attrs.version.is_set() {
        return;
    }
    let field_name = field.name();
    for (key, flag) in [
        (symbol::FIND_BY, attrs.find_by),
        (symbol::UNIQUE, attrs.unique),
    ] {
        let message = if attrs.id.is_set() {
            format!(
                "`{key}` cannot be used on the id `{field_name}`: `get` already looks aggregates up by id; remove `{key}`"
            )
        } else {
            format!(
                "`{key}` cannot be used on the version `{field_name}`: a version is not looked up; remove `{key}`"
            )
        };
        at_flag(cx, flag, message);
    }
}

fn finder_or_unique(cx: &Ctxt, field: &Field) {
    let attrs = &field.attrs;
    if attrs.find_by.is_set() && attrs.unique.is_set() {
        let field_name = field.name();
        at_flag(
            cx,
            attrs.unique,
            format!(
                "`{field_name}` cannot be both `find_by` and `unique`: keep `unique` for `get_by_{field_name}` (one aggregate) or `find_by` for `find_by_{field_name}` (several)"
            ),
        );
    }
}

/// A field without keys that holds the aggregate's domain events (a `Vec`
/// named `events`, or of a type named `...Event`): it cannot be a column,
/// and the remedy is `events`, not `json` (which would store the events and
/// never return them from `commit()`).
fn events_need_their_key(cx: &Ctxt, field: &Field) {
    let attrs = &field.attrs;
    let keyless = !attrs.id.is_set()
        && !attrs.version.is_set()
        && !attrs.find_by.is_set()
        && !attrs.unique.is_set()
        && attrs.column.is_none();
    let Some(element) = ast::vec_element(field.ty) else {
        return;
    };
    let element_name = ast::type_display(element);
    let named_event = ast::last_segment(element).is_some_and(|last| last.ends_with("Event"));
    let named_events = field.name().ends_with("events");
    if keyless && (named_event || named_events) && element_name != "u8" {
        cx.error_spanned_by(
            field.ty,
            format!(
                "`{}` looks like the aggregate's domain events, which are not a column: mark it `#[{a}(events)]` so that `commit()` returns them (or, to store a list of values instead, `#[{a}(json)]`)",
                field.name(),
                a = symbol::AGGREGATE
            ),
        );
    }
}

/// `#[derive(Entity)]` on a struct written as an aggregate (an
/// `#[aggregate(...)]` on the struct, or an `#[aggregate(version)]` field):
/// most likely `#[derive(Aggregate, Entity)]`, where `Aggregate` implements
/// `Entity` already. Reported once, at the derive, instead of once per
/// `#[aggregate]` attribute and once more as conflicting impls.
pub fn written_as_aggregate(cx: &Ctxt, input: &syn::DeriveInput) -> bool {
    let aggregate_attr = |attr: &syn::Attribute| attr.path() == symbol::AGGREGATE;
    let on_struct = input.attrs.iter().any(aggregate_attr);
    let version_field = match &input.data {
        syn::Data::Struct(data) => data.fields.iter().any(|field| {
            field
                .attrs
                .iter()
                .filter(|a| aggregate_attr(a))
                .any(|attr| {
                    let mut version = false;
                    let _ = attr.parse_nested_meta(|meta| {
                        version |= meta.path == symbol::VERSION;
                        if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                            let _: proc_macro2::TokenStream = meta.input.parse()?;
                        }
                        Ok(())
                    });
                    version
                })
        }),
        _ => false,
    };
    if !on_struct && !version_field {
        return false;
    }
    cx.error_at(
        proc_macro2::Span::call_site(),
        format!(
            "`{}` is written as an aggregate, and `#[derive(Aggregate)]` implements `Entity` itself: remove `Entity` from this derive (an entity held inside an aggregate marks its id with `#[entity(id)]`, not `#[aggregate(...)]`)",
            input.ident
        ),
    );
    true
}

pub fn check_entity(cx: &Ctxt, entity: &Entity) {
    no_generics(cx, entity.generics, "#[derive(Entity)]", "an entity");
    let ident = entity.ident;
    let e = symbol::ENTITY;
    let ids: Vec<_> = entity.fields.iter().filter(|f| f.id.is_set()).collect();
    let unread = entity.fields.iter().any(|f| f.unread.may_mean(symbol::ID));
    match ids.split_first() {
        None if unread => {}
        None => cx.error_spanned_by(
            ident,
            format!("`{ident}` has no id field: mark its identity field with `#[{e}(id)]`"),
        ),
        Some((first, others)) => {
            for other in others {
                at_flag(
                    cx,
                    other.id,
                    format!(
                        "`{ident}` already has an id field, `{}`: an entity has exactly one `#[{e}(id)]`",
                        first.ident
                    ),
                );
            }
        }
    }
}

pub fn check_column_value(cx: &Ctxt, value: &ColumnValue) {
    no_generics(
        cx,
        value.generics,
        "#[derive(ColumnValue)]",
        "a column value",
    );
    let ident = value.ident;
    if let Some(variants) = &value.variants {
        enum_variants(cx, ident, variants);
        return;
    }
    match value.fields.as_slice() {
        [_] => {}
        [] => cx.error_spanned_by(
            ident,
            format!("a column value wraps exactly one field, and `{ident}` has none: `struct {ident}(String);`"),
        ),
        [_, second, ..] => {
            let ty = second.1;
            cx.error_spanned_by(
                ty,
                format!(
                    "a column value wraps exactly one field, and `{ident}` has more: store a value object of several fields as one JSON document, with `#[aggregate(json)]` on the aggregate's field, and drop `#[derive(ColumnValue)]`"
                ),
            );
        }
    }
}

/// An enum stored by variant name: at least one variant, none with fields,
/// and no two stored under the same text.
fn enum_variants(cx: &Ctxt, ident: &syn::Ident, variants: &[ast::ColumnVariant]) {
    if variants.is_empty() {
        cx.error_spanned_by(
            ident,
            format!(
                "an enum stored as a column needs at least one variant, and `{ident}` has none"
            ),
        );
    }
    let mut seen: HashMap<String, &syn::Ident> = HashMap::new();
    for variant in variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            let name = variant.ident;
            cx.error_spanned_by(
                variant.fields,
                format!(
                    "an enum stored as a column stores the name of its variant, and `{ident}::{name}` has fields: store an enum with data as one JSON document, with `#[aggregate(json)]` on the aggregate's field, and drop `#[derive(ColumnValue)]`"
                ),
            );
        }
        let stored = variant.stored_name();
        if let Some(rename) = &variant.rename
            && stored.is_empty()
        {
            cx.error_spanned_by(
                rename,
                "`rename` needs a non-empty text, such as `rename = \"in_progress\"`",
            );
            continue;
        }
        let at: &dyn quote::ToTokens = match &variant.rename {
            Some(rename) => rename,
            None => variant.ident,
        };
        match seen.get(&stored) {
            Some(first) => cx.error_spanned_by(
                at,
                format!(
                    "`{ident}::{}` is stored as \"{stored}\", as `{ident}::{first}` is: give each variant its own text with `#[column_value(rename = \"...\")]`",
                    variant.ident
                ),
            ),
            None => {
                seen.insert(stored, variant.ident);
            }
        }
    }
}

/// Every rule of a unit of work, each a function of its own below.
pub fn check_unit_of_work(cx: &Ctxt, uow: &UnitOfWork) {
    unit_of_work_has_no_generics(cx, uow);
    has_repositories(cx, uow);
    no_refused_derives(cx, uow);
    fields_name_aggregates_not_repositories(cx, uow);
    one_repository_per_aggregate(cx, uow);
}

/// The aggregate a field written `Repository<Product, ...>` meant.
pub fn repository_field(field: &syn::Field) -> Option<&syn::Type> {
    let syn::Type::Path(path) = &field.ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Repository" {
        return None;
    }
    match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => match args.args.first()? {
            syn::GenericArgument::Type(ty) => Some(ty),
            _ => None,
        },
        _ => None,
    }
}

fn fields_name_aggregates_not_repositories(cx: &Ctxt, uow: &UnitOfWork) {
    for field in &uow.fields {
        if let Some(aggregate) = repository_field(field) {
            let name = field
                .ident
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            cx.error_spanned_by(
                &field.ty,
                format!(
                    "a unit of work field names the aggregate, not its repository: write `{name}: {}`, and the field becomes a `Repository<{}, S>` on the unit of work's store",
                    ast::type_display(aggregate),
                    ast::type_display(aggregate),
                ),
            );
        }
    }
}

fn unit_of_work_has_no_generics(cx: &Ctxt, uow: &UnitOfWork) {
    let generics = &uow.item.generics;
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        let where_clause = &generics.where_clause;
        cx.error_spanned_by(
            quote!(#generics #where_clause),
            "`#[unit_of_work]` does not take generic parameters: it adds the store parameter itself",
        );
    }
}

fn has_repositories(cx: &Ctxt, uow: &UnitOfWork) {
    if uow.fields.is_empty() {
        cx.error_spanned_by(
            &uow.item.ident,
            "a unit of work needs at least one repository field, such as `pub products: Product`",
        );
    }
}

/// Why a unit of work cannot derive the trait at the end of `path`, if it
/// cannot.
pub fn refused_derive(path: &syn::Path) -> Option<&'static str> {
    let last = path.segments.last()?.ident.to_string();
    Some(match last.as_str() {
        "Debug" => "implements `Debug` itself (showing the repositories)",
        "Clone" | "Copy" => {
            "is one open transaction with the aggregates it loaded, which cannot be duplicated (begin another unit of work instead)"
        }
        "Default" => "is created by `begin(&store)`, on a store, not by `Default`",
        "PartialEq" | "Eq" | "PartialOrd" | "Ord" | "Hash" => {
            "is an open transaction, not a value to compare or hash (compare the aggregates it loaded instead)"
        }
        "Serialize" | "Deserialize" => {
            "is an open transaction and cannot be serialized (serialize the aggregates it loaded instead)"
        }
        _ => return None,
    })
}

fn no_refused_derives(cx: &Ctxt, uow: &UnitOfWork) {
    for attr in uow
        .item
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("derive"))
    {
        // A malformed derive is rustc's to report.
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(reason) = refused_derive(&meta.path) {
                let name = meta
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default();
                cx.error_spanned_by(
                    &meta.path,
                    format!(
                        "a unit of work cannot derive `{name}`: it {reason}; remove `{name}` from this derive"
                    ),
                );
            }
            Ok(())
        });
    }
}

/// The same aggregate type written twice (an alias or another path, or two
/// types on one table, is caught by a constant the expansion evaluates).
fn one_repository_per_aggregate(cx: &Ctxt, uow: &UnitOfWork) {
    let mut seen: HashMap<String, &syn::Field> = HashMap::new();
    for field in &uow.fields {
        let text = ast::type_text(&field.ty);
        let Some(first) = seen.get(&text) else {
            seen.insert(text, field);
            continue;
        };
        let ty = &field.ty;
        let first_name = first
            .ident
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        cx.error_spanned_by(
            ty,
            format!(
                "`{}` already has a repository in this unit of work, `{first_name}`: a unit of work holds one repository per aggregate; remove `{}` and use `{first_name}`",
                ast::type_display(ty),
                field.ident.as_ref().map(ToString::to_string).unwrap_or_default(),
            ),
        );
    }
}

fn no_generics(cx: &Ctxt, generics: &Generics, macro_name: &str, what: &str) {
    if !generics.params.is_empty() {
        cx.error_spanned_by(
            generics,
            format!(
                "`{macro_name}` does not support generic parameters or lifetimes: {what} is one concrete type"
            ),
        );
    }
}

/// An error at `flag`'s key, if it was given.
fn at_flag(cx: &Ctxt, flag: Flag, message: String) {
    if let Some(span) = flag.span() {
        cx.error_at(span, message);
    }
}

/// What kind of name is checked, for messages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NameKind {
    Table,
    Column,
}

/// Reports a table or column name that is not a plain SQL identifier or is
/// reserved, with a name to write instead; `owner` is the aggregate's name in
/// snake_case.
fn check_sql_name(cx: &Ctxt, name: &SqlName, kind: NameKind, owner: &str) {
    let a = symbol::AGGREGATE;
    let value = &name.value;
    let (what, key, origin) = match kind {
        NameKind::Table => ("table", symbol::TABLE, "the type name"),
        NameKind::Column => ("column", symbol::COLUMN, "the field name"),
    };
    let origin = if name.explicit {
        String::new()
    } else {
        format!(" (from {origin})")
    };
    let problem = if !is_identifier(value) {
        format!(
            "{what} name `{value}`{origin} is not a plain SQL identifier (ASCII letters, digits and `_`, not starting with a digit, at most {MAX_NAME_LEN} characters)"
        )
    } else if is_reserved(value) {
        format!("{what} name `{value}`{origin} is an SQL reserved word")
    } else {
        return;
    };
    let base = identifier_like(value);
    let candidates = match kind {
        NameKind::Table => [format!("{base}s"), format!("{base}_table")],
        NameKind::Column => [format!("{owner}_{base}"), format!("{base}_value")],
    };
    let suggestion = candidates
        .into_iter()
        .find(|candidate| !base.is_empty() && is_identifier(candidate) && !is_reserved(candidate));
    let fix = match (suggestion, name.explicit) {
        (Some(other), true) => format!("choose another, such as `{other}`"),
        (Some(other), false) => format!("set another with `#[{a}({key} = \"{other}\")]`"),
        (None, true) => "choose another".to_owned(),
        (None, false) => format!("set another with `#[{a}({key} = \"...\")]`"),
    };
    cx.error_at(name.span, format!("{problem}; {fix}"));
}

/// `value` with every character that an SQL identifier cannot hold replaced
/// by `_`, without leading or trailing `_` and cut to fit; empty when
/// nothing is left.
fn identifier_like(value: &str) -> String {
    let replaced: String = value
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut out = String::new();
    for part in replaced.split('_').filter(|part| !part.is_empty()) {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(part);
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out.truncate(MAX_NAME_LEN - 8);
    out
}

/// `[A-Za-z_][A-Za-z0-9_]*`, at most 63 characters.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    name.len() <= MAX_NAME_LEN
        && (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub fn is_reserved(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    RESERVED.contains(&lower.as_str())
}
