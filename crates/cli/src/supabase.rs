//! `edgesim supabase`: serve a mock Supabase project (PostgREST + Database Webhooks) on loopback.

use edgesim_core::{OffsetWallClock, SharedClock};
use edgesim_supabase::{
    ANON_KEY, HttpDispatcher, JWT_SECRET, PUBLISHABLE_KEY, SECRET_KEY, SERVICE_ROLE_KEY, Supabase,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `edgesim supabase`.
#[derive(clap::Args)]
pub struct SupabaseArgs {
    /// Project directory in Supabase CLI layout (`supabase/config.toml`, `supabase/migrations`,
    /// `supabase/seed.sql`, `supabase/webhooks.toml`). Without it, the project the Supabase CLI
    /// would find (the working directory or a parent, up to the repository root), else
    /// `fixtures/supabase` if present, else the embedded demo.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Port on 127.0.0.1 (default: `[api] port` of `supabase/config.toml`, else 54321).
    #[arg(long)]
    port: Option<u16>,
    /// SQLite database file (in-memory when absent).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Load the project, print what was translated, emulated, accepted and skipped (with
    /// file:line), and exit: non-zero when data statements were affected.
    #[arg(long)]
    check: bool,
}

/// The `supabase status`-style summary.
pub fn status_text(port: u16) -> String {
    let api = format!("http://127.0.0.1:{port}");
    [
        ("API URL", api.clone()),
        ("REST URL", format!("{api}/rest/v1")),
        ("Deliveries", format!("{api}/__edgesim/deliveries")),
        ("Publishable key", PUBLISHABLE_KEY.to_string()),
        ("Secret key", SECRET_KEY.to_string()),
        ("JWT secret", JWT_SECRET.to_string()),
        ("anon key", ANON_KEY.to_string()),
        ("service_role key", SERVICE_ROLE_KEY.to_string()),
    ]
    .iter()
    .map(|(k, v)| format!("{k:>17}: {v}"))
    .collect::<Vec<_>>()
    .join("\n")
}

/// What `--check` prints: the full load report and a verdict.
pub fn check_text(what: &str, report: &edgesim_supabase::migrate::report::LoadReport) -> String {
    let verdict = if report.has_errors() {
        "data statements were affected: some rows of the migrations or seed are missing"
    } else if report.warnings().next().is_some() {
        "loaded; the skipped statements above are not emulated"
    } else {
        "loaded with no warning"
    };
    format!(
        "Load report for {what}:\n{}{verdict}\n",
        report.render_full()
    )
}

/// The project directory to open: `dir` (`--dir`), else the one [`find_project`] finds from
/// `cwd` (relative to `cwd` when under it), else `fixtures/supabase` (relative to `cwd`) if
/// present, else none (the embedded demo).
///
/// [`find_project`]: edgesim_supabase::migrate::find_project
pub fn project_dir(dir: Option<&Path>, cwd: &Path) -> Option<PathBuf> {
    if let Some(d) = dir {
        return Some(d.to_path_buf());
    }
    if let Some(found) = edgesim_supabase::migrate::find_project(cwd) {
        let abs_cwd = std::path::absolute(cwd).unwrap_or_else(|_| cwd.to_path_buf());
        return Some(match found.strip_prefix(&abs_cwd) {
            Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
            Ok(rel) => rel.to_path_buf(),
            Err(_) => found,
        });
    }
    let fixtures = cwd.join("fixtures/supabase");
    fixtures
        .is_dir()
        .then(|| PathBuf::from("fixtures/supabase"))
}

/// The port to listen on: `--port`, else the project's `[api] port`.
pub fn listen_port(arg: Option<u16>, sb: &Supabase) -> u16 {
    arg.unwrap_or_else(|| sb.api_port())
}

/// Opens the project `args` names (see [`project_dir`]); returns it with a description for
/// the banner.
fn open_project(
    args: &SupabaseArgs,
    clock: SharedClock,
    dispatcher: Arc<HttpDispatcher>,
) -> Result<(Supabase, String), String> {
    let dir = project_dir(args.dir.as_deref(), Path::new("."));
    let sb = match &dir {
        Some(d) => Supabase::open(d, args.db.as_deref(), clock, dispatcher.clone()),
        None if args.db.is_none() => Supabase::demo(clock, dispatcher.clone()),
        None => return Err("--db needs a project directory (--dir)".into()),
    }
    .map_err(|e| e.to_string())?;
    dispatcher.attach(&sb);
    let what = dir.map_or("the embedded demo project".to_string(), |d| {
        d.display().to_string()
    });
    Ok((sb, what))
}

/// Runs `edgesim supabase`.
pub fn main(args: SupabaseArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("edgesim supabase: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let clock: SharedClock = Arc::new(OffsetWallClock::new());
    let dispatcher = HttpDispatcher::new(rt.handle().clone());
    let (sb, what) = match open_project(&args, clock, dispatcher) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("edgesim supabase: {e}");
            return ExitCode::FAILURE;
        }
    };
    for w in sb.warnings() {
        eprintln!("warning: {w}");
    }
    let report = sb.load_report();
    if args.check {
        print!("{}", check_text(&what, report));
        return if report.has_errors() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    eprint!("{}", report.render_warnings());
    rt.block_on(async move {
        let want = listen_port(args.port, &sb);
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", want)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("edgesim supabase: cannot listen on 127.0.0.1:{want}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let port = listener.local_addr().map_or(want, |a| a.port());
        println!("Serving {} (mock Supabase).\n", sb.summary());
        if !sb.settings().api.enabled {
            eprintln!(
                "warning: [api] enabled = false: the Supabase CLI starts no API; /rest/v1 answers 404"
            );
        }
        println!("{}", status_text(port));
        // SIGTERM or Ctrl-C: stop accepting, let requests in flight finish (bounded), then
        // checkpoint the database so the file is complete on its own.
        let served = edgesim_supabase::serve_with_shutdown(
            listener,
            sb.clone(),
            edgesim_http::shutdown_signal(),
        )
        .await;
        if let Err(e) = served {
            eprintln!("edgesim supabase: {e}");
            return ExitCode::FAILURE;
        }
        if let Err(e) = sb.checkpoint() {
            eprintln!("edgesim supabase: checkpointing the database: {e}");
            return ExitCode::FAILURE;
        }
        eprintln!("edgesim supabase: stopped");
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn http(addr: std::net::SocketAddr, raw: &str) -> String {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    /// The fixtures project as `edgesim supabase --dir fixtures/supabase` opens it: the second
    /// row over HTTP, and a PATCH delivering the webhook to the (re-pointed) URL.
    #[test]
    fn serves_the_fixture_project_and_delivers_its_webhook() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/supabase");
        let args = SupabaseArgs {
            dir: Some(dir),
            port: Some(0),
            db: None,
            check: false,
        };
        let clock: SharedClock = Arc::new(edgesim_core::ManualClock::new());
        let (sb, _) = open_project(&args, clock, HttpDispatcher::new(rt.handle().clone())).unwrap();
        let hook = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        sb.set_webhook_url(
            Some("articles_revalidate"),
            &format!("http://{}/revalidate", hook.local_addr().unwrap()),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let served = sb.clone();
        std::thread::spawn(move || {
            rt.block_on(async move {
                let l = tokio::net::TcpListener::from_std(listener).unwrap();
                edgesim_supabase::serve(l, served).await.unwrap();
            })
        });
        let resp = http(
            addr,
            &format!(
                "GET /rest/v1/articles?select=*&id=eq.2 HTTP/1.1\r\nHost: x\r\napikey: {ANON_KEY}\r\nConnection: close\r\n\r\n"
            ),
        );
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        assert!(
            resp.contains("[{\"id\":2,\"title\":\"second blog\""),
            "{resp}"
        );
        let body = r#"{"title":"cool second blog"}"#;
        let resp = http(
            addr,
            &format!(
                "PATCH /rest/v1/articles?id=eq.2 HTTP/1.1\r\nHost: x\r\napikey: {ANON_KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        );
        assert!(resp.starts_with("HTTP/1.1 204"), "{resp}");
        let (mut conn, _) = hook.accept().unwrap();
        let mut buf = vec![0u8; 8192];
        let mut got = String::new();
        while !got.contains("\"old_record\": {") || !got.ends_with("}}") {
            let n = conn.read(&mut buf).unwrap();
            assert!(n > 0, "connection closed early: {got}");
            got.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        assert!(got.starts_with("POST /revalidate HTTP/1.1"), "{got}");
        assert!(
            got.to_ascii_lowercase().contains("user-agent: pg_net/"),
            "{got}"
        );
        assert!(got.contains("{\"type\": \"UPDATE\", \"table\": \"articles\", \"record\": {\"id\": 2, \"title\": \"cool second blog\""), "{got}");
    }

    /// `--check` on a project with unsupported statements names each with file:line and says
    /// that data was affected.
    #[test]
    fn check_names_unsupported_statements_with_file_and_line() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../supabase/tests/projects/unsupported");
        let sb = Supabase::open(
            &dir,
            None,
            Arc::new(edgesim_core::ManualClock::new()),
            Arc::new(edgesim_supabase::NoopDispatcher),
        )
        .unwrap();
        let text = check_text("unsupported", sb.load_report());
        assert!(
            text.contains("20240401000000_mixed.sql:7: table `bookings` skipped: `/rest/v1/bookings` answers PGRST205"),
            "{text}"
        );
        assert!(
            text.contains("seed.sql:4: `select` statement ERROR, not applied"),
            "{text}"
        );
        assert!(text.contains("table `rooms` translated"), "{text}");
        assert!(
            text.ends_with(
                "data statements were affected: some rows of the migrations or seed are missing\n"
            ),
            "{text}"
        );
        assert!(sb.load_report().has_errors());
    }

    #[test]
    fn status_lists_urls_and_keys() {
        let s = status_text(54321);
        assert!(s.contains("REST URL: http://127.0.0.1:54321/rest/v1"));
        assert!(s.contains(ANON_KEY) && s.contains(PUBLISHABLE_KEY) && s.contains(JWT_SECRET));
    }

    /// `--dir` wins; else the project found from the working directory (up to the repository
    /// root), shown relative to it; else `fixtures/supabase`; else the demo.
    #[test]
    fn the_project_directory_is_found_as_the_cli_finds_it() {
        let root = std::env::temp_dir().join(format!("edgesim-cli-find-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("repo/.git")).unwrap();
        std::fs::create_dir_all(root.join("repo/app/supabase/migrations")).unwrap();
        std::fs::create_dir_all(root.join("repo/app/src")).unwrap();
        std::fs::create_dir_all(root.join("repo/fixtures/supabase")).unwrap();
        let given = PathBuf::from("/somewhere");
        assert_eq!(
            project_dir(Some(&given), &root.join("repo/app/src")),
            Some(given.clone())
        );
        assert_eq!(
            project_dir(None, &root.join("repo/app/src")),
            Some(root.join("repo/app"))
        );
        assert_eq!(
            project_dir(None, &root.join("repo/app")),
            Some(PathBuf::from("."))
        );
        // Not found below the repository root: the fixtures of the working directory.
        assert_eq!(
            project_dir(None, &root.join("repo")),
            Some(PathBuf::from("fixtures/supabase"))
        );
        std::fs::remove_dir_all(root.join("repo/fixtures")).unwrap();
        assert_eq!(project_dir(None, &root.join("repo")), None);
        let _ = std::fs::remove_dir_all(&root);
    }

    /// Without `--port`, the port of `[api] port` in `supabase/config.toml`.
    #[test]
    fn the_port_defaults_to_the_config_toml_api_port() {
        let root = std::env::temp_dir().join(format!("edgesim-cli-port-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("supabase")).unwrap();
        std::fs::write(
            root.join("supabase/config.toml"),
            "project_id = \"p\"\n[api]\nport = 54999\n",
        )
        .unwrap();
        let open = || {
            Supabase::open(
                &root,
                None,
                Arc::new(edgesim_core::ManualClock::new()),
                Arc::new(edgesim_supabase::NoopDispatcher),
            )
            .unwrap()
        };
        assert_eq!(listen_port(None, &open()), 54999);
        assert_eq!(listen_port(Some(4000), &open()), 4000);
        std::fs::remove_file(root.join("supabase/config.toml")).unwrap();
        assert_eq!(listen_port(None, &open()), 54321);
        let _ = std::fs::remove_dir_all(&root);
    }
}
