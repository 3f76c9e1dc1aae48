//! The read plan: the requested table and its embedded resources as a tree, each node with its
//! relationship to its parent, its select items, filters, order and range.

use crate::errors::ApiError;
use crate::query::ast::{Filter, OrderTerm, SelectItem};
use crate::query::{EmbedParams, Query, not_embedded};
use crate::relations::{Card, Rel, find_rel};
use crate::schema::{Schema, Table};

/// One table of the plan.
#[derive(Debug)]
pub struct Node<'s> {
    /// The table read.
    pub table: &'s Table,
    /// Its SQL alias (the table name at the root, `<table>_<depth>` below, as PostgREST).
    pub alias: String,
    /// Its `*` and column items (embeddings are in `children`).
    pub fields: Vec<SelectItem>,
    /// Its embedded resources, in `select` order.
    pub children: Vec<Child<'s>>,
    /// Filters on its rows.
    pub filters: Vec<Filter>,
    /// Order of its rows.
    pub order: Vec<OrderTerm>,
    /// `limit`.
    pub limit: Option<u64>,
    /// `offset`.
    pub offset: Option<u64>,
    /// Depth in the tree (0 at the root).
    pub depth: usize,
}

/// An embedded resource.
#[derive(Debug)]
pub struct Child<'s> {
    /// The output key (alias or name), also how filters and order refer to it.
    pub key: String,
    /// The relationship from the parent.
    pub rel: Rel,
    /// `!inner`.
    pub inner: bool,
    /// `...rel(cols)`.
    pub spread: bool,
    /// The embedded table.
    pub node: Node<'s>,
    /// The junction table of a many-to-many relationship.
    pub junction: Option<&'s Table>,
}

impl Child<'_> {
    /// PostgREST leaves out an embedding that selects nothing at any depth (`rel()`): it only
    /// filters (with `!inner` or `rel=not.is.null`).
    pub fn is_empty(&self) -> bool {
        self.node.fields.is_empty() && self.node.children.iter().all(Child::is_empty)
    }
}

/// Builds the plan of a read of `table` (already resolved) with query `q`.
pub fn plan<'s>(schema: &'s Schema, table: &'s Table, q: &Query) -> Result<Node<'s>, ApiError> {
    let items = q.select.clone().unwrap_or_else(|| vec![SelectItem::Star]);
    let mut root = node(schema, table, table.name.clone(), &items, 0)?;
    root.filters = q.filters.clone();
    root.order = q.order.clone();
    root.limit = q.limit;
    root.offset = q.offset;
    for (path, params) in &q.embedded {
        apply(&mut root, path, params)?;
    }
    Ok(root)
}

fn node<'s>(
    schema: &'s Schema,
    table: &'s Table,
    alias: String,
    items: &[SelectItem],
    depth: usize,
) -> Result<Node<'s>, ApiError> {
    let mut n = Node {
        table,
        alias,
        fields: Vec::new(),
        children: Vec::new(),
        filters: Vec::new(),
        order: Vec::new(),
        limit: None,
        offset: None,
        depth,
    };
    for item in items {
        match item {
            SelectItem::Embed(e) => {
                let rel = find_rel(schema, &table.name, &e.name, e.hint.as_deref())?;
                let target = schema.table(&rel.ftable)?;
                let alias = format!("{}_{}", target.name, depth + 1);
                let child = node(schema, target, alias, &e.items, depth + 1)?;
                let junction = match &rel.card {
                    Card::M2M(j) => Some(schema.table(&j.table)?),
                    _ => None,
                };
                n.children.push(Child {
                    key: e.key().to_string(),
                    rel,
                    inner: e.inner,
                    spread: e.spread,
                    node: child,
                    junction,
                });
            }
            other => n.fields.push(other.clone()),
        }
    }
    Ok(n)
}

/// Attaches `rel.col=...`, `rel.order=...`, `rel.limit=...` to the embedded node at `path`.
fn apply(root: &mut Node<'_>, path: &[String], p: &EmbedParams) -> Result<(), ApiError> {
    let mut n = root;
    for seg in path {
        n = match n.children.iter_mut().find(|c| &c.key == seg) {
            Some(c) => &mut c.node,
            None => return Err(not_embedded(seg)),
        };
    }
    n.filters.extend(p.filters.iter().cloned());
    if !p.order.is_empty() {
        n.order = p.order.clone();
    }
    if p.limit.is_some() {
        n.limit = p.limit;
    }
    if p.offset.is_some() {
        n.offset = p.offset;
    }
    Ok(())
}
