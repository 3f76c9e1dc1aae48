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
        s.check()
            .map_err(|(span, msg)| error_at(file, text, span, msg))?;
        Ok(s)
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

    fn check(&self) -> Result<(), (Range<usize>, String)> {
        let codes = self.colo_codes();
        if codes.is_empty() {
            return Err((0..0, "at least one [[colos]] entry is required".into()));
        }
        for (i, c) in codes.iter().enumerate() {
            if codes[..i].contains(c) {
                return Err((0..0, format!("colo {c} is listed twice")));
            }
        }
        let known = |c: &Spanned<String>, star: bool| -> Result<(), (Range<usize>, String)> {
            let v = c.get_ref();
            if (star && v == "*") || codes.contains(v) {
                Ok(())
            } else {
                Err((
                    c.span(),
                    format!("unknown colo {v:?}; the scenario's colos are {codes:?}"),
                ))
            }
        };
        let window = |from: f64, to: &Spanned<f64>| -> Result<(), (Range<usize>, String)> {
            let t = *to.get_ref();
            if !(t > from && t <= self.duration_s) {
                return Err((
                    to.span(),
                    format!(
                        "the window must end after from_s ({from}) and within duration_s ({})",
                        self.duration_s
                    ),
                ));
            }
            Ok(())
        };
        if let Some(c) = &self.worker.webhook_colo {
            known(c, false)?;
        }
        for w in &self.workload {
            known(&w.colo, true)?;
            if w.paths.is_empty() || w.paths.iter().any(|p| !p.starts_with('/')) {
                return Err((
                    w.colo.span(),
                    "workload paths must be a non-empty list of paths starting with /".into(),
                ));
            }
        }
        for m in &self.mutations {
            if m.at_s > self.duration_s {
                return Err((
                    0..0,
                    format!(
                        "mutation at_s = {} is after duration_s = {}",
                        m.at_s, self.duration_s
                    ),
                ));
            }
        }
        for f in &self.faults.kv {
            window(f.from_s, &f.to_s)?;
            if let Some(c) = &f.colo {
                known(c, false)?;
            }
            if let Some(op) = &f.op
                && !["get", "put", "delete", "list"].contains(&op.as_str())
            {
                return Err((
                    f.to_s.span(),
                    format!("op must be get, put, delete or list, got {op:?}"),
                ));
            }
        }
        for p in &self.faults.partition {
            window(p.from_s, &p.to_s)?;
            known(&p.colo, false)?;
        }
        for f in &self.faults.supabase {
            window(f.from_s, &f.to_s)?;
            if let Some(st) = f.status
                && !(400..=599).contains(&st)
            {
                return Err((f.to_s.span(), format!("status must be 400..=599, got {st}")));
            }
        }
        Ok(())
    }
}

/// Seconds (possibly fractional) to whole milliseconds.
pub fn secs_to_ms(s: f64) -> u64 {
    (s * 1000.0).round().max(0.0) as u64
}
