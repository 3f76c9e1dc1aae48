//! What `edgesim dev` prints at start, like `supabase status`: the URLs and keys, the colos, the
//! Supabase project with its migrations and tables, where webhooks go, the crons, and how to
//! inspect the Worker's own KV bindings.

use edgesim_supabase::Supabase;
use edgesim_world::Plan;
use std::fmt::Write as _;

/// Everything the banner shows.
pub struct Status<'a> {
    pub name: &'a str,
    pub worker: &'a str,
    pub worker_url: &'a str,
    pub supabase_url: &'a str,
    pub plan: &'a Plan,
    pub supabase: &'a Supabase,
    pub dir: &'a str,
    pub seed: u64,
    /// The project's declared routes (`edgesim.routes.toml`), by pattern.
    pub routes: &'a [String],
}

/// The banner's text.
pub fn render(s: &Status<'_>) -> String {
    let mut out = String::new();
    let colos: Vec<&str> = s.plan.host.colos.iter().map(|c| c.code.as_str()).collect();
    let _ = writeln!(out, "{} is running.\n", s.name);
    let _ = writeln!(out, "         Worker URL: {}", s.worker_url);
    let _ = writeln!(out, "             Worker: {}", s.worker);
    let _ = writeln!(
        out,
        "              Colos: {} (default {}; pick with header x-edgesim-colo)",
        colos.join(", "),
        s.plan.host.default_colo
    );
    let _ = writeln!(out, "       Supabase URL: {}", s.supabase_url);
    let _ = writeln!(out, "            API URL: {}/rest/v1", s.supabase_url);
    let _ = writeln!(out, "           Auth URL: {}/auth/v1", s.supabase_url);
    let _ = writeln!(out, "   Supabase project: {}", s.plan.project_label);
    let migrations = s.plan.project.migrations.len();
    let mut tables = s.supabase.table_names();
    tables.sort();
    let _ = writeln!(
        out,
        "         Migrations: {migrations}; tables: {}",
        if tables.is_empty() {
            "none".to_string()
        } else {
            tables.join(", ")
        }
    );
    let _ = writeln!(out, "           anon key: {}", edgesim_supabase::ANON_KEY);
    let _ = writeln!(
        out,
        "   service_role key: {}",
        edgesim_supabase::SERVICE_ROLE_KEY
    );
    let hooks = s.supabase.hooks();
    if hooks.is_empty() {
        let _ = writeln!(out, "           Webhooks: none");
    }
    for (i, h) in hooks.iter().enumerate() {
        let route = match s.plan.router.route(&h.url) {
            edgesim_world::WebhookRoute::Worker { path_and_query } => {
                format!("the Worker at {} {path_and_query}", s.plan.webhook_colo)
            }
            edgesim_world::WebhookRoute::External { host } => {
                format!("outside host {host} (outbound rules)")
            }
            edgesim_world::WebhookRoute::Invalid(why) => format!("nowhere: {why}"),
        };
        let _ = writeln!(
            out,
            "{}{} {} -> {route}",
            if i == 0 {
                "           Webhooks: "
            } else {
                "                     "
            },
            h.name,
            h.url
        );
    }
    if !s.plan.crons.is_empty() {
        let crons: Vec<&str> = s.plan.crons.iter().map(|c| c.expr.as_str()).collect();
        let _ = writeln!(
            out,
            "              Crons: {} (test one: curl '{}/__scheduled?cron=*+*+*+*+*')",
            crons.join(" | "),
            s.worker_url
        );
    }
    let _ = writeln!(
        out,
        "       Advance time: curl -X POST '{}/__edgesim/time/advance?seconds=60'",
        s.worker_url
    );
    if let Some(first) = s.routes.first() {
        let _ = writeln!(
            out,
            "             Routes: {} declared (edgesim.routes.toml); a route's KV key: curl '{}/__edgesim/route?path={first}'",
            s.routes.len(),
            s.worker_url
        );
    }
    match s.plan.host.kv_bindings.first() {
        Some(b) => {
            let _ = writeln!(
                out,
                "      Inspect a key: curl '{}/__edgesim/kv/{b}/<key>'   (bindings: {})",
                s.worker_url,
                s.plan.host.kv_bindings.join(", ")
            );
            let _ = writeln!(
                out,
                "          Put a key: edgesim kv key put <key> <value> --binding {b} --port {}",
                s.worker_url.rsplit(':').next().unwrap_or("8787")
            );
        }
        None => {
            let _ = writeln!(out, "                 KV: no bindings");
        }
    }
    let instances = &s.plan.host.instances;
    let most = |n: Option<usize>| n.map_or("unbounded".to_string(), |n| n.to_string());
    let _ = writeln!(
        out,
        "          Instances: at most {} ({} live requests, {} idle kept); GET {}/__edgesim/status",
        most(instances.max_instances),
        most(instances.max_live),
        instances.max_idle,
        s.worker_url
    );
    let _ = writeln!(out, "              State: {}", s.dir);
    let _ = writeln!(out, "               Seed: {}", s.seed);
    let _ = writeln!(out);
    out
}
