//! Relationships between tables, derived from foreign keys as PostgREST's schema cache does, and
//! the lookup of the relationship an embedding names (with PGRST200/PGRST201 when none or many).

use crate::errors::ApiError;
use crate::schema::{Schema, similarity};
use serde_json::{Value, json};

/// A junction table joining two tables (many-to-many).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Junction {
    /// The junction table.
    pub table: String,
    /// Its foreign key to the origin table.
    pub cons1: String,
    /// Its foreign key to the target table.
    pub cons2: String,
    /// (origin column, junction column) pairs.
    pub cols_source: Vec<(String, String)>,
    /// (target column, junction column) pairs.
    pub cols_target: Vec<(String, String)>,
}

/// The cardinality of a relationship, seen from its origin table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Card {
    /// The origin holds the foreign key: each origin row has at most one target.
    M2O,
    /// The target holds the foreign key: an origin row has many targets.
    O2M,
    /// The foreign key columns are unique: one each way. `parent` when the target holds the key.
    O2O {
        /// The origin is the referenced side.
        parent: bool,
    },
    /// Through a junction table.
    M2M(Junction),
}

/// A relationship from `table` to `ftable`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rel {
    /// The origin table.
    pub table: String,
    /// The target table.
    pub ftable: String,
    /// A table referencing itself.
    pub is_self: bool,
    /// The foreign key name (the junction table's for many-to-many).
    pub cons: String,
    /// (origin column, target column) pairs; empty for many-to-many.
    pub cols: Vec<(String, String)>,
    /// Cardinality.
    pub card: Card,
}

impl Rel {
    /// Whether the embedding yields one object (or null) rather than an array.
    pub fn is_to_one(&self) -> bool {
        matches!(self.card, Card::M2O | Card::O2O { .. })
    }

    /// The `details` entry of PGRST201.
    fn compressed(&self) -> Value {
        let els = |v: Vec<&String>| {
            format!(
                "({})",
                v.into_iter().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        let embedding = format!("{} with {}", self.table, self.ftable);
        let (card, rel) = match &self.card {
            Card::M2M(j) => (
                "many-to-many",
                format!(
                    "{} using {}{} and {}{}",
                    j.table,
                    j.cons1,
                    els(j.cols_source.iter().map(|c| &c.1).collect()),
                    j.cons2,
                    els(j.cols_target.iter().map(|c| &c.1).collect())
                ),
            ),
            other => (
                match other {
                    Card::M2O => "many-to-one",
                    Card::O2M => "one-to-many",
                    _ => "one-to-one",
                },
                format!(
                    "{} using {}{} and {}{}",
                    self.cons,
                    self.table,
                    els(self.cols.iter().map(|c| &c.0).collect()),
                    self.ftable,
                    els(self.cols.iter().map(|c| &c.1).collect())
                ),
            ),
        };
        json!({"cardinality": card, "embedding": embedding, "relationship": rel})
    }

    /// The suggestion of PGRST201's hint: `'target!cons'`.
    fn hint(&self) -> String {
        let h = match &self.card {
            Card::M2M(j) => &j.table,
            _ => &self.cons,
        };
        format!("'{}!{h}'", self.ftable)
    }
}

/// Every relationship whose origin is `origin`: many-to-one/one-to-one from its foreign keys,
/// one-to-many/one-to-one from keys referencing it, many-to-many through junction tables (a
/// table with two foreign keys whose columns are all part of its primary key).
pub fn relationships_of(schema: &Schema, origin: &str) -> Vec<Rel> {
    let mut out = Vec::new();
    // Direct: origin holds the key.
    if let Some(t) = schema.tables.get(origin) {
        // Keys to tables of unexposed schemas (`auth.users`) give no relationship, as in PostgREST.
        for fk in sorted_fks(t)
            .into_iter()
            .filter(|fk| schema.tables.contains_key(&fk.parent))
        {
            out.push(Rel {
                table: origin.to_string(),
                ftable: fk.parent.clone(),
                is_self: fk.parent == origin,
                cons: fk.name.clone(),
                cols: fk.cols.clone(),
                card: if is_unique(t, &fk.cols) {
                    Card::O2O { parent: false }
                } else {
                    Card::M2O
                },
            });
        }
    }
    // Inverse: other tables hold keys to origin.
    for t in schema.tables.values() {
        for fk in sorted_fks(t) {
            if fk.parent != origin {
                continue;
            }
            out.push(Rel {
                table: origin.to_string(),
                ftable: t.name.clone(),
                is_self: t.name == origin,
                cons: fk.name.clone(),
                cols: fk
                    .cols
                    .iter()
                    .map(|(a, b)| (b.clone(), a.clone()))
                    .collect(),
                card: if is_unique(t, &fk.cols) {
                    Card::O2O { parent: true }
                } else {
                    Card::O2M
                },
            });
        }
    }
    // Many-to-many through junction tables.
    for jt in schema.tables.values() {
        let pk: Vec<&str> = jt.pk().iter().map(|c| c.name.as_str()).collect();
        let fks = sorted_fks(jt);
        let m2o = |f: &&&crate::schema::ForeignKey| !is_unique(jt, &f.cols);
        for fk1 in fks.iter().filter(|f| f.parent == origin).filter(m2o) {
            for fk2 in fks.iter().filter(m2o) {
                if fk1.name == fk2.name {
                    continue;
                }
                let all_pk = fk1
                    .cols
                    .iter()
                    .chain(fk2.cols.iter())
                    .all(|(c, _)| pk.contains(&c.as_str()));
                if !all_pk {
                    continue;
                }
                out.push(Rel {
                    table: origin.to_string(),
                    ftable: fk2.parent.clone(),
                    is_self: fk2.parent == origin,
                    cons: jt.name.clone(),
                    cols: Vec::new(),
                    card: Card::M2M(Junction {
                        table: jt.name.clone(),
                        cons1: fk1.name.clone(),
                        cons2: fk2.name.clone(),
                        cols_source: fk1
                            .cols
                            .iter()
                            .map(|(a, b)| (b.clone(), a.clone()))
                            .collect(),
                        cols_target: fk2
                            .cols
                            .iter()
                            .map(|(a, b)| (b.clone(), a.clone()))
                            .collect(),
                    }),
                });
            }
        }
    }
    out
}

fn sorted_fks(t: &crate::schema::Table) -> Vec<&crate::schema::ForeignKey> {
    let mut v: Vec<_> = t.fks.iter().chain(t.derived_fks.iter()).collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

fn is_unique(t: &crate::schema::Table, cols: &[(String, String)]) -> bool {
    let mut c: Vec<String> = cols.iter().map(|c| c.0.clone()).collect();
    c.sort();
    t.uniques.contains(&c)
}

/// The relationship `/origin?select=target!hint(...)` names, by PostgREST's rules (`findRel`).
pub fn find_rel(
    schema: &Schema,
    origin: &str,
    target: &str,
    hint: Option<&str>,
) -> Result<Rel, ApiError> {
    let rels = relationships_of(schema, origin);
    let single_col = |cols: &[(String, String)], h: &str, local: bool| {
        cols.len() == 1 && (if local { &cols[0].0 } else { &cols[0].1 }) == h
    };
    let mut matches: Vec<Rel> = rels
        .iter()
        .filter(|r| {
            let plain = !matches!(r.card, Card::M2M(_));
            let cons_is = |h: &str| plain && r.cons == h;
            let col_is = |h: &str| plain && single_col(&r.cols, h, true);
            let fcol_is = |h: &str| plain && single_col(&r.cols, h, false);
            if r.is_self {
                match hint {
                    None => {
                        (target == r.ftable && r.card == Card::O2M)
                            || (col_is(target) && r.card == Card::M2O)
                    }
                    Some(h) => target == r.ftable && r.card == Card::O2M && fcol_is(h),
                }
            } else {
                match hint {
                    None => target == r.ftable || cons_is(target) || col_is(target),
                    Some(h) => {
                        target == r.ftable
                            && (cons_is(h)
                                || col_is(h)
                                || fcol_is(h)
                                || matches!(&r.card, Card::M2M(j) if j.table == h))
                    }
                }
            }
        })
        .cloned()
        .collect();
    match matches.len() {
        1 => Ok(matches.remove(0)),
        0 => Err(no_rel(schema, origin, target, hint)),
        _ => Err(ApiError::new(
            300,
            "PGRST201",
            format!(
                "Could not embed because more than one relationship was found for '{origin}' and '{target}'"
            ),
        )
        .details_json(Value::Array(
            matches.iter().map(Rel::compressed).collect(),
        ))
        .hint(format!(
            "Try changing '{target}' to one of the following: {}. Find the desired relationship in the 'details' key.",
            matches.iter().map(Rel::hint).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// PGRST200, with PostgREST's "Perhaps you meant" hint: a close parent name when the origin
/// has no relationships, else a close target name among the origin's relationships.
fn no_rel(schema: &Schema, origin: &str, target: &str, hint: Option<&str>) -> ApiError {
    let using = hint
        .map(|h| format!("' using the hint '{h}"))
        .unwrap_or_default();
    let mut err = ApiError::new(
        400,
        "PGRST200",
        format!("Could not find a relationship between '{origin}' and '{target}' in the schema cache"),
    )
    .details(format!(
        "Searched for a foreign key relationship between '{origin}' and '{target}{using}' in the schema 'public', but no matches were found."
    ));
    let own = relationships_of(schema, origin);
    let suggestion = if !own.is_empty() {
        best(own.iter().map(|r| r.ftable.as_str()), target, true)
            .map(|s| format!("Perhaps you meant '{s}' instead of '{target}'."))
    } else {
        let parents = schema
            .tables
            .keys()
            .filter(|t| !relationships_of(schema, t).is_empty());
        best(parents.map(String::as_str), origin, false)
            .map(|s| format!("Perhaps you meant '{s}' instead of '{origin}'."))
    };
    if let Some(s) = suggestion {
        err = err.hint(s);
    }
    err
}

/// The closest name (similarity at least 0.33); with `skip_exact`, an exact match suggests nothing.
fn best<'a>(names: impl Iterator<Item = &'a str>, to: &str, skip_exact: bool) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for n in names {
        let s = similarity(n, to);
        if skip_exact && n == to {
            continue;
        }
        if s >= 0.33 && best.is_none_or(|(b, _)| s > b) {
            best = Some((s, n));
        }
    }
    best.map(|(_, n)| n.to_string())
}
