//! Shared helpers for edgesim's end-to-end tests (spawning the `edgesim` binary, waiting for ports).
//!
//! Plain blocking std networking: the tests talk HTTP/1.1 over loopback like curl does.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The mock Supabase's service_role key (the Supabase CLI's default, printed by `edgesim dev`).
pub const SERVICE_ROLE_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

/// A free loopback port (bound, then released; good enough for tests that start at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// A response as the tests see it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// Body text (lossy UTF-8).
    pub body: String,
}

impl Reply {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

/// Sends one HTTP/1.1 request to `127.0.0.1:port` and reads the whole response.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.unwrap_or("");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let mut raw = Vec::new();
    reader.read_to_end(&mut raw)?;
    let bytes = if chunked { dechunk(&raw) } else { raw };
    Ok(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = raw.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&raw[..pos]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        raw = &raw[pos + 2..];
        if size == 0 || raw.len() < size {
            break;
        }
        out.extend_from_slice(&raw[..size]);
        raw = raw.get(size + 2..).unwrap_or_default();
    }
    out
}

/// Waits until something accepts connections on `port`, up to `timeout`.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A spawned process whose stdout and stderr are collected line by line; killed on drop.
pub struct Spawned {
    /// The process.
    pub child: Child,
    output: Arc<Mutex<String>>,
}

impl Spawned {
    /// Spawns `command` with its stdout and stderr piped into [`Spawned::output`].
    pub fn spawn(mut command: Command) -> Spawned {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", command.get_program()));
        let output = Arc::new(Mutex::new(String::new()));
        let pipes: [Option<Box<dyn Read + Send>>; 2] = [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ];
        for pipe in pipes.into_iter().flatten() {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut o = output.lock().unwrap_or_else(|e| e.into_inner());
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        Spawned { child, output }
    }

    /// Everything the process printed so far (stdout and stderr interleaved by line).
    pub fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits up to `timeout` for `needle` to appear in the output; false if it does not, or if
    /// the process exits first.
    pub fn wait_for_output(&mut self, needle: &str, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.output().contains(needle) {
                return true;
            }
            if self.child.try_wait().ok().flatten().is_some() {
                // Let the pipe readers drain what it printed last.
                std::thread::sleep(Duration::from_millis(100));
                return self.output().contains(needle);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// The port of the first `<label> http://127.0.0.1:<port>` line printed, waiting up to
    /// `timeout` for it. Servers started on port 0 say where they listen this way, so tests
    /// never race other processes for a port.
    pub fn wait_for_port_line(&mut self, label: &str, timeout: Duration) -> Option<u16> {
        if !self.wait_for_output(label, timeout) {
            return None;
        }
        let out = self.output();
        let rest = &out[out.find(label)? + label.len()..];
        let line = rest.lines().next()?;
        let port = line.trim().strip_prefix("http://127.0.0.1:")?;
        let digits: String = port.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }

    /// Sends SIGTERM and waits (up to 20 s) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        terminate(&mut self.child, Duration::from_secs(20))
    }

    /// Kills the process and waits for it (also done on drop).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A running `edgesim dev`, killed on drop. Its stdout and stderr are collected.
pub struct DevServer {
    process: Spawned,
    /// The Worker's port.
    pub port: u16,
    /// The mock Supabase's port.
    pub supabase_port: u16,
}

impl DevServer {
    /// Starts `binary dev` with state in `state_dir` and extra `args`, and waits until the
    /// status banner is printed (building and compiling the Worker may take a while). It listens
    /// on ports the OS picks; the banner says which.
    pub fn start(binary: &Path, state_dir: &Path, args: &[&str]) -> DevServer {
        Self::start_in(binary, None, state_dir, args)
    }

    /// [`DevServer::start`] with `cwd` as the working directory (a wrangler project, say).
    pub fn start_in(
        binary: &Path,
        cwd: Option<&Path>,
        state_dir: &Path,
        args: &[&str],
    ) -> DevServer {
        // The first server of a test binary starts alone: JS Workers share most of their compiled
        // code (wasmtime's function cache), so the others then find it cached instead of all
        // compiling the same engine at once on a fresh machine.
        static FIRST: Mutex<bool> = Mutex::new(false);
        let mut first = FIRST.lock().unwrap_or_else(|e| e.into_inner());
        if *first {
            drop(first);
            return Self::spawn_and_wait(binary, cwd, state_dir, args);
        }
        let server = Self::spawn_and_wait(binary, cwd, state_dir, args);
        *first = true;
        server
    }

    fn spawn_and_wait(
        binary: &Path,
        cwd: Option<&Path>,
        state_dir: &Path,
        args: &[&str],
    ) -> DevServer {
        let mut command = Command::new(binary);
        if let Some(dir) = cwd {
            command.current_dir(dir);
        }
        command
            .arg("dev")
            .args(["--port", "0", "--supabase-port", "0"])
            .arg("--persist-to")
            .arg(state_dir)
            .args(args)
            .env("RUST_LOG", "info");
        let mut process = Spawned::spawn(command);
        let deadline = Duration::from_secs(300);
        let ports = process
            .wait_for_port_line("Worker URL:", deadline)
            .zip(process.wait_for_port_line("Supabase URL:", Duration::from_secs(10)));
        match ports {
            Some((port, supabase_port)) if process.child.try_wait().ok().flatten().is_none() => {
                DevServer {
                    process,
                    port,
                    supabase_port,
                }
            }
            _ => panic!("edgesim dev did not start:\n{}", process.output()),
        }
    }

    /// Everything the server printed so far (stdout and stderr interleaved by line).
    pub fn output(&self) -> String {
        self.process.output()
    }

    /// `GET path` at `colo` (header `x-edgesim-colo`); panics, with the server's output, when it
    /// cannot be sent.
    pub fn get_at(&self, colo: &str, path: &str) -> Reply {
        request(self.port, "GET", path, &[("x-edgesim-colo", colo)], None)
            .unwrap_or_else(|e| panic!("GET {path} at {colo}: {e}\n{}", self.output()))
    }

    /// [`DevServer::get_at`], asserting a 200 (the server's output in the message otherwise).
    pub fn get_ok(&self, colo: &str, path: &str) -> Reply {
        let r = self.get_at(colo, path);
        assert_eq!(
            r.status,
            200,
            "GET {path} at {colo}: {}\n{}",
            r.body,
            self.output()
        );
        r
    }

    /// Moves the emulator clock `seconds` ahead (`POST /__edgesim/time/advance`), asserting 200.
    pub fn advance(&self, seconds: u64) {
        let path = format!("/__edgesim/time/advance?seconds={seconds}");
        let r = request(self.port, "POST", &path, &[], None)
            .unwrap_or_else(|e| panic!("POST {path}: {e}\n{}", self.output()));
        assert_eq!(r.status, 200, "POST {path}: {}", r.body);
    }

    /// `PATCH path` with the JSON `body` on the mock Supabase, as service_role.
    pub fn supabase_patch(&self, path: &str, body: &str) -> Reply {
        let auth = format!("Bearer {SERVICE_ROLE_KEY}");
        let headers = [
            ("apikey", SERVICE_ROLE_KEY),
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ];
        request(self.supabase_port, "PATCH", path, &headers, Some(body))
            .unwrap_or_else(|e| panic!("PATCH {path}: {e}\n{}", self.output()))
    }

    /// `PATCH path` with `body` as service_role (asserting success), then waits up to `timeout`
    /// for `logged` in the output: the walkthrough's step whose Database Webhook the Worker
    /// handles in waitUntil (`logged` names that work's line).
    pub fn patch_and_await(&mut self, path: &str, body: &str, logged: &str, timeout: Duration) {
        let r = self.supabase_patch(path, body);
        assert!(r.status < 300, "PATCH {path}: {} {}", r.status, r.body);
        assert!(
            self.wait_for_output(logged, timeout),
            "no {logged:?} after PATCH {path}:\n{}",
            self.output()
        );
    }

    /// Waits up to `timeout` for `needle` to appear in the output.
    pub fn wait_for_output(&mut self, needle: &str, timeout: Duration) -> bool {
        self.process.wait_for_output(needle, timeout)
    }

    /// Sends SIGTERM and waits (up to 20 s) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.process.terminate()
    }

    /// Stops the server (also done on drop).
    pub fn stop(&mut self) {
        self.process.stop();
    }
}

/// A running `edgesim supabase --dir <project> [extra args]` on a port the OS picks, killed on
/// drop.
pub struct SupabaseServer {
    /// The process (its output is collected).
    pub process: Spawned,
    /// The API port.
    pub port: u16,
}

impl SupabaseServer {
    /// Starts it and waits (up to 60 s) until it prints its API URL.
    pub fn start(binary: &Path, project: &Path, extra: &[&str]) -> SupabaseServer {
        let mut command = Command::new(binary);
        command
            .arg("supabase")
            .arg("--dir")
            .arg(project)
            .args(["--port", "0"])
            .args(extra);
        let mut process = Spawned::spawn(command);
        match process.wait_for_port_line("API URL:", Duration::from_secs(60)) {
            Some(port) => SupabaseServer { process, port },
            None => panic!("edgesim supabase did not start:\n{}", process.output()),
        }
    }

    /// Everything it printed so far.
    pub fn output(&self) -> String {
        self.process.output()
    }
}

/// Sends SIGTERM to `child` (with `kill -TERM`) and waits up to `timeout` for it to exit;
/// panics past that.
pub fn terminate(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill -TERM {} failed", child.id());
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        assert!(
            start.elapsed() < timeout,
            "no exit {timeout:?} after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh, empty directory in the system temp dir, removed when dropped.
pub struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A copy of the project at `from` in a fresh directory (its sources: no `node_modules` or
/// `.edgesim` state), with `npm ci` run in it, as a user would after cloning it.
pub fn copy_project(from: &Path, name: &str) -> TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("create a directory");
        for e in std::fs::read_dir(from).expect("read the project") {
            let e = e.expect("a directory entry");
            if e.file_name() == "node_modules" || e.file_name() == ".edgesim" {
                continue;
            }
            let target = to.join(e.file_name());
            if e.file_type().expect("a file type").is_dir() {
                copy(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), &target).expect("copy a file");
            }
        }
    }
    let dir = temp_dir(name);
    copy(from, &dir);
    npm_ci_if_needed(&dir);
    dir
}

/// A fresh, empty directory, unique per call (declare it before the server using it, so the
/// server stops first).
pub fn temp_dir(name: &str) -> TempDir {
    static N: Mutex<u32> = Mutex::new(0);
    let n = {
        let mut n = N.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        *n
    };
    let dir = std::env::temp_dir().join(format!("edgesim-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("cannot create a temp dir");
    TempDir(dir)
}

pub use edgesim_testkit::npm_ci_if_needed;
