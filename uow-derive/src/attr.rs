//! Reads `#[aggregate(...)]`, `#[entity(...)]`, `#[column_value(...)]` and
//! the arguments of `#[unit_of_work(...)]`.
//!
//! Every mistake is recorded in the [`Ctxt`] and reading goes on, so that one
//! compile reports them all: unknown keys (with a "did you mean"), keys given
//! twice, flags given a value and keys missing theirs.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::discouraged::Speculative;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitStr, Meta, Path, Token, Type};

use crate::ctxt::Ctxt;
use crate::symbol::{self, Symbol};

/// A key without a value (`#[aggregate(id)]`), and where it was written.
#[derive(Clone, Copy, Default)]
pub struct Flag(Option<Span>);

impl Flag {
    pub fn is_set(self) -> bool {
        self.0.is_some()
    }

    /// The span of the key, if it was given.
    pub fn span(self) -> Option<Span> {
        self.0
    }
}

/// A key with a value (`#[aggregate(table = "products")]`).
pub struct Setting<T> {
    /// Whether the key was given (even with a wrong value).
    seen: bool,
    value: Option<T>,
}

impl<T> Default for Setting<T> {
    fn default() -> Self {
        Setting {
            seen: false,
            value: None,
        }
    }
}

impl<T> Setting<T> {
    pub fn into_inner(self) -> Option<T> {
        self.value
    }
}

/// What the keys that could not be read may have meant: the "did you mean"
/// of an unknown key, or anything at all when a whole attribute could not be
/// read. The rules consult it so that a misspelled `id` is reported once, as
/// misspelled, and not once more as a missing id.
#[derive(Clone, Default)]
pub struct Unread {
    keys: Vec<Symbol>,
    anything: bool,
}

impl Unread {
    /// Whether `key` may have been meant by a key that could not be read.
    pub fn may_mean(&self, key: Symbol) -> bool {
        self.anything || self.keys.contains(&key)
    }
}

/// `#[aggregate(...)]` on the struct.
#[derive(Default)]
pub struct AggregateStruct {
    pub table: Setting<LitStr>,
    pub repository: Setting<Ident>,
    pub krate: Setting<Path>,
    pub eq_by_id: Flag,
    /// `index(a, b)`, any number of them: the fields of each, as written.
    pub indexes: Vec<Vec<Ident>>,
}

/// `#[aggregate(...)]` on a field.
#[derive(Clone, Default)]
pub struct AggregateField {
    pub id: Flag,
    pub version: Flag,
    pub column: Option<LitStr>,
    pub json: Flag,
    pub find_by: Flag,
    pub unique: Flag,
    pub events: Flag,
    pub decimal: Option<DecimalArgs>,
    pub unread: Unread,
}

/// `decimal(precision = P, scale = S)`.
#[derive(Clone)]
pub struct DecimalArgs {
    pub path: Path,
    pub precision: syn::LitInt,
    pub scale: syn::LitInt,
}

/// `#[entity(...)]` on the struct.
#[derive(Default)]
pub struct EntityStruct {
    pub krate: Setting<Path>,
    pub eq_by_id: Flag,
}

/// `#[entity(...)]` on a field.
#[derive(Clone, Default)]
pub struct EntityField {
    pub id: Flag,
    pub unread: Unread,
}

/// `#[column_value(...)]` on the struct.
#[derive(Default)]
pub struct ColumnValueStruct {
    pub krate: Setting<Path>,
}

/// `#[column_value(...)]` on an enum's variant.
#[derive(Default)]
pub struct ColumnValueVariant {
    pub rename: Option<LitStr>,
}

/// The arguments of `#[unit_of_work(...)]`.
#[derive(Default)]
pub struct UnitOfWorkArgs {
    pub events: Setting<Type>,
    pub outbox: Flag,
    pub krate: Setting<Path>,
}

/// Which attribute is being read and where it is written, for messages.
#[derive(Clone, Copy)]
struct Scope {
    attr: Symbol,
    place: Place,
    /// The keys accepted here.
    keys: &'static [Symbol],
    /// The keys the same attribute accepts in the other place.
    elsewhere: &'static [Symbol],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Struct,
    Field,
    Variant,
    Arguments,
}

pub fn aggregate_struct(cx: &Ctxt, attrs: &[Attribute]) -> AggregateStruct {
    let scope = Scope {
        attr: symbol::AGGREGATE,
        place: Place::Struct,
        keys: symbol::AGGREGATE_STRUCT_KEYS,
        elsewhere: symbol::AGGREGATE_FIELD_KEYS,
    };
    let mut out = AggregateStruct::default();
    foreign_attrs(cx, attrs, scope, symbol::ENTITY);
    read_attrs(cx, attrs, scope, |key, meta| {
        if key == symbol::TABLE {
            let value = value(cx, scope, key, meta, "a string", parse_string)?;
            out.table.set(cx, scope, key, meta, value);
        } else if key == symbol::REPOSITORY {
            let value = value(cx, scope, key, meta, "a string", parse_string)?;
            let ident = value.and_then(|lit| trait_name(cx, &lit));
            out.repository.set(cx, scope, key, meta, ident);
        } else if key == symbol::CRATE {
            crate_path(cx, scope, key, meta, &mut out.krate)?;
        } else if key == symbol::EQ_BY_ID {
            flag(cx, scope, key, meta, &mut out.eq_by_id)?;
        } else if key == symbol::INDEX {
            out.indexes.push(index_fields(cx, meta)?);
        }
        Ok(())
    });
    out
}

/// The fields of `index(a, b, ...)`, at least one, each a field name.
fn index_fields(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Vec<Ident>> {
    let mut fields = Vec::new();
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &meta.path,
            "`index` takes the fields of the index in parentheses: `index(merchant_id, created_at)`",
        );
        return Ok(fields);
    }
    meta.parse_nested_meta(|field| {
        match field.path.get_ident() {
            Some(ident) if field.input.is_empty() || field.input.peek(syn::Token![,]) => {
                fields.push(ident.clone())
            }
            _ => cx.error_spanned_by(
                &field.path,
                "an index lists field names: `index(merchant_id, created_at)`",
            ),
        }
        Ok(())
    })?;
    if fields.is_empty() {
        cx.error_spanned_by(
            &meta.path,
            "an index needs at least one field: `index(merchant_id, created_at)`",
        );
    }
    Ok(fields)
}

pub fn aggregate_field(cx: &Ctxt, attrs: &[Attribute]) -> AggregateField {
    let scope = Scope {
        attr: symbol::AGGREGATE,
        place: Place::Field,
        keys: symbol::AGGREGATE_FIELD_KEYS,
        elsewhere: symbol::AGGREGATE_STRUCT_KEYS,
    };
    let mut out = AggregateField::default();
    let mut column = Setting::default();
    let mut decimal = Setting::default();
    let mut unread = foreign_attrs(cx, attrs, scope, symbol::ENTITY);
    unread.absorb(read_attrs(cx, attrs, scope, |key, meta| {
        let target = match key {
            k if k == symbol::COLUMN => {
                let value = value(cx, scope, key, meta, "a string", parse_string)?;
                column.set(cx, scope, key, meta, value);
                return Ok(());
            }
            k if k == symbol::DECIMAL => {
                let value = decimal_args(cx, scope, key, meta)?;
                decimal.set(cx, scope, key, meta, value);
                return Ok(());
            }
            k if k == symbol::ID => &mut out.id,
            k if k == symbol::VERSION => &mut out.version,
            k if k == symbol::JSON => &mut out.json,
            k if k == symbol::FIND_BY => &mut out.find_by,
            k if k == symbol::UNIQUE => &mut out.unique,
            k if k == symbol::EVENTS => &mut out.events,
            _ => return Ok(()),
        };
        flag(cx, scope, key, meta, target)
    }));
    out.column = column.into_inner();
    out.decimal = decimal.into_inner();
    out.unread = unread;
    out
}

pub fn entity_struct(cx: &Ctxt, attrs: &[Attribute]) -> EntityStruct {
    let scope = Scope {
        attr: symbol::ENTITY,
        place: Place::Struct,
        keys: symbol::ENTITY_STRUCT_KEYS,
        elsewhere: symbol::ENTITY_FIELD_KEYS,
    };
    let mut out = EntityStruct::default();
    foreign_attrs(cx, attrs, scope, symbol::AGGREGATE);
    read_attrs(cx, attrs, scope, |key, meta| {
        if key == symbol::CRATE {
            crate_path(cx, scope, key, meta, &mut out.krate)?;
        } else if key == symbol::EQ_BY_ID {
            flag(cx, scope, key, meta, &mut out.eq_by_id)?;
        }
        Ok(())
    });
    out
}

pub fn entity_field(cx: &Ctxt, attrs: &[Attribute]) -> EntityField {
    let scope = Scope {
        attr: symbol::ENTITY,
        place: Place::Field,
        keys: symbol::ENTITY_FIELD_KEYS,
        elsewhere: symbol::ENTITY_STRUCT_KEYS,
    };
    let mut out = EntityField::default();
    let mut unread = foreign_attrs(cx, attrs, scope, symbol::AGGREGATE);
    unread.absorb(read_attrs(cx, attrs, scope, |key, meta| {
        if key == symbol::ID {
            flag(cx, scope, key, meta, &mut out.id)?;
        }
        Ok(())
    }));
    out.unread = unread;
    out
}

pub fn column_value_struct(cx: &Ctxt, attrs: &[Attribute]) -> ColumnValueStruct {
    let scope = Scope {
        attr: symbol::COLUMN_VALUE,
        place: Place::Struct,
        keys: symbol::COLUMN_VALUE_STRUCT_KEYS,
        elsewhere: symbol::COLUMN_VALUE_FIELD_KEYS,
    };
    let mut out = ColumnValueStruct::default();
    read_attrs(cx, attrs, scope, |key, meta| {
        if key == symbol::CRATE {
            crate_path(cx, scope, key, meta, &mut out.krate)?;
        }
        Ok(())
    });
    out
}

/// Rejects `#[column_value(...)]` on the field: it has no field keys.
pub fn column_value_field(cx: &Ctxt, attrs: &[Attribute]) {
    let scope = Scope {
        attr: symbol::COLUMN_VALUE,
        place: Place::Field,
        keys: symbol::COLUMN_VALUE_FIELD_KEYS,
        elsewhere: symbol::COLUMN_VALUE_STRUCT_KEYS,
    };
    read_attrs(cx, attrs, scope, |_, _| Ok(()));
}

/// Reads `#[column_value(rename = "...")]` on an enum's variant.
pub fn column_value_variant(cx: &Ctxt, attrs: &[Attribute]) -> ColumnValueVariant {
    let scope = Scope {
        attr: symbol::COLUMN_VALUE,
        place: Place::Variant,
        keys: symbol::COLUMN_VALUE_VARIANT_KEYS,
        elsewhere: symbol::COLUMN_VALUE_STRUCT_KEYS,
    };
    let mut rename = Setting::default();
    read_attrs(cx, attrs, scope, |key, meta| {
        if key == symbol::RENAME {
            let value = value(cx, scope, key, meta, "a string", parse_string)?;
            rename.set(cx, scope, key, meta, value);
        }
        Ok(())
    });
    ColumnValueVariant {
        rename: rename.into_inner(),
    }
}

pub fn unit_of_work_args(cx: &Ctxt, args: TokenStream) -> UnitOfWorkArgs {
    let scope = Scope {
        attr: symbol::UNIT_OF_WORK,
        place: Place::Arguments,
        keys: symbol::UNIT_OF_WORK_KEYS,
        elsewhere: &[],
    };
    let mut out = UnitOfWorkArgs::default();
    if args.is_empty() {
        return out;
    }
    let mut unread = Unread::default();
    let parser = syn::meta::parser(|meta| {
        read_key(cx, scope, &meta, &mut unread, &mut |key, meta| {
            if key == symbol::EVENTS {
                let value = value(cx, scope, key, meta, "a type", parse_type)?;
                out.events.set(cx, scope, key, meta, value);
            } else if key == symbol::OUTBOX {
                flag(cx, scope, key, meta, &mut out.outbox)?;
            } else if key == symbol::CRATE {
                crate_path(cx, scope, key, meta, &mut out.krate)?;
            }
            Ok(())
        })
    });
    if let Err(error) = parser.parse2(args) {
        cx.syn_error(error);
    }
    out
}

/// Calls `on_key` for every known key of every `#[<scope.attr>(...)]` in
/// `attrs`; records unknown keys and malformed attributes, and returns what
/// they may have meant.
fn read_attrs(
    cx: &Ctxt,
    attrs: &[Attribute],
    scope: Scope,
    mut on_key: impl FnMut(Symbol, &ParseNestedMeta) -> syn::Result<()>,
) -> Unread {
    let mut unread = Unread::default();
    for attr in attrs.iter().filter(|attr| attr.path() == scope.attr) {
        let example = match scope.keys.first() {
            Some(key) => format!("`#[{}({})]`", scope.attr, example_of(scope, *key)),
            None => format!("`#[{}(...)]`", scope.attr),
        };
        match &attr.meta {
            Meta::List(list) if list.tokens.is_empty() => continue,
            Meta::List(_) => {}
            Meta::Path(_) | Meta::NameValue(_) => {
                cx.error_spanned_by(
                    attr,
                    format!(
                        "`#[{}]` takes its keys in parentheses, such as {example}",
                        scope.attr
                    ),
                );
                unread.anything = true;
                continue;
            }
        }
        let result =
            attr.parse_nested_meta(|meta| read_key(cx, scope, &meta, &mut unread, &mut on_key));
        if let Err(error) = result {
            cx.syn_error(error);
            unread.anything = true;
        }
    }
    unread
}

fn read_key(
    cx: &Ctxt,
    scope: Scope,
    meta: &ParseNestedMeta,
    unread: &mut Unread,
    on_key: &mut dyn FnMut(Symbol, &ParseNestedMeta) -> syn::Result<()>,
) -> syn::Result<()> {
    match scope.keys.iter().find(|key| meta.path == **key) {
        Some(key) => on_key(*key, meta),
        None => {
            let meant = unknown_key(cx, scope, meta)?;
            unread.keys.extend(meant);
            Ok(())
        }
    }
}

/// Reports the attribute of the other derive (`#[entity(...)]` on an
/// aggregate, `#[aggregate(...)]` on an entity), which rustc would accept
/// silently here since both derives declare both.
fn foreign_attrs(cx: &Ctxt, attrs: &[Attribute], scope: Scope, foreign: Symbol) -> Unread {
    let mut unread = Unread::default();
    let (derive, foreign_derive) = if scope.attr == symbol::ENTITY {
        ("Entity", "Aggregate")
    } else {
        ("Aggregate", "Entity")
    };
    let example = match scope.keys.first() {
        Some(key) => format!(", such as `#[{}({})]`", scope.attr, example_of(scope, *key)),
        None => String::new(),
    };
    for attr in attrs.iter().filter(|attr| attr.path() == foreign) {
        cx.error_spanned_by(
            attr.path(),
            format!(
                "`#[{foreign}(...)]` belongs to `#[derive({foreign_derive})]`; with `#[derive({derive})]` write `#[{}(...)]`{example}",
                scope.attr
            ),
        );
        unread.anything = true;
    }
    unread
}

impl Unread {
    fn absorb(&mut self, other: Unread) {
        self.keys.extend(other.keys);
        self.anything |= other.anything;
    }
}

impl<T> Setting<T> {
    /// Stores the value of `key`, or records that the key was given twice.
    fn set(
        &mut self,
        cx: &Ctxt,
        scope: Scope,
        key: Symbol,
        meta: &ParseNestedMeta,
        value: Option<T>,
    ) {
        if self.seen {
            cx.error_spanned_by(&meta.path, duplicate(scope, key));
        } else {
            self.seen = true;
            self.value = value;
        }
    }
}

/// Reads a flag: a key that takes no value.
fn flag(
    cx: &Ctxt,
    scope: Scope,
    key: Symbol,
    meta: &ParseNestedMeta,
    flag: &mut Flag,
) -> syn::Result<()> {
    if !at_end_of_key(meta.input) {
        let value = skip_value(meta.input)?;
        let path = &meta.path;
        cx.error_spanned_by(
            quote!(#path #value),
            format!(
                "`{key}` is a flag and takes no value: write `#[{}({key})]`",
                scope.attr
            ),
        );
    }
    if flag.is_set() {
        cx.error_spanned_by(&meta.path, duplicate(scope, key));
    } else {
        flag.0 = Some(meta.path.span());
    }
    Ok(())
}

/// Reads the value of a `key = value` key with `parse`; `None` (and an error
/// recorded) when it is missing or not `what` was expected.
fn value<T>(
    cx: &Ctxt,
    scope: Scope,
    key: Symbol,
    meta: &ParseNestedMeta,
    what: &str,
    parse: fn(ParseStream) -> syn::Result<T>,
) -> syn::Result<Option<T>> {
    let example = format!("`#[{}({})]`", scope.attr, example_of(scope, key));
    let path = &meta.path;
    if !meta.input.peek(Token![=]) {
        let rest = skip_value(meta.input)?;
        cx.error_spanned_by(
            quote!(#path #rest),
            format!("`{key}` needs a value: {example}"),
        );
        return Ok(None);
    }
    let eq: Token![=] = meta.input.parse()?;
    let fork = meta.input.fork();
    if let Ok(value) = parse(&fork)
        && at_end_of_key(&fork)
    {
        meta.input.advance_to(&fork);
        return Ok(Some(value));
    }
    let rest = skip_value(meta.input)?;
    if rest.is_empty() {
        cx.error_spanned_by(
            quote!(#path #eq),
            format!("`{key}` needs a value: {example}"),
        );
    } else {
        cx.error_spanned_by(rest, format!("`{key}` takes {what}: {example}"));
    }
    Ok(None)
}

/// Reads `decimal(precision = P, scale = S)`.
fn decimal_args(
    cx: &Ctxt,
    scope: Scope,
    key: Symbol,
    meta: &ParseNestedMeta,
) -> syn::Result<Option<DecimalArgs>> {
    let example = format!("`#[{}({})]`", scope.attr, example_of(scope, key));
    let path = &meta.path;
    if !meta.input.peek(syn::token::Paren) {
        let rest = skip_value(meta.input)?;
        cx.error_spanned_by(
            quote!(#path #rest),
            format!("`{key}` takes a precision and a scale: {example}"),
        );
        return Ok(None);
    }
    let (mut precision, mut scale) = (None, None);
    meta.parse_nested_meta(|inner| {
        let slot = if inner.path.is_ident("precision") {
            &mut precision
        } else if inner.path.is_ident("scale") {
            &mut scale
        } else {
            return Err(inner.error(format!("`{key}` takes `precision` and `scale`: {example}")));
        };
        let lit: syn::LitInt = inner.value()?.parse()?;
        *slot = Some(lit);
        Ok(())
    })?;
    match (precision, scale) {
        (Some(precision), Some(scale)) => Ok(Some(DecimalArgs {
            path: path.clone(),
            precision,
            scale,
        })),
        _ => {
            cx.error_spanned_by(
                path,
                format!("`{key}` needs both a precision and a scale: {example}"),
            );
            Ok(None)
        }
    }
}

fn parse_string(input: ParseStream) -> syn::Result<LitStr> {
    input.parse()
}

fn parse_type(input: ParseStream) -> syn::Result<Type> {
    input.parse()
}

/// Reads `crate = "path"`.
/// The name of the repository trait in `repository = "..."`.
fn trait_name(cx: &Ctxt, lit: &LitStr) -> Option<Ident> {
    match lit.parse::<Ident>() {
        Ok(ident) => Some(ident),
        Err(_) => {
            cx.error_spanned_by(
                lit,
                format!(
                    "`repository` names the generated trait, such as `repository = \"ProductRepo\"`; `{}` is not a Rust identifier",
                    lit.value()
                ),
            );
            None
        }
    }
}

fn crate_path(
    cx: &Ctxt,
    scope: Scope,
    key: Symbol,
    meta: &ParseNestedMeta,
    setting: &mut Setting<Path>,
) -> syn::Result<()> {
    let lit = value(
        cx,
        scope,
        key,
        meta,
        "a string holding a path",
        parse_string,
    )?;
    let path = lit.and_then(|lit| match lit.parse_with(Path::parse_mod_style) {
        Ok(path) => Some(path),
        Err(_) => {
            cx.error_spanned_by(
                &lit,
                format!(
                    "`crate` must be a path, such as `crate = \"::uow_core\"`; `{}` is not one",
                    lit.value()
                ),
            );
            None
        }
    });
    setting.set(cx, scope, key, meta, path);
    Ok(())
}

/// Records an unknown key, with a "did you mean" when a key is close;
/// returns that key.
fn unknown_key(cx: &Ctxt, scope: Scope, meta: &ParseNestedMeta) -> syn::Result<Option<Symbol>> {
    let mut typed = meta
        .path
        .segments
        .iter()
        .map(|segment| segment.ident.unraw().to_string())
        .collect::<Vec<_>>()
        .join("::");
    let mut tokens = meta.path.to_token_stream();
    // `find-by` is read as the key `find` followed by `-by`.
    while meta.input.peek(Token![-]) && meta.input.peek2(Ident::peek_any) {
        let dash: Token![-] = meta.input.parse()?;
        let word = Ident::parse_any(meta.input)?;
        typed.push('-');
        typed.push_str(&word.to_string());
        tokens.extend(quote!(#dash #word));
    }
    skip_value(meta.input)?;
    cx.error_spanned_by(tokens, unknown_key_message(scope, &typed));
    Ok(did_you_mean(&typed, scope.keys))
}

fn unknown_key_message(scope: Scope, typed: &str) -> String {
    let attr = scope.attr;
    if let Some(key) = scope.elsewhere.iter().find(|key| key.as_str() == typed) {
        return match scope.place {
            Place::Field => format!(
                "`{key}` is set on the struct, not on a field: write `#[{attr}({})]` above the struct",
                example_of(scope, *key)
            ),
            Place::Variant => format!(
                "`{key}` is set on the enum, not on a variant: write `#[{attr}({})]` above the enum",
                example_of(scope, *key)
            ),
            Place::Struct | Place::Arguments => format!(
                "`{key}` is set on a field, not on the struct: write `#[{attr}({})]` on the field it applies to",
                example_of(scope, *key)
            ),
        };
    }
    if scope.keys.is_empty() {
        return match scope.place {
            Place::Field if !scope.elsewhere.is_empty() => format!(
                "`#[{attr}(...)]` takes no keys on a field; above the struct it takes {}",
                one_of(scope.elsewhere)
            ),
            Place::Field => format!("`#[{attr}(...)]` takes no keys on a field"),
            Place::Struct | Place::Variant | Place::Arguments => {
                format!("`#[{attr}(...)]` takes no keys")
            }
        };
    }
    let what = match scope.place {
        Place::Arguments => format!("unknown argument `{typed}` of `#[{attr}]`"),
        Place::Struct | Place::Field | Place::Variant => {
            format!("unknown key `{typed}` in `#[{attr}(...)]`")
        }
    };
    match did_you_mean(typed, scope.keys) {
        Some(key) => format!("{what}; did you mean `{key}`?"),
        None => format!("{what}; expected {}", one_of(scope.keys)),
    }
}

/// The key the user most likely meant by `typed`, if one is close.
pub fn did_you_mean(typed: &str, keys: &[Symbol]) -> Option<Symbol> {
    let normal = normalize(typed);
    if let Some(key) = keys.iter().find(|key| normalize(key.as_str()) == normal) {
        return Some(*key);
    }
    if let Some((_, key)) = symbol::SYNONYMS
        .iter()
        .find(|(word, key)| normalize(word) == normal && keys.contains(key))
    {
        return Some(*key);
    }
    keys.iter()
        .map(|key| (edit_distance(&normal, &normalize(key.as_str())), *key))
        .filter(|(distance, key)| *distance <= if key.as_str().len() <= 3 { 1 } else { 2 })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, key)| key)
}

/// Lower case without `_` and `-`: `find-by`, `findBy` and `find_by` agree.
fn normalize(word: &str) -> String {
    word.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The optimal-string-alignment distance: insertions, deletions,
/// substitutions and transpositions of neighbours each cost one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between a[..i] and b[..j]
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

fn one_of(keys: &[Symbol]) -> String {
    let quoted: Vec<String> = keys.iter().map(|key| format!("`{key}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// How a key is written in `scope`, for messages.
fn example_of(scope: Scope, key: Symbol) -> String {
    if key == symbol::TABLE {
        "table = \"products\"".to_owned()
    } else if key == symbol::REPOSITORY {
        "repository = \"ProductRepo\"".to_owned()
    } else if key == symbol::COLUMN {
        "column = \"name\"".to_owned()
    } else if key == symbol::CRATE {
        "crate = \"::uow_core\"".to_owned()
    } else if key == symbol::RENAME {
        "rename = \"in_progress\"".to_owned()
    } else if key == symbol::DECIMAL {
        "decimal(precision = 19, scale = 4)".to_owned()
    } else if key == symbol::INDEX {
        "index(merchant_id, created_at)".to_owned()
    } else if key == symbol::EVENTS && scope.place == Place::Arguments {
        "events = MyEvent".to_owned()
    } else {
        key.as_str().to_owned()
    }
}

fn duplicate(scope: Scope, key: Symbol) -> String {
    format!(
        "`{key}` is given twice in `#[{}(...)]`; keep one",
        scope.attr
    )
}

/// Whether the input is at the end of one key (the next `,` or the end).
fn at_end_of_key(input: ParseStream) -> bool {
    input.is_empty() || input.peek(Token![,])
}

/// Consumes whatever follows a key up to the next `,`, so that reading can go
/// on with the next key; returns what it consumed.
fn skip_value(input: ParseStream) -> syn::Result<TokenStream> {
    let mut skipped = TokenStream::new();
    while !at_end_of_key(input) {
        let token: TokenTree = input.parse()?;
        skipped.extend([token]);
    }
    Ok(skipped)
}
