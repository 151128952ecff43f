//! Our own model of the items the macros read: an aggregate with its fields,
//! their roles and column names, an entity, a column value and a unit of
//! work. Built from syn's tree and the attributes, before any rule is checked.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::{
    Data, DeriveInput, Fields, FieldsNamed, Generics, Ident, ItemStruct, Member, Path, Type,
    Visibility,
};

use crate::attr::{self, AggregateField, Flag, Unread};
use crate::crate_path;
use crate::ctxt::Ctxt;
use crate::symbol::{self, Symbol};

/// A struct deriving `Aggregate`.
pub struct Aggregate<'a> {
    pub ident: &'a Ident,
    pub vis: &'a Visibility,
    pub generics: &'a Generics,
    /// Where `uow_core` is (`::uow_core` when it could not be found, an
    /// error reported: see `krate_found`).
    pub krate: Path,
    pub krate_found: bool,
    /// The `use` that names an explicit `crate = "..."` path once (see
    /// [`crate_path`]).
    pub krate_use: TokenStream,
    pub table: SqlName,
    /// `repository = "..."`: the name of the repository trait.
    pub repository: Option<Ident>,
    pub eq_by_id: bool,
    pub fields: Vec<Field<'a>>,
    /// `index(a, b)`: the field names of each composite index.
    pub indexes: Vec<Vec<Ident>>,
}

/// A field of an aggregate.
pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub attrs: AggregateField,
    /// The column it is stored in (meaningless for the events field).
    pub column: SqlName,
}

/// A table or column name and where it comes from.
pub struct SqlName {
    pub value: String,
    /// The string literal that set it, or the ident it was derived from.
    pub span: Span,
    /// Set with `table = "..."` / `column = "..."` rather than derived.
    pub explicit: bool,
}

/// The part a stored column plays.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Id,
    Version,
    Finder,
    Unique,
    Plain,
}

impl<'a> Aggregate<'a> {
    /// `None` (with errors recorded) when `input` is not a struct with named
    /// fields.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::aggregate_struct(cx, &input.attrs);
        let named = named_fields(cx, input, "Aggregate")?;
        let fields = named
            .named
            .iter()
            .filter_map(|field| {
                let ident = field.ident.as_ref()?;
                let attrs = attr::aggregate_field(cx, &field.attrs);
                let column = match &attrs.column {
                    Some(lit) => SqlName {
                        value: lit.value(),
                        span: lit.span(),
                        explicit: true,
                    },
                    None => SqlName {
                        value: ident.unraw().to_string(),
                        span: ident.span(),
                        explicit: false,
                    },
                };
                Some(Field {
                    ident,
                    ty: &field.ty,
                    attrs,
                    column,
                })
            })
            .collect();
        let table = match attrs.table.into_inner() {
            Some(lit) => SqlName {
                value: lit.value(),
                span: lit.span(),
                explicit: true,
            },
            None => SqlName {
                value: snake_case(&input.ident.unraw().to_string()),
                span: input.ident.span(),
                explicit: false,
            },
        };
        let (krate, krate_found, krate_use) = krate(
            cx,
            attrs.krate.into_inner(),
            symbol::AGGREGATE,
            &input.ident,
        );
        Some(Aggregate {
            ident: &input.ident,
            vis: &input.vis,
            generics: &input.generics,
            krate,
            krate_found,
            krate_use,
            table,
            repository: attrs.repository.into_inner(),
            eq_by_id: attrs.eq_by_id.is_set(),
            fields,
            indexes: attrs.indexes,
        })
    }

    /// The Rust name, as it appears in messages (`"Product"`).
    pub fn name(&self) -> String {
        self.ident.unraw().to_string()
    }

    /// Whether `field` is one of a composite index's.
    pub fn in_index(&self, field: &Field) -> bool {
        self.indexes
            .iter()
            .any(|index| index.iter().any(|name| name == field.ident))
    }

    /// The column indexes of each composite index whose fields all name
    /// stored fields.
    pub fn index_columns(&self) -> Vec<Vec<usize>> {
        self.indexes
            .iter()
            .filter_map(|index| {
                index
                    .iter()
                    .map(|name| {
                        self.columns()
                            .find(|(_, f)| f.ident == name)
                            .map(|(i, _)| i)
                    })
                    .collect()
            })
            .collect()
    }

    /// The first field marked `id`.
    pub fn id_field(&self) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.attrs.id.is_set())
    }

    /// The first field marked `version`.
    pub fn version_field(&self) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.attrs.version.is_set())
    }

    /// The first field marked `events`.
    pub fn events_field(&self) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.is_events())
    }

    /// The stored fields with their column index, in declaration order.
    pub fn columns(&self) -> impl Iterator<Item = (usize, &Field<'a>)> {
        self.fields.iter().filter(|f| !f.is_events()).enumerate()
    }

    /// The column index of `field`.
    pub fn column_index(&self, field: &Field) -> Option<usize> {
        self.columns()
            .find(|(_, f)| std::ptr::eq(*f, field))
            .map(|(index, _)| index)
    }
}

impl Field<'_> {
    pub fn is_events(&self) -> bool {
        self.attrs.events.is_set()
    }

    pub fn is_json(&self) -> bool {
        self.attrs.json.is_set()
    }

    /// The role of the column: the first of id, version, finder, unique.
    pub fn role(&self) -> Role {
        let attrs = &self.attrs;
        if attrs.id.is_set() {
            Role::Id
        } else if attrs.version.is_set() {
            Role::Version
        } else if attrs.find_by.is_set() {
            Role::Finder
        } else if attrs.unique.is_set() {
            Role::Unique
        } else {
            Role::Plain
        }
    }

    /// The field name without `r#`.
    pub fn name(&self) -> String {
        self.ident.unraw().to_string()
    }
}

/// A struct deriving `Entity`.
pub struct Entity<'a> {
    pub ident: &'a Ident,
    pub generics: &'a Generics,
    pub krate: Path,
    pub krate_found: bool,
    /// The `use` that names an explicit `crate = "..."` path once (see
    /// [`crate_path`]).
    pub krate_use: TokenStream,
    pub eq_by_id: bool,
    pub fields: Vec<EntityField<'a>>,
}

/// A field of an entity.
pub struct EntityField<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub id: Flag,
    /// What its keys that could not be read may have meant.
    pub unread: Unread,
}

impl<'a> Entity<'a> {
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::entity_struct(cx, &input.attrs);
        let named = named_fields(cx, input, "Entity")?;
        let fields = named
            .named
            .iter()
            .filter_map(|field| {
                let attrs = attr::entity_field(cx, &field.attrs);
                Some(EntityField {
                    ident: field.ident.as_ref()?,
                    ty: &field.ty,
                    id: attrs.id,
                    unread: attrs.unread,
                })
            })
            .collect();
        let (krate, krate_found, krate_use) =
            krate(cx, attrs.krate.into_inner(), symbol::ENTITY, &input.ident);
        Some(Entity {
            ident: &input.ident,
            generics: &input.generics,
            krate,
            krate_found,
            krate_use,
            eq_by_id: attrs.eq_by_id.is_set(),
            fields,
        })
    }

    /// The first field marked `id`.
    pub fn id_field(&self) -> Option<&EntityField<'a>> {
        self.fields.iter().find(|f| f.id.is_set())
    }
}

/// A newtype deriving `ColumnValue`.
pub struct ColumnValue<'a> {
    pub ident: &'a Ident,
    pub generics: &'a Generics,
    pub krate: Path,
    pub krate_found: bool,
    /// The `use` that names an explicit `crate = "..."` path once (see
    /// [`crate_path`]).
    pub krate_use: TokenStream,
    /// The wrapped fields (exactly one when valid).
    pub fields: Vec<(Member, &'a Type)>,
    /// Whether the fields are named (`struct Sku { value: String }`).
    pub named: bool,
    /// The variants, when the type is an enum stored by variant name.
    pub variants: Option<Vec<ColumnVariant<'a>>>,
}

/// A variant of an enum deriving `ColumnValue`.
pub struct ColumnVariant<'a> {
    pub ident: &'a Ident,
    /// The variant's fields (none when valid).
    pub fields: &'a Fields,
    /// `#[column_value(rename = "...")]`, if given.
    pub rename: Option<syn::LitStr>,
}

impl ColumnVariant<'_> {
    /// The text stored for this variant: its name, or the `rename`.
    pub fn stored_name(&self) -> String {
        match &self.rename {
            Some(lit) => lit.value(),
            None => self.ident.unraw().to_string(),
        }
    }
}

impl<'a> ColumnValue<'a> {
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::column_value_struct(cx, &input.attrs);
        let (fields, named, variants) = match &input.data {
            Data::Struct(data) => {
                for field in &data.fields {
                    attr::column_value_field(cx, &field.attrs);
                }
                let fields = data
                    .fields
                    .members()
                    .zip(&data.fields)
                    .map(|(member, field)| (member, &field.ty))
                    .collect();
                (fields, matches!(data.fields, Fields::Named(_)), None)
            }
            Data::Enum(data) => {
                let variants = data
                    .variants
                    .iter()
                    .map(|variant| {
                        for field in &variant.fields {
                            attr::column_value_field(cx, &field.attrs);
                        }
                        ColumnVariant {
                            ident: &variant.ident,
                            fields: &variant.fields,
                            rename: attr::column_value_variant(cx, &variant.attrs).rename,
                        }
                    })
                    .collect();
                (Vec::new(), false, Some(variants))
            }
            Data::Union(_) => {
                not_a_struct(cx, input, "ColumnValue");
                return None;
            }
        };
        let (krate, krate_found, krate_use) = krate(
            cx,
            attrs.krate.into_inner(),
            symbol::COLUMN_VALUE,
            &input.ident,
        );
        Some(ColumnValue {
            ident: &input.ident,
            generics: &input.generics,
            krate,
            krate_found,
            krate_use,
            fields,
            named,
            variants,
        })
    }
}

/// A struct under `#[unit_of_work]`.
pub struct UnitOfWork<'a> {
    pub item: &'a ItemStruct,
    pub krate: Path,
    pub krate_found: bool,
    /// The `use` that names an explicit `crate = "..."` path once (see
    /// [`crate_path`]).
    pub krate_use: TokenStream,
    /// `events = ...`: the event type `commit()` returns.
    pub events: Option<Type>,
    /// `outbox`: the events are stored in the outbox at commit.
    pub outbox: Option<proc_macro2::Span>,
    /// The repository fields: name and aggregate type.
    pub fields: Vec<&'a syn::Field>,
}

impl<'a> UnitOfWork<'a> {
    /// `None` (with an error recorded) when the struct's fields have no names.
    pub fn from_ast(cx: &Ctxt, args: attr::UnitOfWorkArgs, item: &'a ItemStruct) -> Option<Self> {
        let fields = match &item.fields {
            Fields::Named(named) => named.named.iter().collect(),
            Fields::Unnamed(unnamed) => {
                cx.error_spanned_by(
                    unnamed,
                    "`#[unit_of_work]` needs named fields, one per repository: `pub products: Product`",
                );
                return None;
            }
            Fields::Unit => {
                cx.error_spanned_by(
                    &item.ident,
                    "`#[unit_of_work]` needs named fields, one per repository: `pub products: Product`",
                );
                return None;
            }
        };
        let outbox = args.outbox.span();
        let events = args.events.into_inner();
        if let (Some(span), None) = (outbox, &events) {
            cx.syn_error(syn::Error::new(
                span,
                "`outbox` stores the events as JSON, so it needs their type: write `#[unit_of_work(events = MyEvent, outbox)]` with `MyEvent: serde::Serialize`",
            ));
        }
        let (krate, krate_found, krate_use) = krate(
            cx,
            args.krate.into_inner(),
            symbol::UNIT_OF_WORK,
            &item.ident,
        );
        Some(UnitOfWork {
            item,
            krate,
            krate_found,
            krate_use,
            events,
            outbox,
            fields,
        })
    }
}

/// The named fields of a struct, or `None` with an error saying what the
/// derive needs instead.
fn named_fields<'a>(cx: &Ctxt, input: &'a DeriveInput, derive: &str) -> Option<&'a FieldsNamed> {
    let Data::Struct(data) = &input.data else {
        not_a_struct(cx, input, derive);
        return None;
    };
    match &data.fields {
        Fields::Named(named) => Some(named),
        Fields::Unnamed(unnamed) => {
            cx.error_spanned_by(
                unnamed,
                format!(
                    "`#[derive({derive})]` needs a struct with named fields, not a tuple struct: name each field, such as `pub sku: Sku`"
                ),
            );
            None
        }
        Fields::Unit => {
            cx.error_spanned_by(
                &input.ident,
                format!(
                    "`#[derive({derive})]` needs a struct with named fields, not a unit struct"
                ),
            );
            None
        }
    }
}

fn not_a_struct(cx: &Ctxt, input: &DeriveInput, derive: &str) {
    let ident = &input.ident;
    let (head, what) = match &input.data {
        Data::Enum(data) => {
            let keyword = data.enum_token;
            (quote!(#keyword #ident), "an enum")
        }
        Data::Union(data) => {
            let keyword = data.union_token;
            (quote!(#keyword #ident), "a union")
        }
        Data::Struct(data) => {
            let keyword = data.struct_token;
            (quote!(#keyword #ident), "this struct")
        }
    };
    let needs = if derive == "ColumnValue" {
        "a struct with exactly one field (a newtype such as `struct Sku(String);`) or an enum whose variants have no fields"
    } else {
        "a struct with named fields"
    };
    cx.error_spanned_by(
        head,
        format!("`#[derive({derive})]` needs {needs}, not {what}"),
    );
}

/// The path of `uow_core` in generated code, whether it was found, and the
/// `use` to emit for it (see [`crate_path`]).
fn krate(
    cx: &Ctxt,
    explicit: Option<Path>,
    attr: Symbol,
    owner: &Ident,
) -> (Path, bool, TokenStream) {
    match crate_path::resolve(cx, explicit, attr.as_str(), Span::call_site(), owner) {
        Some((path, krate_use)) => (path, true, krate_use),
        None => (syn::parse_quote!(::uow_core), false, TokenStream::new()),
    }
}

/// `OrderLine` -> `order_line`, `HTTPRequest` -> `http_request`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let previous = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = match previous {
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(|n| n.is_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The tokens of a type, for comparing two types by how they are written.
pub fn type_text(ty: &Type) -> String {
    ty.to_token_stream().to_string()
}

/// A type as a person writes it (`Option<Vec<u8>>`, not the token spacing
/// `Option < Vec < u8 > >`), for messages.
pub fn type_display(ty: &Type) -> String {
    let mut text = type_text(ty);
    for (spaced, tight) in [
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ::", "::"),
        (":: ", "::"),
        ("& ", "&"),
        (" ,", ","),
        ("( ", "("),
        (" )", ")"),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
    ] {
        text = text.replace(spaced, tight);
    }
    text
}

/// The name of the last segment of a path type (`Event` for
/// `crate::domain::Event<u8>`).
pub fn last_segment(ty: &Type) -> Option<String> {
    let Type::Path(path) = ungroup(ty) else {
        return None;
    };
    path.path
        .segments
        .last()
        .map(|s| s.ident.unraw().to_string())
}

/// The element type of a field written `Vec<T>` (any path ending in `Vec`).
pub fn vec_element(ty: &Type) -> Option<&Type> {
    single_argument(ty, "Vec")
}

/// The inner type of a field written `Option<T>`.
pub fn option_inner(ty: &Type) -> Option<&Type> {
    single_argument(ty, "Option")
}

fn single_argument<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    let Type::Path(path) = ungroup(ty) else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let segment = path.path.segments.last()?;
    if segment.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [syn::GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}

/// Looks through the invisible groups that `macro_rules!` puts around types.
fn ungroup(mut ty: &Type) -> &Type {
    while let Type::Group(group) = ty {
        ty = &group.elem;
    }
    ty
}
