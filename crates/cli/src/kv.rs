//! `edgesim kv`: Workers KV from outside the Worker, with wrangler's commands and arguments.
//!
//! ```sh
//! edgesim kv key put /articles '[]' --binding ARTICLES     # or --path FILE for the value
//! edgesim kv key put k v --binding ARTICLES --ttl 3600 --metadata '{"by":"me"}'
//! edgesim kv key put k v --binding ARTICLES --expiration 1900000000
//! edgesim kv key get /articles --binding ARTICLES [--text]  # raw bytes (or UTF-8 text + newline)
//! edgesim kv key delete /articles --binding ARTICLES
//! edgesim kv key list --binding ARTICLES [--prefix /articles]  # [{name, expiration?, metadata?}]
//! edgesim kv bulk put pairs.json --binding ARTICLES   # [{key, value, expiration?, expiration_ttl?, metadata?, base64?}]
//! edgesim kv bulk delete keys.json --binding ARTICLES [--force]   # ["key", ...]
//! ```
//!
//! **Where they act.** Against a running `edgesim dev` on `127.0.0.1:--port` (default 8787,
//! like `edgesim dev`), through its `/__edgesim/kv/` control endpoints; when nothing listens
//! there, directly on its persisted state (`--persist-to`, default `.edgesim`, file
//! `kv.sqlite3`) with the wall clock. One line on stderr says which. The binding must be one the
//! dev server binds (or, offline, one the state file knows; a file that knows none yet takes any).
//!
//! **What a write does.** It lands in KV's central storage, as production's `wrangler kv`,
//! dashboard and REST API writes do ([`edgesim_kv::Namespace::put_central`]), and reaches each
//! colo like any write: a colo that has the key cached (a value, or "not found") keeps serving
//! that until its cacheTtl (60 s by default) runs out; others read the new value at once. `get`
//! and `list` read central. Validation and messages are the binding's (`--ttl` at least 60,
//! keys up to 512 bytes, values 25 MiB, metadata 1024 bytes), and KV's one write per key per
//! second applies (`KV PUT failed: 429 Too Many Requests`), counting the Worker's writes too.
//!
//! **Where we differ from wrangler.** `--binding` names the namespace (no `--namespace-id`,
//! `--preview` or `--remote`; `--local` is accepted and ignored). An invalid `--metadata` is an
//! error (wrangler drops it silently). `bulk put` decodes `base64` values, as the REST API does
//! (wrangler's local mode stores the base64 text). Offline, the one-write-per-second rule only
//! sees writes of the same command, and a dev server that runs on another port than `--port`
//! would not see offline writes until it restarts.

use anyhow::{Context, Result, bail};
use edgesim_core::{Clock, OffsetWallClock, SimRng};
use edgesim_host::control::{CONTROL_HEADER, METADATA_HEADER};
use edgesim_kv::{BulkWrite, KvConfig, KvStore, Namespace, PutOptions};
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `edgesim kv`.
#[derive(clap::Args)]
pub struct KvArgs {
    #[command(subcommand)]
    command: KvCommand,
}

#[derive(clap::Subcommand)]
enum KvCommand {
    /// Manage single key-value pairs (as `wrangler kv key`).
    #[command(subcommand)]
    Key(KeyCommand),
    /// Write or delete many pairs from a JSON file (as `wrangler kv bulk`).
    #[command(subcommand)]
    Bulk(BulkCommand),
}

#[derive(clap::Subcommand)]
enum KeyCommand {
    /// Write a single key/value pair to KV central.
    Put(PutArgs),
    /// Read a single value by key from KV central.
    Get(GetArgs),
    /// Remove a single key-value pair.
    Delete(KeyArgs),
    /// Output a list of all keys (JSON), optionally with a prefix.
    List(ListArgs),
}

#[derive(clap::Subcommand)]
enum BulkCommand {
    /// Upload key-value pairs from a JSON file: an array of {key, value, expiration?,
    /// expiration_ttl?, metadata?, base64?}.
    Put(BulkArgs),
    /// Delete the keys of a JSON file: an array of key strings.
    Delete(BulkDeleteArgs),
}

/// Which namespace, and where to reach it.
#[derive(clap::Args)]
struct Target {
    /// The binding of the namespace (a `kv_namespaces` binding of the project).
    #[arg(long, short = 'b')]
    binding: String,
    /// Port of the running `edgesim dev`.
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Its persisted state, used when no `edgesim dev` answers on the port.
    #[arg(long, default_value = ".edgesim")]
    persist_to: PathBuf,
    /// Accepted for wrangler compatibility: edgesim is always local.
    #[arg(long, hide = true)]
    local: bool,
}

#[derive(clap::Args)]
struct PutArgs {
    /// The key to write to.
    key: String,
    /// The value to write.
    #[arg(required_unless_present = "path", conflicts_with = "path")]
    value: Option<String>,
    /// Read the value from the file at this path.
    #[arg(long)]
    path: Option<PathBuf>,
    /// Arbitrary JSON associated with the key (at most 1024 bytes).
    #[arg(long)]
    metadata: Option<String>,
    /// Seconds until the pair expires (expirationTtl, at least 60).
    #[arg(long)]
    ttl: Option<u64>,
    /// When the pair expires, seconds since the UNIX epoch (at least 60 s from now).
    #[arg(long)]
    expiration: Option<u64>,
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
struct GetArgs {
    /// The key to read.
    key: String,
    /// Decode the value as UTF-8 text (and end it with a newline).
    #[arg(long)]
    text: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
struct KeyArgs {
    /// The key to delete.
    key: String,
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
struct ListArgs {
    /// Only keys starting with this.
    #[arg(long)]
    prefix: Option<String>,
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
struct BulkArgs {
    /// The JSON file of pairs to write.
    filename: PathBuf,
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
struct BulkDeleteArgs {
    /// The JSON file of keys to delete.
    filename: PathBuf,
    /// Do not ask for confirmation.
    #[arg(long, short = 'f')]
    force: bool,
    #[command(flatten)]
    target: Target,
}

/// Runs `edgesim kv`.
pub fn main(args: KvArgs) -> ExitCode {
    match run(args.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("edgesim kv: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: KvCommand) -> Result<()> {
    match command {
        KvCommand::Key(KeyCommand::Put(a)) => put(a),
        KvCommand::Key(KeyCommand::Get(a)) => {
            let value = Backend::open(&a.target, false)?.get(&a.key)?;
            match value {
                None => outln!("Value not found"),
                Some(v) if a.text => outln!("{}", String::from_utf8_lossy(&v)),
                Some(v) => {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(&v).and_then(|()| out.flush());
                }
            }
            Ok(())
        }
        KvCommand::Key(KeyCommand::Delete(a)) => {
            let backend = Backend::open(&a.target, true)?;
            outln!(
                "Deleting the key \"{}\" on namespace {}.",
                a.key,
                a.target.binding
            );
            backend.delete(&a.key)
        }
        KvCommand::Key(KeyCommand::List(a)) => {
            let keys = Backend::open(&a.target, false)?.list(a.prefix.as_deref())?;
            outln!("{}", serde_json::to_string_pretty(&keys)?);
            Ok(())
        }
        KvCommand::Bulk(BulkCommand::Put(a)) => {
            let pairs = read_bulk_pairs(&a.filename)?;
            Backend::open(&a.target, true)?.bulk_put(&pairs)?;
            outln!("Success!");
            Ok(())
        }
        KvCommand::Bulk(BulkCommand::Delete(a)) => {
            if !a.force && !confirm(&a.filename, &a.target.binding)? {
                outln!("Not deleting keys read from \"{}\".", a.filename.display());
                return Ok(());
            }
            let keys = read_bulk_keys(&a.filename)?;
            Backend::open(&a.target, true)?.bulk_delete(&keys)?;
            outln!("Success!");
            Ok(())
        }
    }
}

fn put(a: PutArgs) -> Result<()> {
    let metadata = a
        .metadata
        .as_deref()
        .map(|m| {
            serde_json::from_str::<serde_json::Value>(m)
                .with_context(|| format!("--metadata {m:?} is not JSON (quote strings: '\"x\"')"))
        })
        .transpose()?;
    let value = match (&a.path, &a.value) {
        (Some(path), _) => {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
        }
        (None, Some(v)) => v.clone().into_bytes(),
        (None, None) => bail!("give a VALUE or --path FILE"),
    };
    let opts = PutOptions {
        expiration: a.expiration,
        expiration_ttl: a.ttl,
        metadata,
    };
    let backend = Backend::open(&a.target, true)?;
    let with = opts
        .metadata
        .as_ref()
        .map(|m| format!(" with metadata \"{m}\""))
        .unwrap_or_default();
    match (&a.path, &a.value) {
        (Some(path), _) => outln!(
            "Writing the contents of {} to the key \"{}\" on namespace {}{with}.",
            path.display(),
            a.key,
            a.target.binding
        ),
        _ => outln!(
            "Writing the value \"{}\" to key \"{}\" on namespace {}{with}.",
            a.value.as_deref().unwrap_or_default(),
            a.key,
            a.target.binding
        ),
    }
    backend.put(&a.key, value, &opts)
}

/// Asks before a bulk delete, as wrangler does; without a terminal it goes ahead.
fn confirm(filename: &Path, binding: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(true);
    }
    eprint!(
        "Are you sure you want to delete all the keys read from \"{}\" from namespace {binding}? [y/n] ",
        filename.display()
    );
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

// ---- the JSON files of `kv bulk` ----

fn read_json(filename: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(filename)
        .with_context(|| format!("reading {}", filename.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}:{}: invalid JSON: {e}",
            filename.display(),
            e.line(),
            e.column()
        )
    })
}

/// JavaScript's `typeof` of a JSON value (wrangler's messages use it).
fn js_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::String(_) => "string",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::Bool(_) => "boolean",
        _ => "object",
    }
}

/// The pairs of a `kv bulk put` file, checked as wrangler checks them.
fn read_bulk_pairs(filename: &Path) -> Result<Vec<BulkWrite>> {
    let name = filename.display();
    let content = read_json(filename)?;
    let serde_json::Value::Array(items) = content else {
        bail!(
            "Unexpected JSON input from \"{name}\".\nExpected an array of key-value objects but got type \"{}\".",
            js_type(&content)
        );
    };
    let (mut errors, mut warnings, mut pairs) = (Vec::new(), Vec::new(), Vec::new());
    for (i, item) in items.iter().enumerate() {
        let shape_ok = item.as_object().is_some_and(|o| {
            let is = |k: &str, f: fn(&serde_json::Value) -> bool| o.get(k).is_none_or(f);
            o.get("key").is_some_and(serde_json::Value::is_string)
                && o.get("value").is_some_and(serde_json::Value::is_string)
                && is("expiration", serde_json::Value::is_number)
                && is("expiration_ttl", serde_json::Value::is_number)
                && is("base64", serde_json::Value::is_boolean)
        });
        if !shape_ok {
            errors.push(format!("The item at index {i} is {item}"));
            continue;
        }
        let known = [
            "key",
            "value",
            "expiration",
            "expiration_ttl",
            "metadata",
            "base64",
        ];
        let extra: Vec<&String> = item
            .as_object()
            .map(|o| o.keys().filter(|k| !known.contains(&k.as_str())).collect())
            .unwrap_or_default();
        if !extra.is_empty() {
            warnings.push(format!(
                "The item at index {i} contains unexpected properties: {}.",
                serde_json::to_string(&extra).unwrap_or_default()
            ));
        }
        match serde_json::from_value::<BulkWrite>(item.clone()) {
            Ok(p) => pairs.push(p),
            Err(e) => errors.push(format!("The item at index {i} is {item}: {e}")),
        }
    }
    if !warnings.is_empty() {
        eprintln!(
            "Unexpected key-value properties in \"{name}\".\n{}",
            warnings.join("\n")
        );
    }
    if !errors.is_empty() {
        bail!(
            "Unexpected JSON input from \"{name}\".\nEach item in the array should be an object that matches:\n\n\
             interface KeyValue {{\n  key: string;\n  value: string;\n  expiration?: number;\n  \
             expiration_ttl?: number;\n  metadata?: object;\n  base64?: boolean;\n}}\n\n{}",
            errors.join("\n")
        );
    }
    Ok(pairs)
}

/// The keys of a `kv bulk delete` file, checked as wrangler checks them.
fn read_bulk_keys(filename: &Path) -> Result<Vec<String>> {
    let name = filename.display();
    let content = read_json(filename)?;
    let serde_json::Value::Array(items) = content else {
        bail!(
            "Unexpected JSON input from \"{name}\".\nExpected an array of strings but got:\n{content}"
        );
    };
    let mut errors = Vec::new();
    let mut keys = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(k) => keys.push(k.to_string()),
            None => errors.push(format!(
                "The item at index {i} is type: \"{}\" - {item}",
                js_type(item)
            )),
        }
    }
    if !errors.is_empty() {
        bail!(
            "Unexpected JSON input from \"{name}\".\nExpected an array of strings.\n{}",
            errors.join("\n")
        );
    }
    Ok(keys)
}

// ---- where the commands act ----

/// A running `edgesim dev`, or its persisted state.
enum Backend {
    Dev { port: u16, binding: String },
    Persisted { store: KvStore, ns: Namespace },
}

impl Backend {
    /// The running dev server on `target.port`, else the persisted state (created for a write).
    fn open(target: &Target, writes: bool) -> Result<Backend> {
        let addr = SocketAddr::from(([127, 0, 0, 1], target.port));
        if TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok() {
            eprintln!("edgesim kv: using the running edgesim dev at http://{addr}");
            let backend = Backend::Dev {
                port: target.port,
                binding: target.binding.clone(),
            };
            return Ok(backend);
        }
        let path = target.persist_to.join("kv.sqlite3");
        let known = KvStore::persisted_namespaces(&path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        if !known.is_empty() && !known.contains(&target.binding) {
            bail!(
                "No KV namespace is bound as \"{}\" in {}. Known: {}.",
                target.binding,
                path.display(),
                known.join(", ")
            );
        }
        eprintln!(
            "edgesim kv: no edgesim dev answers on {addr}; using the persisted state {} (wall clock)",
            path.display()
        );
        let wall = OffsetWallClock::new();
        let config = KvConfig {
            namespaces: vec![target.binding.clone()],
            ..KvConfig::default()
        };
        let rng = SimRng::from_seed(0).fork("kv");
        let store = if path.exists() || writes {
            std::fs::create_dir_all(&target.persist_to)
                .with_context(|| format!("creating {}", target.persist_to.display()))?;
            KvStore::open_persistent(config, Arc::new(wall.clone()), rng, &path)
                .map_err(|e| anyhow::anyhow!("opening KV at {}: {e}", path.display()))?
        } else {
            // Nothing persisted yet: reads find an empty namespace, and no file is created.
            KvStore::new(config, Arc::new(wall.clone()), rng)
        };
        // As `edgesim dev` does: never act before writes an earlier session left in flight.
        if let Some(issued) = store.latest_in_flight_issue_ms()
            && issued >= wall.now_ms()
        {
            wall.advance(Duration::from_millis(issued + 1 - wall.now_ms()));
        }
        let ns = store
            .namespace(&target.binding)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Backend::Persisted { store, ns })
    }

    fn put(&self, key: &str, value: Vec<u8>, opts: &PutOptions) -> Result<()> {
        match self {
            Backend::Dev { port, binding } => {
                let mut query = Vec::new();
                if let Some(e) = opts.expiration {
                    query.push(format!("expiration={e}"));
                }
                if let Some(t) = opts.expiration_ttl {
                    query.push(format!("expiration_ttl={t}"));
                }
                let mut path = key_path(binding, key);
                if !query.is_empty() {
                    path = format!("{path}?{}", query.join("&"));
                }
                let meta = opts.metadata.as_ref().map(|m| ascii_json(&m.to_string()));
                let headers: Vec<(&str, &str)> = meta
                    .as_deref()
                    .map(|m| vec![(METADATA_HEADER, m)])
                    .unwrap_or_default();
                expect_ok(http(*port, "PUT", &path, &headers, &value)?)
            }
            Backend::Persisted { store, ns } => {
                let r = ns.put_central(key, value, opts).map(drop);
                finish(store, r)
            }
        }
    }

    fn delete(&self, key: &str) -> Result<()> {
        match self {
            Backend::Dev { port, binding } => {
                expect_ok(http(*port, "DELETE", &key_path(binding, key), &[], &[])?)
            }
            Backend::Persisted { store, ns } => finish(store, ns.delete_central(key).map(drop)),
        }
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Backend::Dev { port, binding } => {
                let path = format!("{}?value", key_path(binding, key));
                let reply = http(*port, "GET", &path, &[], &[])?;
                if reply.status == 404 && reply.body.starts_with(b"Value not found") {
                    return Ok(None);
                }
                let body = ok_body(reply)?;
                Ok(Some(body))
            }
            Backend::Persisted { ns, .. } => Ok(ns
                .get_central(key)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .map(|v| v.value)),
        }
    }

    fn list(&self, prefix: Option<&str>) -> Result<serde_json::Value> {
        match self {
            Backend::Dev { port, binding } => {
                let mut path = format!("/__edgesim/kv/{}", encode(binding));
                if let Some(p) = prefix {
                    path = format!("{path}?prefix={}", encode(p));
                }
                let body = ok_body(http(*port, "GET", &path, &[], &[])?)?;
                serde_json::from_slice(&body).context("edgesim dev's key list is not JSON")
            }
            Backend::Persisted { ns, .. } => {
                let keys = ns
                    .keys_central(prefix)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                Ok(keys
                    .iter()
                    .map(edgesim_host::control::wrangler_key)
                    .collect())
            }
        }
    }

    fn bulk_put(&self, pairs: &[BulkWrite]) -> Result<()> {
        match self {
            Backend::Dev { port, binding } => {
                let body = serde_json::to_vec(pairs)?;
                let path = format!("/__edgesim/kv/{}", encode(binding));
                expect_ok(http(*port, "PUT", &path, &[], &body)?)
            }
            Backend::Persisted { store, ns } => finish(store, ns.put_central_bulk(pairs).map(drop)),
        }
    }

    fn bulk_delete(&self, keys: &[String]) -> Result<()> {
        match self {
            Backend::Dev { port, binding } => {
                let body = serde_json::to_vec(keys)?;
                let path = format!("/__edgesim/kv/{}", encode(binding));
                expect_ok(http(*port, "DELETE", &path, &[], &body)?)
            }
            Backend::Persisted { store, ns } => {
                finish(store, ns.delete_central_bulk(keys).map(drop))
            }
        }
    }
}

/// A write's result on the persisted state; the file is checkpointed after it.
fn finish(store: &KvStore, r: Result<(), edgesim_kv::KvError>) -> Result<()> {
    r.map_err(|e| anyhow::anyhow!("{e}"))?;
    store
        .checkpoint()
        .map_err(|e| anyhow::anyhow!("checkpointing KV: {e}"))
}

fn key_path(binding: &str, key: &str) -> String {
    format!("/__edgesim/kv/{}/{}", encode(binding), encode(key))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// JSON text with every non-ASCII character escaped (`\uXXXX`), so it fits in a header.
fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// A response from `edgesim dev`.
struct Reply {
    status: u16,
    body: Vec<u8>,
}

fn expect_ok(reply: Reply) -> Result<()> {
    ok_body(reply).map(drop)
}

fn ok_body(reply: Reply) -> Result<Vec<u8>> {
    if reply.status == 200 {
        return Ok(reply.body);
    }
    bail!("{}", String::from_utf8_lossy(&reply.body).trim_end())
}

/// One HTTP/1.1 request to `127.0.0.1:port`; the reply must come from edgesim's control
/// endpoints (`x-edgesim: control`).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Reply> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let io = |e: std::io::Error| anyhow::anyhow!("talking to edgesim dev at {addr}: {e}");
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(io)?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(body).map_err(io)?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(io)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("{addr} did not answer HTTP ({:?})", line.trim_end()))?;
    let (mut control, mut chunked, mut length) = (false, false, None);
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).map_err(io)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            control |= k == CONTROL_HEADER && v == "control";
            chunked |= k == "transfer-encoding" && v.contains("chunked");
            if k == "content-length" {
                length = v.parse::<usize>().ok();
            }
        }
    }
    let mut raw = Vec::new();
    match (chunked, length) {
        (false, Some(n)) => {
            raw.resize(n, 0);
            reader.read_exact(&mut raw).map_err(io)?;
        }
        _ => {
            reader.read_to_end(&mut raw).map_err(io)?;
        }
    }
    let body = if chunked { dechunk(&raw) } else { raw };
    if !control {
        let text = String::from_utf8_lossy(&body);
        bail!(
            "something answers on {addr}, but not edgesim dev's control endpoints ({status}: {}); pass the --port edgesim dev listens on",
            text.lines().next().unwrap_or_default().trim()
        );
    }
    Ok(Reply { status, body })
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&raw[..pos])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_keys_for_paths_and_metadata_for_headers() {
        assert_eq!(encode("/articles/2"), "%2Farticles%2F2");
        assert_eq!(encode("a b?é"), "a%20b%3F%C3%A9");
        assert_eq!(
            ascii_json(r#"{"t":"é😀"}"#),
            r#"{"t":"\u00e9\ud83d\ude00"}"#
        );
        let back: serde_json::Value = serde_json::from_str(&ascii_json(r#"{"t":"é😀"}"#)).unwrap();
        assert_eq!(back["t"], "é😀");
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
    }

    fn file(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("edgesim-kv-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn bulk_files_are_checked_as_wrangler_checks_them() {
        let p = file("bad.json", "[\n  {\"key\": \"a\",\n");
        let e = read_bulk_pairs(&p).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}:3:", p.display())), "{e}");
        let p = file("obj.json", "{}");
        let e = read_bulk_pairs(&p).unwrap_err().to_string();
        assert!(e.contains("but got type \"object\""), "{e}");
        let p = file(
            "items.json",
            r#"[{"key":"a","value":"1"},{"key":"b","value":2}]"#,
        );
        let e = read_bulk_pairs(&p).unwrap_err().to_string();
        assert!(
            e.contains(r#"The item at index 1 is {"key":"b","value":2}"#),
            "{e}"
        );
        let p = file(
            "good.json",
            r#"[{"key":"a","value":"1","expiration_ttl":60,"metadata":{"m":1},"base64":false,"x":1}]"#,
        );
        let pairs = read_bulk_pairs(&p).unwrap();
        assert_eq!(pairs[0].expiration_ttl, Some(60));
        let p = file("keys.json", r#"["a", 1]"#);
        let e = read_bulk_keys(&p).unwrap_err().to_string();
        assert!(
            e.contains(r#"The item at index 1 is type: "number" - 1"#),
            "{e}"
        );
    }
}
