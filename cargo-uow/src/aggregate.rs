//! `cargo uow add aggregate NAME field:type[:modifier]...`.
//!
//! Types: `string`, `int` (i32), `bigint` (i64), `bool`, `decimal`
//! (rust_decimal), `uuid`, `date` (chrono `NaiveDate`), `datetime` (chrono
//! `DateTime<Utc>`), `json` (serde_json `Value`), `enum(A|B|C)` (a fieldless
//! enum stored as the variant's name). Modifiers: `optional` (an `Option`),
//! `find_by` (a finder and an index), `unique` (a finder and a UNIQUE
//! constraint). Example: `price:decimal status:enum(Open|Closed):find_by
//! email:string:unique note:string:optional`.

use std::fmt;
use std::path::Path;

use crate::{ScaffoldError, read, write};

/// A field's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// `String`.
    String,
    /// `i32`.
    Int,
    /// `i64`.
    BigInt,
    /// `bool`.
    Bool,
    /// `rust_decimal::Decimal`.
    Decimal,
    /// `uuid::Uuid`.
    Uuid,
    /// `chrono::NaiveDate`.
    Date,
    /// `chrono::DateTime<chrono::Utc>`.
    DateTime,
    /// `serde_json::Value`, one JSON column.
    Json,
    /// A fieldless enum of these variants.
    Enum(Vec<String>),
}

/// A field's modifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Modifier {
    /// `Option<T>`.
    Optional,
    /// A finder `find_by_<field>` and an index.
    FindBy,
    /// A finder `get_by_<field>` and a UNIQUE constraint.
    Unique,
}

/// One field of a new aggregate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Its name (snake case).
    pub name: String,
    /// Its type.
    pub ty: FieldType,
    /// Its modifiers.
    pub modifiers: Vec<Modifier>,
}

/// Why a field specification or aggregate name was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

fn is_snake(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_camel(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphanumeric())
}

const RESERVED: &[&str] = &[
    "id", "version", "events", "type", "match", "mod", "fn", "struct", "enum", "use", "ref",
    "self", "super", "crate", "impl", "trait", "where", "loop", "move", "in", "for", "let",
];

/// Reads `name:type[:modifier]...`.
pub fn parse_field(spec: &str) -> Result<Field, ParseError> {
    let (name, rest) = spec
        .split_once(':')
        .ok_or_else(|| ParseError(format!("`{spec}`: expected name:type[:modifier]...")))?;
    if !is_snake(name) || RESERVED.contains(&name) {
        return Err(ParseError(format!(
            "`{spec}`: `{name}` is not a usable field name (snake_case, not a keyword, not id/version/events)"
        )));
    }
    let (ty, modifiers) = if let Some(after) = rest.strip_prefix("enum(") {
        let (variants, tail) = after
            .split_once(')')
            .ok_or_else(|| ParseError(format!("`{spec}`: enum( without )")))?;
        let variants: Vec<String> = variants.split('|').map(str::to_owned).collect();
        if variants.iter().any(|v| !is_camel(v)) {
            return Err(ParseError(format!(
                "`{spec}`: enum variants are CamelCase names separated by `|`"
            )));
        }
        (
            FieldType::Enum(variants),
            tail.strip_prefix(':').unwrap_or(tail),
        )
    } else {
        let (ty, tail) = rest.split_once(':').unwrap_or((rest, ""));
        let ty = match ty {
            "string" => FieldType::String,
            "int" => FieldType::Int,
            "bigint" => FieldType::BigInt,
            "bool" => FieldType::Bool,
            "decimal" => FieldType::Decimal,
            "uuid" => FieldType::Uuid,
            "date" => FieldType::Date,
            "datetime" => FieldType::DateTime,
            "json" => FieldType::Json,
            other => {
                return Err(ParseError(format!(
                    "`{spec}`: unknown type `{other}` (string, int, bigint, bool, decimal, uuid, date, datetime, json, enum(A|B))"
                )));
            }
        };
        (ty, tail)
    };
    let mut mods = Vec::new();
    for word in modifiers.split(':').filter(|w| !w.is_empty()) {
        mods.push(match word {
            "optional" => Modifier::Optional,
            "find_by" => Modifier::FindBy,
            "unique" => Modifier::Unique,
            other => {
                return Err(ParseError(format!(
                    "`{spec}`: unknown modifier `{other}` (optional, find_by, unique)"
                )));
            }
        });
    }
    Ok(Field {
        name: name.to_owned(),
        ty,
        modifiers: mods,
    })
}

fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

impl Field {
    fn has(&self, m: Modifier) -> bool {
        self.modifiers.contains(&m)
    }

    fn enum_name(&self, aggregate: &str) -> String {
        format!("{aggregate}{}", camel(&self.name))
    }

    fn base_type(&self, aggregate: &str) -> String {
        match &self.ty {
            FieldType::String => "String".into(),
            FieldType::Int => "i32".into(),
            FieldType::BigInt => "i64".into(),
            FieldType::Bool => "bool".into(),
            FieldType::Decimal => "rust_decimal::Decimal".into(),
            FieldType::Uuid => "uuid::Uuid".into(),
            FieldType::Date => "chrono::NaiveDate".into(),
            FieldType::DateTime => "chrono::DateTime<chrono::Utc>".into(),
            FieldType::Json => "serde_json::Value".into(),
            FieldType::Enum(_) => self.enum_name(aggregate),
        }
    }

    fn rust_type(&self, aggregate: &str) -> String {
        let base = self.base_type(aggregate);
        if self.has(Modifier::Optional) {
            format!("Option<{base}>")
        } else {
            base
        }
    }

    /// A value of the field in the tests (`second`: another one).
    fn sample(&self, aggregate: &str, domain: &str, second: bool) -> String {
        let base = match (&self.ty, second) {
            (FieldType::String, false) => "\"a text\".to_owned()".into(),
            (FieldType::String, true) => "\"another text\".to_owned()".into(),
            (FieldType::Int, false) => "42".into(),
            (FieldType::Int, true) => "-7".into(),
            (FieldType::BigInt, false) => "1_099_511_627_776".into(),
            (FieldType::BigInt, true) => "-8".into(),
            (FieldType::Bool, b) => (!b).to_string(),
            (FieldType::Decimal, false) => "rust_decimal::Decimal::new(123_450, 2)".into(),
            (FieldType::Decimal, true) => "rust_decimal::Decimal::new(1, 3)".into(),
            (FieldType::Uuid, false) => "uuid::Uuid::from_u128(0x1234)".into(),
            (FieldType::Uuid, true) => "uuid::Uuid::from_u128(0x5678)".into(),
            (FieldType::Date, false) => {
                "chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect(\"date\")".into()
            }
            (FieldType::Date, true) => {
                "chrono::NaiveDate::from_ymd_opt(2027, 1, 31).expect(\"date\")".into()
            }
            (FieldType::DateTime, false) => {
                "chrono::DateTime::from_timestamp(1_800_000_000, 0).expect(\"time\")".into()
            }
            (FieldType::DateTime, true) => {
                "chrono::DateTime::from_timestamp(1_800_000_001, 0).expect(\"time\")".into()
            }
            (FieldType::Json, false) => "serde_json::json!({\"a\": [1, 2]})".into(),
            (FieldType::Json, true) => "serde_json::json!(\"b\")".into(),
            (FieldType::Enum(variants), b) => {
                let v = if b { variants.last() } else { variants.first() };
                format!(
                    "{domain}::{}::{}",
                    self.enum_name(aggregate),
                    v.map_or("", String::as_str)
                )
            }
        };
        if self.has(Modifier::Optional) {
            if second {
                "None".into()
            } else {
                format!("Some({base})")
            }
        } else {
            base
        }
    }
}

/// Adds aggregate `name` with `fields` to the project in `dir`: its module
/// in the domain crate, its repository in the unit of work, its entry in
/// `AGGREGATES`, and `service/tests/<name>.rs` (round trip and conflict, on
/// every backend). Returns the files written or changed.
pub fn add_aggregate(
    dir: &Path,
    name: &str,
    fields: &[Field],
) -> Result<Vec<String>, ScaffoldError> {
    if !is_camel(name) {
        return Err(ScaffoldError::Field(ParseError(format!(
            "`{name}`: an aggregate's name is CamelCase"
        ))));
    }
    if fields.is_empty() {
        return Err(ScaffoldError::Field(ParseError(
            "an aggregate needs at least one field besides its id and version".into(),
        )));
    }
    let root = read(&dir.join("Cargo.toml"))?;
    let project = root
        .lines()
        .find_map(|l| l.strip_suffix("-domain = { path = \"domain\" }"))
        .ok_or_else(|| {
            ScaffoldError::NotAProject(format!(
                "{}: not a project written by `cargo uow new` (no domain crate in the workspace dependencies)",
                dir.display()
            ))
        })?
        .to_owned();
    let domain = format!("{}_domain", project.replace('-', "_"));
    let service = format!("{}_service", project.replace('-', "_"));
    let module = snake(name);
    let repository = format!("{module}s");
    let module_path = format!("domain/src/{module}.rs");
    if dir.join(&module_path).exists() {
        return Err(ScaffoldError::Exists(dir.join(module_path)));
    }

    // The domain module.
    let mut code = format!(
        "//! The `{name}` aggregate (written by `cargo uow add aggregate`).\n\nuse serde::{{Deserialize, Serialize}};\nuse uow_core::{{Aggregate, ColumnValue}};\n\n"
    );
    let mut enums = Vec::new();
    for field in fields {
        if let FieldType::Enum(variants) = &field.ty {
            let enum_name = field.enum_name(name);
            code += &format!(
                "/// The values of [`{name}::{}`].\n#[derive(ColumnValue, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]\npub enum {enum_name} {{\n",
                field.name
            );
            for v in variants {
                code += &format!("    /// `{v}`.\n    {v},\n");
            }
            code += "}\n\n";
            enums.push(enum_name);
        }
    }
    code += &format!(
        "/// The aggregate `{name}`.\n#[derive(Aggregate, Clone, Debug, PartialEq)]\n#[aggregate(table = \"{repository}\")]\npub struct {name} {{\n    /// Identity.\n    #[aggregate(id)]\n    pub id: String,\n    /// Owned by the framework: +1 on every commit that changes it.\n    #[aggregate(version)]\n    pub version: u64,\n"
    );
    for field in fields {
        let mut attrs = Vec::new();
        if field.ty == FieldType::Json {
            attrs.push("json");
        }
        if field.has(Modifier::FindBy) {
            attrs.push("find_by");
        }
        if field.has(Modifier::Unique) {
            attrs.push("unique");
        }
        code += &format!("    /// `{}`.\n", field.name);
        if !attrs.is_empty() {
            code += &format!("    #[aggregate({})]\n", attrs.join(", "));
        }
        code += &format!("    pub {}: {},\n", field.name, field.rust_type(name));
    }
    code += "}\n";
    if !code.contains("ColumnValue, Clone") {
        code = code.replace(
            "use uow_core::{Aggregate, ColumnValue};",
            "use uow_core::Aggregate;",
        );
    }
    if enums.is_empty() {
        code = code.replace("use serde::{Deserialize, Serialize};\n", "");
    }
    write(&dir.join(&module_path), &code)?;

    // Registered in the domain crate, the unit of work and AGGREGATES.
    let mut exports = vec![name.to_owned(), format!("{name}Repository")];
    exports.extend(enums);
    let lib = format!("pub use {module}::{{{}}};", exports.join(", "));
    edit(
        dir,
        "domain/src/lib.rs",
        "// cargo-uow: modules",
        &format!("mod {module};"),
    )?;
    edit(dir, "domain/src/lib.rs", "// cargo-uow: exports", &lib)?;
    edit(
        dir,
        "service/src/unit_of_work.rs",
        "// cargo-uow: imports",
        &format!("use {domain}::{name};"),
    )?;
    edit(
        dir,
        "service/src/unit_of_work.rs",
        "    // cargo-uow: repositories",
        &format!("    /// The `{name}` aggregates.\n    pub {repository}: {name},"),
    )?;
    edit(
        dir,
        "service/src/lib.rs",
        "    // cargo-uow: aggregates",
        &format!("    <{domain}::{name} as uow_core::Aggregate>::META,"),
    )?;

    // Its tests.
    let value = |second: bool| {
        let mut s = format!(
            "{domain}::{name} {{\n            id: id.to_owned(),\n            version: 0,\n"
        );
        for f in fields {
            s += &format!(
                "            {}: {},\n",
                f.name,
                f.sample(name, &domain, second)
            );
        }
        s + "        }"
    };
    let change = format!(
        "stored.{} = {};",
        fields[0].name,
        fields[0].sample(name, &domain, true)
    );
    let test = format!(
        r#"//! The `{name}` aggregate on every backend: what is stored comes back, and
//! of two units of work changing it at once the second loses (written by
//! `cargo uow add aggregate`).

mod scenarios {{
    use uow_testing::Backend;
    use {service}::{{AGGREGATES, Work}};

    fn sample(id: &str) -> {domain}::{name} {{
        {first}
    }}

    pub async fn {module}_round_trips<B: Backend>() {{
        let Some(store) = B::fresh_with_messaging(AGGREGATES).await else {{
            return;
        }};
        let mut uow = Work::begin(&store).await.expect("begin");
        uow.{repository}.add(sample("a")).expect("add");
        uow.commit().await.expect("commit");
        let mut uow = Work::begin(&store).await.expect("begin");
        let stored = uow.{repository}.get(&"a".to_owned()).await.expect("get").expect("stored").clone();
        assert_eq!(stored, {domain}::{name} {{ version: stored.version, ..sample("a") }});
    }}

    pub async fn {module}_changed_by_two_units_of_work_conflicts<B: Backend>() {{
        let Some(store) = B::fresh_with_messaging(AGGREGATES).await else {{
            return;
        }};
        let mut uow = Work::begin(&store).await.expect("begin");
        uow.{repository}.add(sample("a")).expect("add");
        uow.commit().await.expect("commit");
        let id = "a".to_owned();
        let mut first = Work::begin(&store).await.expect("begin");
        let mut second = Work::begin(&store).await.expect("begin");
        {{
            let stored = first.{repository}.get(&id).await.expect("get").expect("stored");
            {change}
        }}
        {{
            let stored = second.{repository}.get(&id).await.expect("get").expect("stored");
            {change}
        }}
        first.commit().await.expect("first wins");
        let err = second.commit().await.expect_err("second loses");
        assert!(err.is_conflict(), "{{err}}");
    }}
}}

uow_testing::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
    {module}_round_trips,
    {module}_changed_by_two_units_of_work_conflicts,
]);
"#,
        first = value(false)
    );
    let test_path = format!("service/tests/{module}.rs");
    write(&dir.join(&test_path), &test)?;
    Ok(vec![
        module_path,
        "domain/src/lib.rs".into(),
        "service/src/unit_of_work.rs".into(),
        "service/src/lib.rs".into(),
        test_path,
    ])
}

/// Inserts `line` before the marker line `marker` of `file`.
fn edit(dir: &Path, file: &str, marker: &str, line: &str) -> Result<(), ScaffoldError> {
    let path = dir.join(file);
    let text = read(&path)?;
    if !text.contains(marker) {
        return Err(ScaffoldError::NotAProject(format!(
            "{file}: the line `{}` that marks where cargo uow adds code is missing",
            marker.trim()
        )));
    }
    write(
        &path,
        &text.replacen(marker, &format!("{line}\n{marker}"), 1),
    )
}
