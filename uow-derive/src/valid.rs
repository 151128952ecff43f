//! The rules an item must follow beyond its syntax: exactly one id, one
//! version of an integer type, names that are SQL identifiers, and so on.
//! Each broken rule is recorded at the attribute, field or type at fault.

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
    match ids.split_first() {
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

    check_sql_name(cx, &aggregate.table, &TABLE_NAME);
    let mut columns: HashMap<String, &Field> = HashMap::new();
    for (_, field) in aggregate.columns() {
        check_sql_name(cx, &field.column, &COLUMN_NAME);
        let key = field.column.value.to_lowercase();
        match columns.get(&key) {
            Some(first) => cx.error_at(
                field.column.span,
                format!(
                    "column `{}` is already used by field `{}`: rename one with `#[{a}(column = \"...\")]`",
                    field.column.value,
                    first.name()
                ),
            ),
            None => {
                columns.insert(key, field);
            }
        }
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
                    "`{field_name}` cannot be both the id and the version: give the version its own field"
                ),
            );
        }
        if ast::version_type(field.ty).is_none() {
            let ty = field.ty;
            cx.error_spanned_by(
                ty,
                format!(
                    "the version field must be `u64`, `i64`, `u32` or `i32`, not `{}`",
                    quote!(#ty)
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
                format!("`{key}` cannot be used on the events field: events are never stored"),
            );
        }
        if let Some(column) = &attrs.column {
            cx.error_spanned_by(
                column,
                "`column` cannot be used on the events field: events are never stored",
            );
        }
        if ast::vec_element(field.ty).is_none() {
            let ty = field.ty;
            cx.error_spanned_by(
                ty,
                format!(
                    "the events field must be a `Vec` of the aggregate's event type, such as `Vec<MyEvent>`, not `{}`",
                    quote!(#ty)
                ),
            );
        }
        return;
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
                    "`{key}` cannot be used on a `json` field: a JSON document cannot be looked up"
                ),
            );
        }
        for (what, flag) in [("id", attrs.id), ("version", attrs.version)] {
            if flag.is_set() {
                at_flag(
                    cx,
                    attrs.json,
                    format!("the {what} field cannot be `json`: it is stored as one plain column"),
                );
            }
        }
        return;
    }

    if attrs.id.is_set() || attrs.version.is_set() {
        let what = if attrs.id.is_set() {
            "the id needs no finder: `get` looks aggregates up by id"
        } else {
            "the version cannot be looked up"
        };
        for (key, flag) in [
            (symbol::FIND_BY, attrs.find_by),
            (symbol::UNIQUE, attrs.unique),
        ] {
            at_flag(
                cx,
                flag,
                format!("`{key}` cannot be used on `{field_name}`: {what}"),
            );
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
    match ids.split_first() {
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
                "a column value wraps exactly one field; store a multi-field value object with #[aggregate(json)]",
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
                        "`{}` already has a repository in this unit of work, `{first_name}`: a unit of work holds one repository per aggregate",
                        quote!(#ty)
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
struct NameKind {
    what: &'static str,
    key: Symbol,
    example: &'static str,
}

const TABLE_NAME: NameKind = NameKind {
    what: "table",
    key: symbol::TABLE,
    example: "...",
};

const COLUMN_NAME: NameKind = NameKind {
    what: "column",
    key: symbol::COLUMN,
    example: "...",
};

fn check_sql_name(cx: &Ctxt, name: &SqlName, kind: &NameKind) {
    let &NameKind { what, key, example } = kind;
    let a = symbol::AGGREGATE;
    let value = &name.value;
    let origin = if name.explicit {
        String::new()
    } else if what == "table" {
        " (from the type name)".to_owned()
    } else {
        " (from the field name)".to_owned()
    };
    let fix = if name.explicit {
        "choose another".to_owned()
    } else if what == "table" {
        format!("set another with `#[{a}({key} = \"{value}s\")]`")
    } else {
        format!("set another with `#[{a}({key} = \"{example}\")]`")
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
    cx.error_at(name.span, format!("{problem}; {fix}"));
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
