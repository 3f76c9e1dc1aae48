//! Reading a scenario file: TOML errors and cross-field checks, each naming file, line and key.

use super::schema::{Scenario, WorkloadSpec};
use std::fmt;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// A scenario file that cannot be used. Displays as `file:line:col: key `k`: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file (as given).
    pub file: String,
    /// 1-based line (0 when unknown, e.g. the file could not be read).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The key at fault, when known.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if let Some(k) = &self.key {
            write!(f, ": key `{k}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

fn locate(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// The key written on the line containing `offset`: `a` in `a = 1`, `faults.kv` in `[[faults.kv]]`.
fn key_at(text: &str, offset: usize, message: &str) -> Option<String> {
    for marker in ["unknown field `", "missing field `", "unknown variant `"] {
        if let Some(i) = message.find(marker) {
            let rest = &message[i + marker.len()..];
            if marker != "unknown variant `" {
                return rest.split('`').next().map(str::to_string);
            }
        }
    }
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[start..end].trim();
    if let Some(inner) = line.strip_prefix('[') {
        return Some(inner.trim_matches(|c| c == '[' || c == ']').to_string());
    }
    let eq = line.find('=')?;
    let key = line[..eq].trim();
    // Inside an inline table the key is the last one before the offending value.
    let rel = offset.saturating_sub(start);
    let upto = &text[start..start + rel.min(end - start)];
    if let Some(brace) = upto.rfind('{') {
        let inner = &upto[brace + 1..];
        if let Some(k) = inner.rsplit(',').next().and_then(|s| s.split('=').next()) {
            let k = k.trim();
            if !k.is_empty() {
                return Some(format!("{key}.{k}"));
            }
        }
    }
    Some(key.to_string())
}

/// One step of a path into the scenario document: a key or an array index.
#[derive(Clone, Copy, Debug)]
enum Seg {
    Key(&'static str),
    Index(usize),
}

/// Where a cross-field check failed: a value's span, or its path in the document (for values
/// the schema does not keep spans of).
enum At {
    Span(Range<usize>),
    Path(Vec<Seg>),
}

type Problem = (At, String);

/// The span of the value at `path` in `text`, or of its deepest ancestor present, and how many
/// segments of `path` were found.
fn span_of(text: &str, path: &[Seg]) -> Option<(Range<usize>, usize)> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let mut best = None;
    let mut table = root.get_ref();
    let mut value: Option<&toml::Spanned<DeValue<'_>>> = None;
    for (depth, seg) in path.iter().enumerate() {
        let next = match (seg, value.map(|v| v.get_ref())) {
            (Seg::Key(k), None) => table.iter().find(|(n, _)| n.get_ref() == k).map(|(_, v)| v),
            (Seg::Key(k), Some(DeValue::Table(t))) => {
                table = t;
                t.iter().find(|(n, _)| n.get_ref() == k).map(|(_, v)| v)
            }
            (Seg::Index(i), Some(DeValue::Array(a))) => a.get(*i),
            _ => None,
        };
        match next {
            Some(v) => {
                best = Some((v.span(), depth + 1));
                value = Some(v);
            }
            None => break,
        }
    }
    best
}

fn problem_at(file: &str, text: &str, (at, message): Problem) -> ScenarioError {
    match at {
        At::Span(span) => error_at(file, text, span, message),
        At::Path(path) => {
            let found = span_of(text, &path);
            // The key named is the deepest one actually written in the file.
            let depth = found.as_ref().map_or(path.len(), |f| f.1);
            let key = path[..depth].iter().rev().find_map(|s| match s {
                Seg::Key(k) => Some(k.to_string()),
                Seg::Index(_) => None,
            });
            let (line, column) = found.map_or((0, 0), |(s, _)| locate(text, s.start));
            ScenarioError {
                file: file.to_string(),
                line,
                column,
                key,
                message,
            }
        }
    }
}

fn error_at(file: &str, text: &str, span: Range<usize>, message: String) -> ScenarioError {
    let (line, column) = locate(text, span.start);
    ScenarioError {
        file: file.to_string(),
        line,
        column,
        key: key_at(text, span.start, &message),
        message,
    }
}

impl Scenario {
    /// Reads and checks the scenario at `path`; relative paths inside resolve against its directory.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: file.clone(),
            line: 0,
            column: 0,
            key: None,
            message: format!("cannot read: {e}"),
        })?;
        let mut s = Self::parse(&file, &text)?;
        s.base_dir = path.parent().map(Path::to_path_buf);
        s.compile_rules(&file, &text)?;
        // The routes of the project `[worker] path` names (`edgesim run --worker` replaces them).
        if let Some(dir) = s.worker.spec(s.base_dir.as_deref()).project_dir() {
            s.project.routes = crate::routes::Route::load_project(&dir)?;
        }
        Ok(s)
    }

    /// Parses and checks scenario `text`; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let s: Scenario = toml::from_str(text).map_err(|e| {
            error_at(
                file,
                text,
                e.span().unwrap_or(0..0),
                e.message().to_string(),
            )
        })?;
        s.check().map_err(|p| problem_at(file, text, p))?;
        let mut s = s;
        let many = s.random_mutations.len() > 1
            || text
                .lines()
                .any(|l| l.trim_start().starts_with("[[random_mutations]]"));
        for (i, m) in s.random_mutations.iter_mut().enumerate() {
            let path = if many {
                vec![Seg::Key("random_mutations"), Seg::Index(i)]
            } else {
                vec![Seg::Key("random_mutations")]
            };
            let line = span_of(text, &path).map_or(0, |(sp, _)| locate(text, sp.start).0);
            m.at = format!("{file}:{line}");
        }
        s.compiled_routes = crate::routes::Route::compile_all(file, text, &s.routes)?;
        if let Some(e) = s.check_route_names(file, text) {
            return Err(e);
        }
        s.compile_rules(file, text)?;
        Ok(s)
    }

    /// Compiles `[[outbound]]` (body files relative to the scenario's directory).
    fn compile_rules(&mut self, file: &str, text: &str) -> Result<(), ScenarioError> {
        if self.outbound.is_empty() {
            self.outbound_rules = None;
            return Ok(());
        }
        let base = self.base_dir.clone().unwrap_or_default();
        let rules = edgesim_host::rules::compile(&self.outbound, &base).map_err(|e| {
            let message = e.to_string();
            match e.span {
                Some(span) => error_at(file, text, span, message),
                None => ScenarioError {
                    file: file.to_string(),
                    line: 0,
                    column: 0,
                    key: Some("outbound".into()),
                    message,
                },
            }
        })?;
        self.outbound_rules = Some(rules);
        Ok(())
    }

    /// A workload naming a route pattern the scenario does not declare (when it declares
    /// routes; the project's are checked when the run starts).
    fn check_route_names(&self, file: &str, text: &str) -> Option<ScenarioError> {
        if self.compiled_routes.is_empty() {
            return None;
        }
        for (i, w) in self.workload.iter().enumerate() {
            if let Some(super::schema::RouteSelect::Patterns(ps)) = &w.routes
                && let Some(p) = ps
                    .iter()
                    .find(|p| !self.compiled_routes.iter().any(|r| r.pattern.text() == *p))
            {
                return Some(problem_at(
                    file,
                    text,
                    (
                        At::Path(vec![
                            Seg::Key("workload"),
                            Seg::Index(i),
                            Seg::Key("routes"),
                        ]),
                        format!("no [[routes]] entry has the path {p:?}"),
                    ),
                ));
            }
        }
        None
    }

    /// The routes a run tracks: the scenario's `[[routes]]`, else the project's
    /// `edgesim.routes.toml` (empty: the `[supabase] table` shorthand).
    pub fn effective_routes(&self) -> Vec<crate::routes::Route> {
        if !self.compiled_routes.is_empty() {
            return self.compiled_routes.clone();
        }
        self.project.routes.clone().unwrap_or_default()
    }

    /// The tracker of a run of this scenario: its routes (see [`Scenario::effective_routes`]),
    /// else the `[supabase] table` shorthand (for reports and `edgesim check` of its logs).
    pub fn tracker(&self) -> crate::track::Tracker {
        let routes = self.effective_routes();
        let table = routes.first().map_or_else(
            || {
                self.supabase
                    .table
                    .clone()
                    .unwrap_or_else(|| "articles".into())
            },
            |r| r.truth.table.clone(),
        );
        crate::track::Tracker::with_routes(&table, routes)
    }

    /// The colo codes, in file order.
    pub fn colo_codes(&self) -> Vec<String> {
        self.colos.iter().map(|c| c.code.clone()).collect()
    }

    /// The colos workload `w` sends requests to: every colo for `*`, else its own.
    pub fn workload_colos(&self, w: &WorkloadSpec) -> Vec<String> {
        if w.colo.get_ref() == "*" {
            self.colo_codes()
        } else {
            vec![w.colo.get_ref().clone()]
        }
    }

    /// Virtual ms of the chaos phase.
    pub fn duration_ms(&self) -> u64 {
        secs_to_ms(self.duration_s)
    }

    fn check(&self) -> Result<(), Problem> {
        use Seg::{Index, Key};
        let codes = self.colo_codes();
        if codes.is_empty() {
            return Err((
                At::Path(vec![Key("colos")]),
                "at least one [[colos]] entry is required".into(),
            ));
        }
        for (i, c) in codes.iter().enumerate() {
            if codes[..i].contains(c) {
                return Err((
                    At::Path(vec![Key("colos"), Index(i), Key("code")]),
                    format!("colo {c} is listed twice"),
                ));
            }
        }
        let known = |c: &Spanned<String>, star: bool| -> Result<(), Problem> {
            let v = c.get_ref();
            if (star && v == "*") || codes.contains(v) {
                Ok(())
            } else {
                Err((
                    At::Span(c.span()),
                    format!("unknown colo {v:?}; the scenario's colos are {codes:?}"),
                ))
            }
        };
        // Every fault window: from_s >= 0, from_s < to_s <= duration_s.
        let window = |from: f64, to: f64, to_at: At, from_at: At| -> Result<(), Problem> {
            if !(from >= 0.0 && from.is_finite()) {
                return Err((
                    from_at,
                    format!("must be zero or a positive number, got {from}"),
                ));
            }
            if !(to > from && to <= self.duration_s) {
                return Err((
                    to_at,
                    format!(
                        "the window must end after from_s ({from}) and within duration_s ({})",
                        self.duration_s
                    ),
                ));
            }
            Ok(())
        };
        let spanned_window = |from: f64, to: &Spanned<f64>, path: Vec<Seg>| {
            window(from, *to.get_ref(), At::Span(to.span()), At::Path(path))
        };
        if let Some(c) = &self.worker.webhook_colo {
            known(c, false)?;
        }
        for w in &self.workload {
            known(&w.colo, true)?;
            let routes = matches!(&w.routes, Some(super::schema::RouteSelect::All(true)))
                || matches!(&w.routes, Some(super::schema::RouteSelect::Patterns(p)) if !p.is_empty());
            if (w.paths.is_empty() && !routes) || w.paths.iter().any(|p| !p.starts_with('/')) {
                return Err((
                    At::Span(w.colo.span()),
                    "workload paths must be a non-empty list of paths starting with / \
                     (or the workload says routes = true)"
                        .into(),
                ));
            }
        }
        for m in &self.random_mutations {
            match (m.role.as_ref(), m.user.as_ref()) {
                (Some(r), _)
                    if !["anon", "authenticated", "service_role"]
                        .contains(&r.get_ref().as_str()) =>
                {
                    return Err((
                        At::Span(r.span()),
                        format!(
                            "role must be anon, authenticated or service_role, got {:?}",
                            r.get_ref()
                        ),
                    ));
                }
                (Some(r), None) if r.get_ref() == "authenticated" => {
                    return Err((
                        At::Span(r.span()),
                        "role = \"authenticated\" needs `user` (the email whose JWT the writes carry)"
                            .into(),
                    ));
                }
                (r, Some(u)) if r.is_none_or(|r| r.get_ref() != "authenticated") => {
                    return Err((
                        At::Span(u.span()),
                        "user is for role = \"authenticated\"".into(),
                    ));
                }
                _ => {}
            }
        }
        for (i, m) in self.mutations.iter().enumerate() {
            if m.at_s > self.duration_s {
                return Err((
                    At::Path(vec![Key("mutations"), Index(i), Key("at_s")]),
                    format!(
                        "mutation at_s = {} is after duration_s = {}",
                        m.at_s, self.duration_s
                    ),
                ));
            }
        }
        let w = &self.faults.webhooks;
        if w.from_s.is_some() || w.to_s.is_some() {
            let path = |k| At::Path(vec![Key("faults"), Key("webhooks"), Key(k)]);
            // An end left to its default is blamed on the start that passes it.
            let to_key = if w.to_s.is_some() { "to_s" } else { "from_s" };
            window(
                w.from_s.unwrap_or(0.0),
                w.to_s.unwrap_or(self.duration_s),
                path(to_key),
                path("from_s"),
            )?;
        }
        for (i, f) in self.faults.kv.iter().enumerate() {
            spanned_window(
                f.from_s,
                &f.to_s,
                vec![Key("faults"), Key("kv"), Index(i), Key("from_s")],
            )?;
            if let Some(c) = &f.colo {
                known(c, false)?;
            }
            if let Some(op) = &f.op
                && !["get", "put", "delete", "list"].contains(&op.as_str())
            {
                return Err((
                    At::Path(vec![Key("faults"), Key("kv"), Index(i), Key("op")]),
                    format!("op must be get, put, delete or list, got {op:?}"),
                ));
            }
        }
        for (i, p) in self.faults.partition.iter().enumerate() {
            spanned_window(
                p.from_s,
                &p.to_s,
                vec![Key("faults"), Key("partition"), Index(i), Key("from_s")],
            )?;
            known(&p.colo, false)?;
        }
        for (i, f) in self.faults.supabase.iter().enumerate() {
            spanned_window(
                f.from_s,
                &f.to_s,
                vec![Key("faults"), Key("supabase"), Index(i), Key("from_s")],
            )?;
            if let Some(st) = f.status
                && !(400..=599).contains(&st)
            {
                return Err((
                    At::Path(vec![
                        Key("faults"),
                        Key("supabase"),
                        Index(i),
                        Key("status"),
                    ]),
                    format!("status must be 400..=599, got {st}"),
                ));
            }
        }
        Ok(())
    }
}

/// Seconds (possibly fractional) to whole milliseconds.
pub fn secs_to_ms(s: f64) -> u64 {
    (s * 1000.0).round().max(0.0) as u64
}
