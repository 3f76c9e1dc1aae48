//! The parsed form of a PostgREST request's query string.

/// One step of a JSON path: `->key` (`text = false`) or `->>key` (`text = true`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonStep {
    /// `->>` (text result) rather than `->` (json result).
    pub text: bool,
    /// The key, or an array index when it is an integer.
    pub key: JsonKey,
}

/// A JSON path key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonKey {
    /// An object key.
    Name(String),
    /// An array index (negative counts from the end).
    Index(i64),
}

/// A column with an optional JSON path, e.g. `data->phones->0->>number`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The column name.
    pub name: String,
    /// The JSON path, possibly empty.
    pub path: Vec<JsonStep>,
}

impl Field {
    /// The output key PostgREST uses: the last JSON path key, else the column name.
    pub fn output_name(&self) -> String {
        match self.path.last() {
            Some(JsonStep {
                key: JsonKey::Name(n),
                ..
            }) => n.clone(),
            Some(JsonStep {
                key: JsonKey::Index(i),
                ..
            }) => i.to_string(),
            None => self.name.clone(),
        }
    }
}

/// One item of `select=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectItem {
    /// `*`: every column.
    Star,
    /// `alias:field::cast`.
    Field {
        /// The column and JSON path.
        field: Field,
        /// `alias:` if given.
        alias: Option<String>,
        /// `::type` if given.
        cast: Option<String>,
    },
    /// An embedded resource: `[...][alias:]rel[!hint][!inner|!left](items)`.
    Embed(EmbedSelect),
}

/// An embedded resource in `select=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbedSelect {
    /// The relation as written: a table or view, a foreign key name or a column.
    pub name: String,
    /// `alias:` if given.
    pub alias: Option<String>,
    /// `!hint` (a foreign key name, a column or a junction table).
    pub hint: Option<String>,
    /// `!inner`: parent rows without a match are dropped.
    pub inner: bool,
    /// `...rel(cols)`: the columns are spread into the parent.
    pub spread: bool,
    /// The embedded select items.
    pub items: Vec<SelectItem>,
}

impl EmbedSelect {
    /// The name by which filters, order and output refer to this embedding (alias, else name).
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `eq`
    Eq,
    /// `neq`
    Neq,
    /// `gt`
    Gt,
    /// `gte`
    Gte,
    /// `lt`
    Lt,
    /// `lte`
    Lte,
    /// `like` (`*` means `%`)
    Like,
    /// `ilike`
    Ilike,
    /// `match` (regex)
    Match,
    /// `imatch` (case-insensitive regex)
    Imatch,
}

/// A containment operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    /// `cs`: `@>`, the column contains the value.
    Contains,
    /// `cd`: `<@`, the column is contained in the value.
    ContainedBy,
    /// `ov`: `&&`, they overlap.
    Overlaps,
}

impl SetOp {
    /// The Postgres operator.
    pub fn symbol(self) -> &'static str {
        match self {
            SetOp::Contains => "@>",
            SetOp::ContainedBy => "<@",
            SetOp::Overlaps => "&&",
        }
    }
}

/// The `(any)` / `(all)` modifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quant {
    /// `op(any).{a,b}`
    Any,
    /// `op(all).{a,b}`
    All,
}

/// The right-hand side of `is.`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsVal {
    /// `is.null`
    Null,
    /// `is.not_null`
    NotNull,
    /// `is.true`
    True,
    /// `is.false`
    False,
    /// `is.unknown`
    Unknown,
}

/// A filter operation on one field. `None` values in lists are SQL NULLs.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `eq.v`, `like.v`, ...
    Cmp(CmpOp, String),
    /// `eq(any).{a,b}`
    Quant(CmpOp, Quant, Vec<Option<String>>),
    /// `in.(a,b)`
    In(Vec<Option<String>>),
    /// `is.null` etc.
    Is(IsVal),
    /// `isdistinct.v`
    IsDistinct(String),
    /// `cs.v` (`@>`), `cd.v` (`<@`), `ov.v` (`&&`) on jsonb and array columns.
    Set(SetOp, String),
    /// A PostgREST operator the mock does not implement (`fts`, range operators, ...).
    Unsupported(String),
}

/// A filter: a single condition or a logic tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// `field=[not.]op.value`
    Cond {
        /// The filtered column.
        field: Field,
        /// `not.` prefix.
        negate: bool,
        /// The operation.
        op: Op,
    },
    /// `or=(...)`, `and=(...)`, `not.or=(...)`.
    Logic {
        /// `not.` prefix.
        negate: bool,
        /// `and` rather than `or`.
        and: bool,
        /// The operands.
        children: Vec<Filter>,
    },
}

/// One `order=` term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderTerm {
    /// `rel(col)`: order by a column of a to-one embedded resource.
    pub relation: Option<String>,
    /// The sorted field.
    pub field: Field,
    /// `.desc`.
    pub desc: bool,
    /// `Some(true)` for `.nullsfirst`, `Some(false)` for `.nullslast`, else the Postgres default.
    pub nulls_first: Option<bool>,
}
