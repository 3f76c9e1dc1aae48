//! Foreign key constraint names: SQLite does not report them, so they are read back from the
//! table's DDL, and unnamed keys get the name Postgres would have chosen.

use crate::migrate::lex::{Tok, tokenize};

/// Postgres's identifier length limit (`NAMEDATALEN - 1`).
const MAX_IDENT: usize = 63;

/// The name Postgres gives an unnamed foreign key: `<table>_<col>[_<col>...]_fkey`, the longer
/// of the two parts shortened until the whole fits in 63 bytes (`makeObjectName`).
pub fn default_fk_name(table: &str, cols: &[String]) -> String {
    let mut name1: Vec<char> = table.chars().collect();
    let mut name2: Vec<char> = cols.join("_").chars().collect();
    let avail = MAX_IDENT - "fkey".len() - 2;
    let bytes = |v: &[char]| v.iter().map(|c| c.len_utf8()).sum::<usize>();
    while bytes(&name1) + bytes(&name2) > avail {
        if bytes(&name1) > bytes(&name2) {
            name1.pop();
        } else {
            name2.pop();
        }
    }
    format!(
        "{}_{}_fkey",
        name1.iter().collect::<String>(),
        name2.iter().collect::<String>()
    )
}

/// The named foreign keys of a `CREATE TABLE` statement: (local columns, constraint name), from
/// `constraint x foreign key (a, b) references ...` and `col type constraint x references ...`.
pub fn declared_fk_names(ddl: &str) -> Vec<(Vec<String>, String)> {
    let Ok(toks) = tokenize(ddl) else {
        return Vec::new();
    };
    let Some(open) = toks.iter().position(|t| t.is_p("(")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in top_level_items(&toks[open + 1..]) {
        if item.len() < 2 {
            continue;
        }
        if item[0].is("constraint") {
            let (Some(name), true, true) = (
                item[1].name(),
                item.get(2).is_some_and(|t| t.is("foreign")),
                item.get(3).is_some_and(|t| t.is("key")),
            ) else {
                continue;
            };
            let cols = paren_names(&item[4..]);
            if !cols.is_empty() {
                out.push((cols, name));
            }
            continue;
        }
        if ["primary", "unique", "foreign", "check"]
            .iter()
            .any(|k| item[0].is(k))
        {
            continue;
        }
        let Some(col) = item[0].name() else { continue };
        for w in item.windows(3) {
            if w[0].is("constraint")
                && w[2].is("references")
                && let Some(name) = w[1].name()
            {
                out.push((vec![col.clone()], name));
            }
        }
    }
    out
}

/// The comma-separated items of a parenthesised list (the tokens after its `(`), up to its `)`.
fn top_level_items(toks: &[Tok]) -> Vec<Vec<Tok>> {
    let mut out = vec![Vec::new()];
    let mut depth = 0usize;
    for t in toks {
        if t.is_p("(") {
            depth += 1;
        } else if t.is_p(")") {
            if depth == 0 {
                break;
            }
            depth -= 1;
        } else if t.is_p(",") && depth == 0 {
            out.push(Vec::new());
            continue;
        }
        if let Some(last) = out.last_mut() {
            last.push(t.clone());
        }
    }
    out.retain(|i| !i.is_empty());
    out
}

/// The names in a leading `(a, b)`.
fn paren_names(toks: &[Tok]) -> Vec<String> {
    if !toks.first().is_some_and(|t| t.is_p("(")) {
        return Vec::new();
    }
    toks[1..]
        .iter()
        .take_while(|t| !t.is_p(")"))
        .filter_map(Tok::name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_declared_names_and_defaults_like_postgres() {
        let ddl = "CREATE TABLE \"posts\" (id INTEGER PRIMARY KEY, author_id int8 CONSTRAINT posts_writer REFERENCES \"profiles\"(id), editor_id int8 REFERENCES profiles, a int8, b int8, CONSTRAINT pair_fk FOREIGN KEY (a, b) REFERENCES pairs(x, y), FOREIGN KEY (editor_id) REFERENCES profiles(id))";
        assert_eq!(
            declared_fk_names(ddl),
            vec![
                (vec!["author_id".to_string()], "posts_writer".to_string()),
                (
                    vec!["a".to_string(), "b".to_string()],
                    "pair_fk".to_string()
                ),
            ]
        );
        assert_eq!(
            default_fk_name("posts", &["author_id".into()]),
            "posts_author_id_fkey"
        );
        let long = default_fk_name(&"t".repeat(40), &["c".repeat(40)]);
        assert_eq!(long.len(), 63);
        assert!(long.ends_with("_fkey"));
    }
}
