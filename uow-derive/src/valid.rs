//! The rules an item must follow beyond its syntax: exactly one id, one
//! version of an integer type, names that are SQL identifiers, and so on.
//! Each broken rule is recorded at the attribute, field or type at fault.

use std::collections::HashMap;

use quote::quote;
use syn::Generics;

use crate::ast::{self, Aggregate, ColumnValue, Entity, Field, SqlName, UnitOfWork};
use crate::attr::Flag;
use crate::ctxt::Ctxt;
use crate::symbol;

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

pub fn check_aggregate(cx: &Ctxt, aggregate: &Aggregate) {
    no_generics(
        cx,
        aggregate.generics,
        "#[derive(Aggregate)]",
        "an aggregate",
    );
    let name = aggregate.name();
    let a = symbol::AGGREGATE;

    let ids: Vec<&Field> = aggregate
        .fields
        .iter()
        .filter(|f| f.attrs.id.is_set())
        .collect();
    // A key that could not be read may have been the id: that key's error
    // says what is wrong.
    let unread = |key| {
        aggregate
            .fields
            .iter()
            .any(|f| f.attrs.unread.may_mean(key))
    };
    match ids.split_first() {
        None if unread(symbol::ID) => {}
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

    let versions: Vec<&Field> = aggregate
        .fields
        .iter()
        .filter(|f| f.attrs.version.is_set())
        .collect();
    match versions.split_first() {
        None if unread(symbol::VERSION) => {}
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

    let mut events_seen: Option<&Field> = None;
    for field in &aggregate.fields {
        check_field(cx, field);
        if field.is_events() {
            match events_seen {
                Some(first) => at_flag(
                    cx,
                    field.attrs.events,
                    format!(
                        "`{name}` already has an events field, `{}`: record all events in one `#[{a}(events)]` field",
                        first.name()
                    ),
                ),
                None => events_seen = Some(field),
            }
        }
    }

    let owner = ast::snake_case(&name);
    check_sql_name(cx, &aggregate.table, NameKind::Table, &owner);
    let all_columns: Vec<String> = aggregate
        .columns()
        .map(|(_, field)| field.column.value.to_lowercase())
        .collect();
    let mut columns: HashMap<String, &Field> = HashMap::new();
    for (_, field) in aggregate.columns() {
        check_sql_name(cx, &field.column, NameKind::Column, &owner);
        let key = field.column.value.to_lowercase();
        match columns.get(&key) {
            Some(first) => {
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
            None => {
                columns.insert(key, field);
            }
        }
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
    let attrs = &field.attrs;
    let field_name = field.name();

    if attrs.version.is_set() {
        if attrs.id.is_set() {
            at_flag(
                cx,
                attrs.version,
                format!(
                    "a field cannot be both `id` and `version`: keep `{field_name}` as the id and add a version of its own, `#[{a}(version)] pub version: u64`",
                    a = symbol::AGGREGATE
                ),
            );
        }
        if ast::version_type(field.ty).is_none() {
            let ty = field.ty;
            cx.error_spanned_by(
                ty,
                format!(
                    "the version field must be `u64`, `i64`, `u32` or `i32`, not `{}`: the framework counts commits in it",
                    ast::type_display(ty)
                ),
            );
        }
    }

    if field.is_events() {
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
        return;
    }

    if let (true, Some(decimal)) = (attrs.json.is_set(), &attrs.decimal) {
        cx.error_spanned_by(
            &decimal.path,
            "`decimal` cannot be used on a `json` field: it is stored as one JSON document; remove `decimal`, or `json`",
        );
    }
    if attrs.json.is_set() {
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
        return;
    }

    if attrs.id.is_set() || attrs.version.is_set() {
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
        return;
    }

    if attrs.find_by.is_set() && attrs.unique.is_set() {
        at_flag(
            cx,
            attrs.unique,
            format!(
                "`{field_name}` cannot be both `find_by` and `unique`: keep `unique` for `get_by_{field_name}` (one aggregate) or `find_by` for `find_by_{field_name}` (several)"
            ),
        );
    }
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

pub fn check_unit_of_work(cx: &Ctxt, uow: &UnitOfWork) {
    let item = uow.item;
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        let generics = &item.generics;
        let where_clause = &generics.where_clause;
        cx.error_spanned_by(
            quote!(#generics #where_clause),
            "`#[unit_of_work]` does not take generic parameters: it adds the store parameter itself",
        );
    }
    if uow.fields.is_empty() {
        cx.error_spanned_by(
            &item.ident,
            "a unit of work needs at least one repository field, such as `pub products: Product`",
        );
    }
    for attr in item
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("derive"))
    {
        // A malformed derive is rustc's to report.
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.segments.last().is_some_and(|s| s.ident == "Debug") {
                cx.error_spanned_by(
                    &meta.path,
                    "`#[unit_of_work]` implements `Debug` itself (showing the repositories): remove `Debug` from this derive",
                );
            }
            Ok(())
        });
    }
    let mut seen: HashMap<String, &syn::Field> = HashMap::new();
    for field in &uow.fields {
        let text = ast::type_text(&field.ty);
        match seen.get(&text) {
            Some(first) => {
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
            None => {
                seen.insert(text, field);
            }
        }
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
