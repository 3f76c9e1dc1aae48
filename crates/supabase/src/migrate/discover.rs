//! Finding the project directory as the Supabase CLI does: from the working directory upwards.

use std::path::{Path, PathBuf};

/// Whether `dir` holds a Supabase project: a `supabase/` with `config.toml` or `migrations/`.
pub fn is_project(dir: &Path) -> bool {
    let sb = dir.join("supabase");
    sb.join("config.toml").is_file() || sb.join("migrations").is_dir()
}

/// The directory holding the project's `supabase/`: `start` itself, else the nearest parent
/// that holds one, stopping at the repository root (a directory containing `.git`, which is
/// still searched) or the filesystem root. A relative `start` is taken from the working
/// directory; the result is then absolute.
pub fn find_project(start: &Path) -> Option<PathBuf> {
    let start = if start.is_absolute() {
        start.to_path_buf()
    } else {
        std::path::absolute(start).ok()?
    };
    for dir in start.ancestors() {
        if is_project(dir) {
            return Some(dir.to_path_buf());
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("edgesim-discover-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn finds_the_project_in_start_or_a_parent() {
        let root = tmp("nested");
        std::fs::create_dir_all(root.join("app/supabase/migrations")).unwrap();
        std::fs::create_dir_all(root.join("app/src/deep")).unwrap();
        assert_eq!(find_project(&root.join("app")), Some(root.join("app")));
        assert_eq!(
            find_project(&root.join("app/src/deep")),
            Some(root.join("app"))
        );
        // A config.toml alone is enough; the nearest project wins.
        std::fs::create_dir_all(root.join("app/src/supabase")).unwrap();
        std::fs::write(root.join("app/src/supabase/config.toml"), "").unwrap();
        assert_eq!(
            find_project(&root.join("app/src/deep")),
            Some(root.join("app/src"))
        );
        // A supabase/ with neither is not a project.
        std::fs::create_dir_all(root.join("app/src/deep/supabase")).unwrap();
        assert_eq!(
            find_project(&root.join("app/src/deep")),
            Some(root.join("app/src"))
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn stops_at_the_repository_root() {
        let root = tmp("git");
        std::fs::create_dir_all(root.join("supabase/migrations")).unwrap();
        std::fs::create_dir_all(root.join("repo/.git")).unwrap();
        std::fs::create_dir_all(root.join("repo/pkg")).unwrap();
        assert_eq!(find_project(&root.join("repo/pkg")), None);
        // The repository root itself is searched.
        std::fs::create_dir_all(root.join("repo/supabase/migrations")).unwrap();
        assert_eq!(
            find_project(&root.join("repo/pkg")),
            Some(root.join("repo"))
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn none_when_no_directory_up_to_the_root_holds_one() {
        let root = tmp("none");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join(".git"), "gitdir: elsewhere").unwrap();
        assert_eq!(find_project(&root.join("a/b")), None);
        let _ = std::fs::remove_dir_all(&root);
    }
}
