//! Finding a user's project as the tools they already use find it: the wrangler file in the
//! directory (or `--config`, told from an `edgesim.toml` by its keys), `edgesim.toml` beside it,
//! and the Supabase project the way the Supabase CLI finds it: `supabase/` in the project
//! directory or a parent, up to the repository root.

use crate::{Settings, WorldError};
use edgesim_supabase::migrate::Project;
use edgesim_workers::wrangler;
use std::path::{Path, PathBuf};

/// Where the Supabase project comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SupabaseSource {
    /// The embedded demo project (the course's `articles` table and its webhook).
    Demo,
    /// A directory holding `supabase/` (Supabase CLI layout).
    Dir(PathBuf),
}

impl SupabaseSource {
    /// `[api] port` of the project's `supabase/config.toml` (the Supabase CLI's default, 54321,
    /// for the demo or a project without one), read without loading the project.
    pub fn api_port(&self) -> Result<u16, WorldError> {
        let default = edgesim_supabase::migrate::cliconfig::DEFAULT_API_PORT;
        let SupabaseSource::Dir(dir) = self else {
            return Ok(default);
        };
        let file = dir.join("supabase").join("config.toml");
        if !file.is_file() {
            return Ok(default);
        }
        edgesim_supabase::migrate::CliConfig::load(&file)
            .map(|(config, _)| config.api.port)
            .map_err(|e| WorldError::Supabase(e.to_string()))
    }

    /// Reads the project, and a label for messages.
    pub fn load(&self) -> Result<(Project, String), WorldError> {
        match self {
            SupabaseSource::Demo => Ok((
                edgesim_supabase::demo_project(),
                "the embedded demo project".to_string(),
            )),
            SupabaseSource::Dir(dir) => {
                let sb = dir.join("supabase");
                if !sb.is_dir() {
                    return Err(WorldError::Supabase(format!(
                        "{}: no such directory (a Supabase project is a directory holding supabase/, as `supabase init` makes it)",
                        sb.display()
                    )));
                }
                let project = Project::from_dir(dir)
                    .map_err(|e| WorldError::Supabase(format!("{}: {e}", sb.display())))?;
                Ok((project, sb.display().to_string()))
            }
        }
    }
}

/// The files of a project, found from a directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// The wrangler file.
    pub wrangler: Option<PathBuf>,
    /// The `edgesim.toml`.
    pub settings: Option<PathBuf>,
}

impl Layout {
    /// The project in `dir`; `config` (`--config`) names either file, told apart by its keys.
    pub fn find(dir: &Path, config: Option<&Path>) -> Result<Layout, WorldError> {
        let mut layout = Layout::default();
        if let Some(path) = config {
            let text = std::fs::read_to_string(path)
                .map_err(|e| WorldError::Config(format!("{}: {e}", path.display())))?;
            if wrangler::looks_like_wrangler(path, &text) {
                layout.wrangler = Some(path.to_path_buf());
                let beside = path.parent().unwrap_or(Path::new(".")).join("edgesim.toml");
                layout.settings = beside.is_file().then_some(beside);
            } else {
                layout.settings = Some(path.to_path_buf());
                layout.wrangler = wrangler::find_in(path.parent().unwrap_or(Path::new(".")))
                    .or_else(|| wrangler::find_in(dir));
            }
            return Ok(layout);
        }
        let settings = dir.join("edgesim.toml");
        layout.settings = settings.is_file().then_some(settings);
        layout.wrangler = wrangler::find_in(dir);
        Ok(layout)
    }

    /// The `edgesim.toml` settings (defaults when there is none).
    pub fn settings(&self) -> Result<Settings, WorldError> {
        match &self.settings {
            Some(p) => Settings::load(p),
            None => Ok(Settings::default()),
        }
    }
}

/// The Supabase project of a project directory, found as the Supabase CLI finds it (see
/// [`edgesim_supabase::migrate::find_project`]), from `start`.
pub fn find_supabase(start: &Path) -> Option<PathBuf> {
    let start = if start.as_os_str().is_empty() {
        Path::new(".")
    } else {
        start
    };
    let abs = std::fs::canonicalize(start).ok()?;
    edgesim_supabase::migrate::find_project(&abs)
}

/// Which Supabase project a world uses, in order: `explicit` (`--supabase DIR`, a scenario's
/// `[supabase] project`), the settings' `supabase`, the project found from `project_dir`
/// (none for the embedded Workers), else the demo.
pub fn choose_supabase(
    explicit: Option<&Path>,
    settings: &Settings,
    project_dir: Option<&Path>,
) -> SupabaseSource {
    if let Some(dir) = explicit.or(settings.supabase.as_deref()) {
        return SupabaseSource::Dir(dir.to_path_buf());
    }
    match project_dir.and_then(find_supabase) {
        Some(dir) => SupabaseSource::Dir(dir),
        None => SupabaseSource::Demo,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("edgesim-world-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn config_is_told_by_its_keys() {
        let d = temp("layout");
        std::fs::write(d.join("staging.toml"), "main = \"src/a.ts\"\n").unwrap();
        std::fs::write(d.join("edgesim.toml"), "name = \"x\"\n").unwrap();
        let l = Layout::find(&d, Some(&d.join("staging.toml"))).unwrap();
        assert_eq!(l.wrangler, Some(d.join("staging.toml")));
        assert_eq!(l.settings, Some(d.join("edgesim.toml")));
        std::fs::write(d.join("wrangler.toml"), "main = \"src/a.ts\"\n").unwrap();
        std::fs::write(d.join("mine.toml"), "[[colos]]\ncode = \"SYD\"\n").unwrap();
        let l = Layout::find(&d, Some(&d.join("mine.toml"))).unwrap();
        assert_eq!(l.settings, Some(d.join("mine.toml")));
        assert_eq!(l.wrangler, Some(d.join("wrangler.toml")));
        let l = Layout::find(&d, None).unwrap();
        assert_eq!(l.wrangler, Some(d.join("wrangler.toml")));
        assert_eq!(l.settings, Some(d.join("edgesim.toml")));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn the_api_port_comes_from_config_toml() {
        let d = temp("port");
        std::fs::create_dir_all(d.join("supabase")).unwrap();
        let dir = SupabaseSource::Dir(d.clone());
        assert_eq!(dir.api_port(), Ok(54321));
        std::fs::write(d.join("supabase/config.toml"), "[api]\nport = 54400\n").unwrap();
        assert_eq!(dir.api_port(), Ok(54400));
        assert_eq!(SupabaseSource::Demo.api_port(), Ok(54321));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_missing_supabase_dir_is_named() {
        let e = SupabaseSource::Dir(PathBuf::from("/no/such/place"))
            .load()
            .unwrap_err()
            .to_string();
        assert!(e.contains("/no/such/place/supabase"), "{e}");
    }

    #[test]
    fn explicit_beats_settings_beats_discovery() {
        let d = temp("choose");
        std::fs::create_dir_all(d.join("supabase/migrations")).unwrap();
        std::fs::create_dir_all(d.join(".git")).unwrap();
        std::fs::create_dir_all(d.join("worker/src")).unwrap();
        let s = Settings::default();
        let found = choose_supabase(None, &s, Some(&d.join("worker")));
        assert_eq!(
            found,
            SupabaseSource::Dir(std::fs::canonicalize(&d).unwrap())
        );
        assert_eq!(choose_supabase(None, &s, None), SupabaseSource::Demo);
        let s = Settings {
            supabase: Some(PathBuf::from("/x")),
            ..Settings::default()
        };
        assert_eq!(
            choose_supabase(None, &s, Some(&d)),
            SupabaseSource::Dir("/x".into())
        );
        assert_eq!(
            choose_supabase(Some(Path::new("/y")), &s, Some(&d)),
            SupabaseSource::Dir("/y".into())
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
