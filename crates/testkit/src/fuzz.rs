//! A small mutation fuzzer for parsers, on the stable toolchain.
//!
//! cargo-fuzz needs nightly, which these machines cannot install, so edgesim fuzzes with this:
//! each target is a function from bytes that must not panic. Inputs start from a corpus kept in
//! the repository (`fuzz/corpus/<target>/`), and are mutated (bit flips, byte and token
//! insertions, deletions, duplications, splices with other entries, interesting numbers). The
//! guidance is behavioural rather than coverage: the target returns a short *outcome class* for
//! each input (e.g. `ok` or the error's code), and an input that produces a class not seen
//! before is added to the corpus, so later mutations build on it. A panic is a crash: the input
//! is saved to `fuzz/crashes/<target>/` and counted.
//!
//! `cargo test` replays the corpus of every target (fast, in `just test`); `just fuzz` runs the
//! targets for a time budget (`EDGESIM_FUZZ_SECS` per target) and records the figures.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// At most this many inputs join a corpus per run (keeps the repository's corpora small).
pub const MAX_NEW_ENTRIES: usize = 50;

/// What one fuzzing run of a target did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The target's name.
    pub target: String,
    /// Inputs run (corpus replay included).
    pub executions: u64,
    /// Inputs that panicked (each saved under `fuzz/crashes/<target>/`).
    pub crashes: u64,
    /// Corpus entries at the start.
    pub corpus_before: usize,
    /// Entries added (inputs with an outcome class not seen before).
    pub new_entries: usize,
    /// Distinct outcome classes seen.
    pub classes: usize,
    /// Wall time spent.
    pub elapsed: Duration,
}

impl Report {
    /// One Markdown table row: target, executions, exec/s, crashes, corpus, new, classes.
    pub fn row(&self) -> String {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        format!(
            "| {} | {} | {:.0} | {} | {} | {} | {} | {:.0} s |",
            self.target,
            self.executions,
            self.executions as f64 / secs,
            self.crashes,
            self.corpus_before,
            self.new_entries,
            self.classes,
            secs
        )
    }
}

/// The repository's `fuzz/` directory (from this crate's manifest dir).
pub fn fuzz_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The time budget per target from `EDGESIM_FUZZ_SECS` (`None`: replay the corpus only).
pub fn budget_from_env() -> Option<Duration> {
    std::env::var("EDGESIM_FUZZ_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .map(Duration::from_secs_f64)
}

/// xorshift64*: a tiny seeded generator (the fuzzer's own; reproducible with `EDGESIM_FUZZ_SEED`).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: &[&str] = &[
    "0",
    "-1",
    "1",
    "255",
    "256",
    "65535",
    "65536",
    "2147483647",
    "-2147483648",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "1e308",
    "NaN",
    "inf",
    "-0",
    "0.5",
    "",
    " ",
    "\0",
    "\u{fffd}",
    "é",
    "%",
    "%00",
    "%zz",
    "\\",
    "\"",
    "'",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    ":",
    "::",
    "*",
    "=",
    "&",
    "?",
    "#",
    "\n",
    "\r\n",
];

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>], dict: &[&str]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = out.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = rng.next() as u8;
            }
            2 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(8)).min(len);
                out.drain(a..b);
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(16)).min(len);
                let piece = out[a..b].to_vec();
                let at = rng.below(out.len() + 1);
                out.splice(at..at, piece);
            }
            4 | 5 => {
                let tok = if !dict.is_empty() && rng.below(3) > 0 {
                    dict[rng.below(dict.len())]
                } else {
                    INTERESTING[rng.below(INTERESTING.len())]
                };
                let at = rng.below(out.len() + 1);
                out.splice(at..at, tok.bytes());
            }
            6 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                let cut = rng.below(out.len() + 1);
                let from = rng.below(other.len() + 1);
                out.truncate(cut);
                out.extend_from_slice(&other[from..]);
            }
            7 if len > 0 => {
                // Replace a run of digits with an interesting number.
                let i = rng.below(len);
                if out[i].is_ascii_digit() {
                    let mut j = i;
                    while j < out.len() && out[j].is_ascii_digit() {
                        j += 1;
                    }
                    let n = ["0", "-1", "99999999999999999999", "2147483648", "1e400"];
                    out.splice(i..j, n[rng.below(n.len())].bytes());
                }
            }
            _ => {
                let at = rng.below(out.len() + 1);
                out.insert(at, rng.next() as u8);
            }
        }
    }
    out.truncate(64 << 10);
    out
}

fn name_of(data: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut h);
    format!("{:016x}", h.finish())
}

fn load_corpus(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

/// Runs `target` on its corpus, then (with a `budget`) on mutations until the budget is spent.
/// `target` returns the input's outcome class; a panic is a crash. `dict` lists tokens worth
/// inserting (the grammar's keywords and operators). Returns the report; a replay without a
/// budget panics on a crashing corpus entry, so `cargo test` fails on a regression.
pub fn run(
    name: &str,
    budget: Option<Duration>,
    dict: &[&str],
    target: impl Fn(&[u8]) -> String,
) -> Report {
    let root = fuzz_root();
    let corpus_dir = root.join("corpus").join(name);
    let crash_dir = root.join("crashes").join(name);
    let mut corpus = load_corpus(&corpus_dir);
    let mut report = Report {
        target: name.to_string(),
        corpus_before: corpus.len(),
        ..Report::default()
    };
    let started = Instant::now();
    let mut classes = BTreeSet::new();
    // Panics are expected findings here: keep their messages off the output while fuzzing.
    let quiet = budget.is_some();
    let hook = quiet.then(std::panic::take_hook);
    if quiet {
        std::panic::set_hook(Box::new(|_| {}));
    }
    let exec = |data: &[u8], report: &mut Report| -> Option<String> {
        report.executions += 1;
        match std::panic::catch_unwind(AssertUnwindSafe(|| target(data))) {
            Ok(class) => Some(class),
            Err(_) => {
                report.crashes += 1;
                let _ = std::fs::create_dir_all(&crash_dir);
                let _ = std::fs::write(crash_dir.join(name_of(data)), data);
                None
            }
        }
    };
    for entry in corpus.clone() {
        match exec(&entry, &mut report) {
            Some(class) => {
                classes.insert(class);
            }
            None if !quiet => panic!(
                "fuzz target {name}: corpus entry {} panics: {:?}",
                name_of(&entry),
                String::from_utf8_lossy(&entry)
            ),
            None => {}
        }
    }
    if let Some(budget) = budget {
        let seed = std::env::var("EDGESIM_FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x5eed_f022_u64)
            | 1;
        let mut rng = Rng(seed);
        let _ = std::fs::create_dir_all(&corpus_dir);
        while started.elapsed() < budget {
            for _ in 0..256 {
                let base = if corpus.is_empty() {
                    Vec::new()
                } else {
                    corpus[rng.below(corpus.len())].clone()
                };
                let input = mutate(&mut rng, &base, &corpus, dict);
                if let Some(class) = exec(&input, &mut report)
                    && classes.insert(class)
                    && report.new_entries < MAX_NEW_ENTRIES
                {
                    let _ = std::fs::write(corpus_dir.join(name_of(&input)), &input);
                    corpus.push(input);
                    report.new_entries += 1;
                }
            }
        }
    }
    if let Some(h) = hook {
        std::panic::set_hook(h);
    }
    report.classes = classes.len();
    report.elapsed = started.elapsed();
    report
}

/// Appends `report` as a table row to `$EDGESIM_FUZZ_REPORT` when set (what `just fuzz` reads).
pub fn record(report: &Report) {
    use std::io::Write;
    if let Some(path) = std::env::var_os("EDGESIM_FUZZ_REPORT")
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = writeln!(f, "{}", report.row());
    }
}

/// The outcome class of a `Result`: `ok`, or `err:` and the shape of the error's first `n`
/// characters (see [`shape`]).
pub fn class_of<T, E: std::fmt::Display>(r: &Result<T, E>, n: usize) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => format!("err:{}", shape(&e.to_string(), n)),
    }
}

/// A message reduced to its fixed words: quoted parts, numbers and anything after the first
/// `:` (where messages usually echo the input) dropped, at most `n` characters. Classes made of
/// echoed input would make every input "new".
pub fn shape(message: &str, n: usize) -> String {
    let head = message.split(':').next().unwrap_or("");
    let mut out = String::new();
    let mut quoted = None;
    for c in head.chars() {
        match (quoted, c) {
            (None, '"' | '\'' | '`') => quoted = Some(c),
            (Some(q), c) if c == q => quoted = None,
            (Some(_), _) => {}
            (None, c) if c.is_ascii_digit() => {}
            (None, c) => out.push(c),
        }
    }
    out.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_drop_echoed_input() {
        assert_eq!(
            shape("unknown field `dorp`, expected one of", 40),
            "unknown field , expected one of"
        );
        assert_eq!(shape("line 12: bad \"x\" here", 40), "line ");
    }

    #[test]
    fn mutations_stay_bounded_and_vary() {
        let mut rng = Rng(1);
        let seen: BTreeSet<Vec<u8>> = (0..200)
            .map(|_| {
                mutate(
                    &mut rng,
                    b"select=id,name&id=eq.1",
                    &[],
                    &["eq.", "select="],
                )
            })
            .collect();
        assert!(seen.len() > 150);
        assert!(seen.iter().all(|s| s.len() <= 64 << 10));
    }
}
