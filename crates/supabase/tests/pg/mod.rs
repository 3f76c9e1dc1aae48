//! A throwaway PostgreSQL cluster for differential tests, with Supabase's roles and `auth`
//! functions, and a runner that executes many cases (each in its own rolled-back transaction,
//! as a given role with given JWT claims) in one `psql` session.
//!
//! PostgreSQL comes from Debian's `postgresql` package, installed by `scripts/postgres.sh` when
//! missing. Without it the caller skips with a visible line, except under `CI=true`, where a
//! missing PostgreSQL is a failure. An installed PostgreSQL whose cluster does not start is
//! always a failure. Each cluster has its own directory (process id and a counter), as the tests
//! of one file run concurrently in one process.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Supabase's roles, `auth` schema functions and a case runner, applied before the migrations.
pub const SUPABASE_PRELUDE: &str = r#"
create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;
create schema auth;
grant usage on schema public, auth to anon, authenticated, service_role;
create table auth.users (
  id uuid primary key,
  email text,
  raw_user_meta_data jsonb default '{}'::jsonb,
  created_at timestamptz default now()
);
create function auth.uid() returns uuid language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
create function auth.role() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;
create function auth.jwt() returns jsonb language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;
create function auth.email() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;
-- Runs one case: the rows of `q` as a JSON array, or {"error": SQLSTATE}.
create schema edgesim;
grant usage on schema edgesim to anon, authenticated, service_role;
create function edgesim.run_case(q text) returns text language plpgsql as $$
declare r text;
begin
  -- json_agg separates rows with a newline; strings never hold a raw one (JSON escapes it).
  execute 'select replace(coalesce(json_agg(t), ''[]'')::text, chr(10), '' '') from (' || q || ') t' into r;
  return r;
exception when others then
  return json_build_object('error', sqlstate, 'message', sqlerrm)::text;
end
$$;
grant execute on function edgesim.run_case(text) to anon, authenticated, service_role;
-- Runs one write case: `w` (a DML statement with RETURNING), then `q` (the state afterwards):
-- {"returned": rows of w, "state": rows of q}, or {"error": SQLSTATE}.
create function edgesim.run_write_case(w text, q text) returns text language plpgsql as $$
declare r text;
begin
  execute 'with t as (' || w || ') select replace(coalesce(json_agg(t), ''[]'')::text, chr(10), '' '') from t' into r;
  return json_build_object('returned', r::json, 'state', edgesim.run_case(q)::json)::text;
exception when others then
  return json_build_object('error', sqlstate, 'message', sqlerrm)::text;
end
$$;
grant execute on function edgesim.run_write_case(text, text) to anon, authenticated, service_role;
"#;

/// Grants Supabase gives its roles on a project's tables (run after the migrations).
pub const SUPABASE_GRANTS: &str = r#"
grant all on all tables in schema public to anon, authenticated, service_role;
grant all on all sequences in schema public to anon, authenticated, service_role;
grant all on all functions in schema public to anon, authenticated, service_role;
grant select on all tables in schema auth to anon, authenticated, service_role;
"#;

/// The role a case runs as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The anon key.
    Anon,
    /// A signed-in user (JWT with `role: authenticated` and `sub`).
    Authenticated,
    /// The service role key (bypasses RLS).
    Service,
}

impl Role {
    /// The Postgres role name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Anon => "anon",
            Role::Authenticated => "authenticated",
            Role::Service => "service_role",
        }
    }
}

/// One query to run in Postgres as `role` with JWT `claims` (a JSON object).
#[derive(Clone, Debug)]
pub struct PgCase {
    /// The role.
    pub role: Role,
    /// The JWT claims (`request.jwt.claims`).
    pub claims: serde_json::Value,
    /// A SELECT whose rows are the result.
    pub sql: String,
    /// A write (DML with RETURNING) run first: the result is then `{"returned": its rows,
    /// "state": rows of sql}`.
    pub write: Option<String>,
}

/// A running throwaway cluster.
pub struct Pg {
    dir: PathBuf,
    bindir: PathBuf,
    port: u16,
    run_as: Option<&'static str>,
}

/// Why PostgreSQL could not be used.
#[derive(Debug)]
pub enum Unavailable {
    /// PostgreSQL is not installed and `scripts/postgres.sh` could not install it: the caller
    /// may skip (visibly; a failure under `CI=true`).
    Missing(String),
    /// PostgreSQL is installed but the cluster did not start: a failure of the harness, never
    /// a skip (else a broken harness would turn every comparison into a passing test).
    Broken(String),
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl Pg {
    /// Installs PostgreSQL if needed (`scripts/postgres.sh`), creates a cluster in a temp
    /// directory (C.UTF-8 collation, UTC) and starts it on a Unix socket only.
    pub fn start() -> Result<Pg, Unavailable> {
        let started = Instant::now();
        let pg = Self::start_inner()?;
        eprintln!("pg: cluster ready in {:?}", started.elapsed());
        Ok(pg)
    }

    fn start_inner() -> Result<Pg, Unavailable> {
        let out = Command::new("bash")
            .arg(repo_root().join("scripts/postgres.sh"))
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| Unavailable::Missing(format!("cannot run scripts/postgres.sh: {e}")))?;
        if !out.status.success() {
            return Err(Unavailable::Missing(
                "scripts/postgres.sh could not provide PostgreSQL".into(),
            ));
        }
        let bindir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string());
        // The server refuses to run as root: use the `postgres` account the package creates.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        let run_as = root.then_some("postgres");
        // One directory per cluster: the tests of one file run in one process, concurrently.
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("edgesim-pg-{}-{seq}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Unavailable::Broken(format!("{}: {e}", dir.display())))?;
        if let Some(user) = run_as {
            let ok = Command::new("chown")
                .args([user, &dir.display().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(Unavailable::Broken(format!(
                    "cannot chown {} to {user}",
                    dir.display()
                )));
            }
        }
        let port = 40000 + (std::process::id() % 20000) as u16;
        let pg = Pg {
            dir,
            bindir,
            port,
            run_as,
        };
        let data = pg.dir.join("data");
        pg.run(
            "initdb",
            &[
                "-D",
                &data.display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
        )?;
        let opts = format!(
            "-k {} -p {} -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c timezone=UTC -c jit=off",
            pg.dir.display(),
            pg.port
        );
        pg.run(
            "pg_ctl",
            &[
                "-D",
                &data.display().to_string(),
                "-o",
                &opts,
                "-l",
                &pg.dir.join("log").display().to_string(),
                "-w",
                "-t",
                "30",
                "start",
            ],
        )?;
        Ok(pg)
    }

    fn command(&self, tool: &str) -> Command {
        let bin = self.bindir.join(tool);
        match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(bin);
                c
            }
            None => Command::new(bin),
        }
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), Unavailable> {
        let out = self
            .command(tool)
            .args(args)
            .current_dir(&self.dir)
            .output()
            .map_err(|e| Unavailable::Broken(format!("cannot run {tool}: {e}")))?;
        if out.status.success() {
            Ok(())
        } else {
            let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
            Err(Unavailable::Broken(format!(
                "{tool} failed: {}{}\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )))
        }
    }

    /// Runs a SQL script with `psql` (stops at the first error) and returns its output.
    pub fn exec(&self, sql: &str) -> Result<String, String> {
        self.psql(sql, true)
    }

    fn psql(&self, sql: &str, stop_on_error: bool) -> Result<String, String> {
        let file = self.dir.join("script.sql");
        std::fs::write(&file, sql).map_err(|e| e.to_string())?;
        let psql = self.bindir.join("psql");
        let psql = if psql.is_file() {
            psql
        } else {
            PathBuf::from("psql")
        };
        let out = Command::new(psql)
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-h",
                &self.dir.display().to_string(),
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                if stop_on_error {
                    "ON_ERROR_STOP=1"
                } else {
                    "ON_ERROR_STOP=0"
                },
                "-f",
                &file.display().to_string(),
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(format!(
                "psql failed:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(stdout)
    }

    /// Runs every case (each in a transaction that is rolled back, as its role with its claims)
    /// and returns each result: the rows as a JSON array, or `{"error": SQLSTATE, ...}`.
    pub fn run_cases(&self, cases: &[PgCase]) -> Result<Vec<serde_json::Value>, String> {
        let mut script = String::new();
        for (i, c) in cases.iter().enumerate() {
            let claims = c.claims.to_string().replace('\'', "''");
            let call = match &c.write {
                None => format!("edgesim.run_case({})", dollar_quote(&c.sql)),
                Some(w) => format!(
                    "edgesim.run_write_case({}, {})",
                    dollar_quote(w),
                    dollar_quote(&c.sql)
                ),
            };
            script.push_str(&format!(
                "begin;\nselect set_config('request.jwt.claims', '{claims}', true) \\g /dev/null\nset local role {};\nselect '#{i}#' || {call};\nrollback;\n",
                c.role.name(),
            ));
        }
        let started = Instant::now();
        let out = self.psql(&script, false)?;
        let mut results = vec![None; cases.len()];
        for line in out.lines() {
            let Some(rest) = line.strip_prefix('#') else {
                continue;
            };
            let Some((i, json)) = rest.split_once('#') else {
                continue;
            };
            let i: usize = i.parse().map_err(|_| format!("bad line {line}"))?;
            let v = serde_json::from_str(json).map_err(|e| format!("case {i}: {e}: {json}"))?;
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(v);
            }
        }
        eprintln!("pg: {} cases ran in {:?}", cases.len(), started.elapsed());
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.ok_or_else(|| format!("no result for case {i}: {}", cases[i].sql)))
            .collect()
    }

    /// The data directory (for logs in failure messages).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// `$q$...$q$` with a tag that does not occur in `s`.
fn dollar_quote(s: &str) -> String {
    let mut tag = String::from("q");
    while s.contains(&format!("${tag}$")) {
        tag.push('q');
    }
    format!("${tag}${s}${tag}$")
}

impl Drop for Pg {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .current_dir(&self.dir)
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts PostgreSQL, or records a visible skip (`edgesim_testkit::require_tool`) and returns
/// `None` when it is missing; under `CI=true` a missing PostgreSQL fails the test instead. An
/// installed PostgreSQL whose cluster does not start fails the test (never a skip).
pub fn start_or_skip(test: &str) -> Option<Pg> {
    match Pg::start() {
        Ok(pg) => Some(pg),
        Err(Unavailable::Broken(why)) => {
            panic!("{test}: PostgreSQL is installed but its cluster did not start: {why}")
        }
        Err(Unavailable::Missing(why)) => {
            edgesim_testkit::require_tool(
                test,
                "postgresql",
                false,
                &format!("scripts/postgres.sh installs Debian's postgresql package ({why})"),
            );
            None
        }
    }
}

/// Writes `s` to stderr (for long diagnostics).
pub fn note(s: &str) {
    let _ = std::io::stderr().write_all(s.as_bytes());
}
