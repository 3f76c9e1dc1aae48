//! File globs as the Supabase CLI expands `[db.seed] sql_paths`: Go's `fs.Glob` over
//! `/`-separated patterns. `*` matches any run of characters other than `/`, `?` one such
//! character, `[...]` a class (`[^...]` negated, `a-z` ranges), `\` escapes the next character.
//! There is no `**`. Matches of one pattern come back sorted by path text.

use std::path::{Path, PathBuf};

/// A pattern that is not well formed (an unclosed `[`, a trailing `\`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPattern;

fn has_meta(seg: &str) -> bool {
    seg.contains(['*', '?', '[', '\\'])
}

/// Lexically cleans a `/`-separated path as Go's `path.Clean` does (`.` and empty segments
/// removed, `x/..` folded); `"."` for an empty result.
pub fn clean(path: &str) -> String {
    let abs = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => match out.last() {
                Some(&l) if l != ".." => {
                    out.pop();
                }
                _ if abs => {}
                _ => out.push(".."),
            },
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    match (abs, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Whether `name` (one path segment) matches `pat` (one pattern segment).
pub fn matches(pat: &str, name: &str) -> Result<bool, BadPattern> {
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> Result<bool, BadPattern> {
    let Some((&c, rest)) = p.split_first() else {
        return Ok(n.is_empty());
    };
    match c {
        '*' => {
            // Validate the rest once, even when no candidate reaches it.
            check(rest)?;
            for i in 0..=n.len() {
                if n[..i].contains(&'/') {
                    break;
                }
                if match_from(rest, &n[i..])? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        '?' => match n.split_first() {
            Some((&x, nr)) if x != '/' => match_from(rest, nr),
            _ => check(rest).map(|_| false),
        },
        '[' => {
            let (set, after) = class(rest)?;
            match n.split_first() {
                Some((&x, nr)) if x != '/' && set(x) => match_from(after, nr),
                _ => check(after).map(|_| false),
            }
        }
        '\\' => {
            let (&lit, after) = rest.split_first().ok_or(BadPattern)?;
            match n.split_first() {
                Some((&x, nr)) if x == lit => match_from(after, nr),
                _ => check(after).map(|_| false),
            }
        }
        lit => match n.split_first() {
            Some((&x, nr)) if x == lit => match_from(rest, nr),
            _ => check(rest).map(|_| false),
        },
    }
}

/// Whether the rest of a pattern is well formed.
fn check(p: &[char]) -> Result<(), BadPattern> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err(BadPattern);
                }
                i += 2;
            }
            '[' => {
                let (_, after) = class(&p[i + 1..])?;
                i = p.len() - after.len();
            }
            _ => i += 1,
        }
    }
    Ok(())
}

type Class = Box<dyn Fn(char) -> bool>;

/// Parses a character class after its `[`: the membership test and the rest of the pattern.
fn class(p: &[char]) -> Result<(Class, &[char]), BadPattern> {
    let (negated, mut p) = match p.split_first() {
        Some(('^', r)) => (true, r),
        _ => (false, p),
    };
    let mut ranges: Vec<(char, char)> = Vec::new();
    let mut first = true;
    loop {
        let (&c, rest) = p.split_first().ok_or(BadPattern)?;
        if c == ']' && !first {
            p = rest;
            break;
        }
        first = false;
        let (lo, rest) = class_char(c, rest)?;
        let (hi, rest) = match rest.split_first() {
            Some(('-', r)) if r.first().is_some_and(|&x| x != ']') => {
                let (&c2, r2) = r.split_first().ok_or(BadPattern)?;
                class_char(c2, r2)?
            }
            _ => (lo, rest),
        };
        if hi < lo {
            return Err(BadPattern);
        }
        ranges.push((lo, hi));
        p = rest;
    }
    let test = move |x: char| ranges.iter().any(|&(lo, hi)| lo <= x && x <= hi) != negated;
    Ok((Box::new(test), p))
}

fn class_char(c: char, rest: &[char]) -> Result<(char, &[char]), BadPattern> {
    match c {
        '\\' => rest.split_first().map(|(&x, r)| (x, r)).ok_or(BadPattern),
        '-' | ']' => Err(BadPattern),
        _ => Ok((c, rest)),
    }
}

/// Unescapes a segment without wildcards (`\x` → `x`).
fn literal(seg: &str) -> String {
    let mut out = String::new();
    let mut esc = false;
    for c in seg.chars() {
        if c == '\\' && !esc {
            esc = true;
        } else {
            out.push(c);
            esc = false;
        }
    }
    out
}

/// The paths under `base` matching the `/`-separated `pattern` (relative to `base` unless it
/// starts with `/`), files and directories alike, sorted by their text. Unreadable directories
/// match nothing (as with `fs.Glob`).
pub fn glob(base: &Path, pattern: &str) -> Result<Vec<PathBuf>, BadPattern> {
    let pattern = clean(pattern);
    let (root, pattern) = match pattern.strip_prefix('/') {
        Some(p) => (PathBuf::from("/"), p),
        None => (base.to_path_buf(), pattern.as_str()),
    };
    let segs: Vec<&str> = pattern
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    for s in &segs {
        check(&s.chars().collect::<Vec<_>>())?;
    }
    let mut out = Vec::new();
    expand(root, &segs, &mut out)?;
    out.sort_by(|a, b| a.to_string_lossy().cmp(&b.to_string_lossy()));
    Ok(out)
}

fn expand(at: PathBuf, segs: &[&str], out: &mut Vec<PathBuf>) -> Result<(), BadPattern> {
    let Some((seg, rest)) = segs.split_first() else {
        if at.symlink_metadata().is_ok() {
            out.push(at);
        }
        return Ok(());
    };
    if !has_meta(seg) {
        return expand(at.join(literal(seg)), rest, out);
    }
    let Ok(entries) = std::fs::read_dir(&at) else {
        return Ok(());
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        if matches(seg, &name)? {
            expand(at.join(&name), rest, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_matching_follows_go_path_match() {
        assert_eq!(matches("*.sql", "seed.sql"), Ok(true));
        assert_eq!(matches("*.sql", "seed.txt"), Ok(false));
        assert_eq!(matches("seed?.sql", "seed1.sql"), Ok(true));
        assert_eq!(matches("[a-c]*.sql", "b.sql"), Ok(true));
        assert_eq!(matches("[^a-c]*.sql", "b.sql"), Ok(false));
        assert_eq!(matches("\\*.sql", "*.sql"), Ok(true));
        assert_eq!(matches("\\*.sql", "a.sql"), Ok(false));
        assert_eq!(matches("[a-", "a"), Err(BadPattern));
        assert_eq!(matches("x*[", "y"), Err(BadPattern));
    }

    #[test]
    fn clean_folds_dots_like_go() {
        assert_eq!(clean("supabase/./seed.sql"), "supabase/seed.sql");
        assert_eq!(clean("supabase/../x.sql"), "x.sql");
        assert_eq!(clean("../a"), "../a");
        assert_eq!(clean("/a/../../b"), "/b");
        assert_eq!(clean("./"), ".");
    }

    #[test]
    fn globs_walk_directories_in_sorted_order() {
        let dir = std::env::temp_dir().join(format!("edgesim-glob-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for f in ["seeds/b.sql", "seeds/a.sql", "seeds/c.txt", "more/x/1.sql"] {
            let p = dir.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
        }
        let names = |pat: &str| -> Vec<String> {
            glob(&dir, pat)
                .unwrap()
                .iter()
                .map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(names("seeds/*.sql"), ["seeds/a.sql", "seeds/b.sql"]);
        assert_eq!(names("./seeds/a.sql"), ["seeds/a.sql"]);
        assert_eq!(names("*/*/1.sql"), ["more/x/1.sql"]);
        assert!(names("nothing/*.sql").is_empty());
        assert!(names("seed.sql").is_empty());
        assert_eq!(glob(&dir, "seeds/[").unwrap_err(), BadPattern);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
