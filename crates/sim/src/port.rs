//! Shipped scenarios speak the course's terms: requests to `/articles` and `/articles/2`, and
//! scripted writes such as `update articles set title = ... where id = 2`. Run against a
//! project that declares its own routes over other tables (`edgesim.routes.toml`), a scenario
//! that declares no routes of its own is *ported*: its workload requests the project's routes
//! instead of course paths none of them matches, and each scripted write to `articles` becomes
//! the same kind of write to the project's tracked table (an update of the same row id, a
//! delete of it, or an insert copied from a row), at the same time and with the same webhook
//! fate, so the scenario's fault still meets the user's own data.

use crate::routes::Route;

/// The course's table, which the shipped scenarios write.
pub const COURSE_TABLE: &str = "articles";

/// A scripted write to the course's table, by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CourseWrite {
    /// `update articles ... where id = N`.
    Update {
        /// The row id.
        id: String,
    },
    /// `delete from articles where id = N`.
    Delete {
        /// The row id.
        id: String,
    },
    /// `insert into articles ...`.
    Insert,
}

/// Whether a scenario with `own_routes` (its `[[routes]]`) run with `routes` (what the run
/// tracks) is ported: it declares none, the project does, and none of them reads `articles`.
pub fn is_ported(own_routes: usize, routes: &[Route]) -> bool {
    own_routes == 0 && !routes.is_empty() && !routes.iter().any(|r| r.table() == COURSE_TABLE)
}

/// The course write `sql` is, when it is one statement writing the course's table.
pub fn course_write(sql: &str) -> Option<CourseWrite> {
    let words: Vec<String> = sql
        .trim()
        .trim_end_matches(';')
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let table = |w: Option<&String>| {
        w.map(|t| t.trim_start_matches("public.").trim_matches('"') == COURSE_TABLE)
            .unwrap_or(false)
    };
    let id = || {
        let at = words.iter().rposition(|w| w == "where")?;
        match &words[at + 1..] {
            [col, eq, v] if col == "id" && eq == "=" => Some(v.trim_matches('\'').to_string()),
            [cond] => cond
                .strip_prefix("id=")
                .map(|v| v.trim_matches('\'').to_string()),
            _ => None,
        }
    };
    match words.first().map(String::as_str) {
        Some("update") if table(words.get(1)) => Some(CourseWrite::Update { id: id()? }),
        Some("delete")
            if words.get(1).map(String::as_str) == Some("from") && table(words.get(2)) =>
        {
            Some(CourseWrite::Delete { id: id()? })
        }
        Some("insert") if words.get(1).map(String::as_str) == Some("into") => {
            let name = words
                .get(2)
                .map(|t| t.split('(').next().unwrap_or(t).to_string());
            table(name.as_ref()).then_some(CourseWrite::Insert)
        }
        _ => None,
    }
}

/// The paths workload `paths` keeps when ported: those a declared route matches. `None` when
/// none was dropped (nothing to port).
pub fn kept_paths(paths: &[String], routes: &[Route]) -> Option<Vec<String>> {
    let kept: Vec<String> = paths
        .iter()
        .filter(|p| crate::routes::route_for_path(routes, p).is_some())
        .cloned()
        .collect();
    (kept.len() < paths.len()).then_some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn course_writes_are_recognised_by_kind_and_row() {
        assert_eq!(
            course_write("update articles set title = 'cool second blog' where id = 2"),
            Some(CourseWrite::Update { id: "2".into() })
        );
        assert_eq!(
            course_write("UPDATE public.articles SET content = 'x' WHERE id=1;"),
            Some(CourseWrite::Update { id: "1".into() })
        );
        assert_eq!(
            course_write("delete from articles where id = 3"),
            Some(CourseWrite::Delete { id: "3".into() })
        );
        assert_eq!(
            course_write("insert into articles (title, content) values ('a', 'b')"),
            Some(CourseWrite::Insert)
        );
        assert_eq!(
            course_write("update products set price = 1 where id = 2"),
            None
        );
        assert_eq!(course_write("update articles set title = 'x'"), None);
        assert_eq!(course_write("select 1"), None);
    }
}
