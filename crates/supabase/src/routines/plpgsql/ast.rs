//! The PL/pgSQL syntax tree: a block (declarations, statements, exception handlers) and its
//! statements, whose expressions and queries stay token lists.

use crate::migrate::lex::Tok;

/// A parsed body.
#[derive(Clone, Debug)]
pub struct Block {
    /// Declarations, in order.
    pub decls: Vec<Decl>,
    /// Statements.
    pub body: Vec<Stmt>,
    /// `exception` handlers: condition names (lower case) and statements.
    pub handlers: Vec<(Vec<String>, Vec<Stmt>)>,
}

/// A `declare` entry.
#[derive(Clone, Debug)]
pub struct Decl {
    /// Variable name (lower case).
    pub name: String,
    /// `record` / `%rowtype` variables hold a row.
    pub record: bool,
    /// Initial value expression.
    pub init: Option<Vec<Tok>>,
    /// `alias for $n`.
    pub alias_of: Option<String>,
    /// The declared type as written (`int`, `numeric(10,2)`, `posts.title%type`); values
    /// assigned to the variable are cast to it, as Postgres's assignment casts do. For a row
    /// variable, `t%rowtype` (its fields have `t`'s column types); `None` for `record`.
    pub ty: Option<String>,
    /// `constant`: assignments are refused.
    pub constant: bool,
}

/// `raise` levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `debug`, `log`, `info`, `notice`, `warning`: logged.
    Notice,
    /// `exception` (the default): aborts.
    Exception,
}

/// One statement.
#[derive(Clone, Debug)]
pub enum Stmt {
    /// `target := expr` (`target` may be `rec.field`).
    Assign {
        /// Variable (lower case).
        var: String,
        /// Field of a record variable.
        field: Option<String>,
        /// Expression.
        expr: Vec<Tok>,
    },
    /// `if`.
    If {
        /// `(condition, statements)` for `if` and each `elsif`.
        arms: Vec<(Vec<Tok>, Vec<Stmt>)>,
        /// `else`.
        otherwise: Vec<Stmt>,
    },
    /// `case [subject] when ... then ... [else ...] end case`.
    Case {
        /// Simple-case subject.
        subject: Option<Vec<Tok>>,
        /// `(when values or condition, statements)`.
        arms: Vec<(Vec<Tok>, Vec<Stmt>)>,
        /// `else` (`None`: raise CASE_NOT_FOUND).
        otherwise: Option<Vec<Stmt>>,
    },
    /// `loop`, `while cond loop`.
    Loop {
        /// Label.
        label: Option<String>,
        /// `while` condition.
        cond: Option<Vec<Tok>>,
        /// Body.
        body: Vec<Stmt>,
    },
    /// `for var in query loop`.
    ForQuery {
        /// Label.
        label: Option<String>,
        /// Loop variable.
        var: String,
        /// The query tokens.
        query: Vec<Tok>,
        /// Body.
        body: Vec<Stmt>,
    },
    /// `for i in [reverse] a..b [by s] loop`.
    ForRange {
        /// Label.
        label: Option<String>,
        /// Loop variable.
        var: String,
        /// `reverse`.
        reverse: bool,
        /// Lower bound.
        from: Vec<Tok>,
        /// Upper bound.
        to: Vec<Tok>,
        /// Step.
        by: Option<Vec<Tok>>,
        /// Body.
        body: Vec<Stmt>,
    },
    /// `exit [label] [when cond]`.
    Exit {
        /// Label.
        label: Option<String>,
        /// Condition.
        when: Option<Vec<Tok>>,
    },
    /// `continue [label] [when cond]`.
    Continue {
        /// Label.
        label: Option<String>,
        /// Condition.
        when: Option<Vec<Tok>>,
    },
    /// `return [expr]`.
    Return(Option<Vec<Tok>>),
    /// `return next [expr]`.
    ReturnNext(Option<Vec<Tok>>),
    /// `return query <query>`.
    ReturnQuery(Vec<Tok>),
    /// `raise`.
    Raise {
        /// Level.
        level: Level,
        /// Format string (unquoted), or a condition name / SQLSTATE for `raise name`.
        format: Option<String>,
        /// `%` arguments.
        args: Vec<Vec<Tok>>,
        /// `using errcode/message/detail/hint = expr`.
        using: Vec<(String, Vec<Tok>)>,
    },
    /// A SQL statement (`perform` is rewritten to `select`); `into` targets taken out.
    Sql {
        /// The statement without its `into` clause.
        sql: Vec<Tok>,
        /// `into` targets.
        into: Vec<String>,
        /// `into strict`.
        strict: bool,
        /// `perform` (rows discarded).
        perform: bool,
    },
    /// `get diagnostics var = row_count`.
    RowCount(String),
    /// A nested block.
    Block(Box<Block>),
    /// `null;`.
    Null,
}
