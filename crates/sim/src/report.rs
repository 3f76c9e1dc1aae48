//! The HTML report: one self-contained file (inline SVG and CSS, no network) with, per key, a
//! timeline per colo of the version served against the database's version, faults marked.

use crate::check::{Status, ms};
use crate::events::{Event, EventKind, Served};
use crate::history::DbHistory;
use crate::runner::RunResult;
use crate::track::{Resource, Tracker};
use std::fmt::Write as _;

const WIDTH: f64 = 1100.0;
const LEFT: f64 = 90.0;
const ROW: f64 = 26.0;

/// What a colo showed over an interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shown {
    Current(u64),
    Stale(u64),
    Phantom,
    Error,
}

impl Shown {
    fn color(self) -> &'static str {
        match self {
            Shown::Current(_) => "#2f9e44",
            Shown::Stale(_) => "#e8590c",
            Shown::Phantom => "#9c36b5",
            Shown::Error => "#868e96",
        }
    }
    fn label(self) -> String {
        match self {
            Shown::Current(v) => format!("v{v} (current)"),
            Shown::Stale(v) => format!("v{v} (stale)"),
            Shown::Phantom => "phantom".into(),
            Shown::Error => "error".into(),
        }
    }
    fn short(self) -> String {
        match self {
            Shown::Current(v) | Shown::Stale(v) => format!("v{v}"),
            Shown::Phantom => "?!".into(),
            Shown::Error => "err".into(),
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

struct Scale {
    end: u64,
}

impl Scale {
    fn x(&self, t: u64) -> f64 {
        LEFT + (t.min(self.end) as f64) / (self.end.max(1) as f64) * (WIDTH - LEFT - 30.0)
    }
}

/// Segments (from, to, shown) per colo for one resource.
fn segments(
    events: &[Event],
    history: &DbHistory,
    tracker: &Tracker,
    res: &Resource,
    colo: &str,
    end: u64,
) -> Vec<(u64, u64, Shown)> {
    let mut points: Vec<(u64, Shown)> = Vec::new();
    for e in events {
        if let EventKind::RequestEnd {
            colo: c,
            path,
            served,
            ..
        } = &e.kind
        {
            if &**c != colo || tracker.resource(path).as_ref() != Some(res) {
                continue;
            }
            let shown = match served {
                Served::Version(v) if *v == tracker.current_at(history, res, e.t_ms) => {
                    Shown::Current(*v)
                }
                Served::Version(v) => Shown::Stale(*v),
                Served::Phantom => Shown::Phantom,
                Served::Error => Shown::Error,
                Served::Untracked => continue,
            };
            points.push((e.t_ms, shown));
        }
    }
    let mut out: Vec<(u64, u64, Shown)> = Vec::new();
    for (i, (t, s)) in points.iter().enumerate() {
        let next = points.get(i + 1).map_or(end, |p| p.0);
        match out.last_mut() {
            Some(last) if last.2 == *s => last.1 = next,
            _ => out.push((*t, next, *s)),
        }
    }
    out
}

/// Renders the report for one run.
pub fn html(r: &RunResult, scenario_path: &str, tracker: &Tracker) -> String {
    let empty = DbHistory::new("id", Vec::new(), 0);
    let history = r.history.as_ref().unwrap_or(&empty);
    let end = r.virtual_ms.max(1);
    let scale = Scale { end };
    let mut resources = vec![Resource::List];
    resources.extend(history.tables().into_iter().map(Resource::Table));
    for id in history.row_ids() {
        let res = Resource::Row(id);
        let requested = r.events.iter().any(|e| {
            matches!(&e.kind,
            EventKind::RequestEnd { path, .. } if tracker.resource(path).as_ref() == Some(&res))
        });
        if requested {
            resources.push(res);
        }
    }
    let variant = r.variant.map_or("component", |v| v.name());
    let verdict = if r.passed() { "PASS" } else { "FAIL" };
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html><html><head><meta charset="utf-8"><title>edgesim {name} seed {seed}</title>
<style>
body{{font:14px system-ui,sans-serif;margin:20px;color:#212529}}
h1{{font-size:20px}} h2{{font-size:16px;margin-top:28px}}
.pass{{color:#2f9e44}} .fail{{color:#e03131}}
pre{{background:#f1f3f5;padding:10px;overflow-x:auto;font-size:12px}}
.legend span{{display:inline-block;padding:2px 8px;margin-right:8px;color:#fff;border-radius:3px}}
svg text{{font:11px ui-monospace,monospace}}
table.props{{border-collapse:collapse}} table.props td,table.props th{{border:1px solid #dee2e6;padding:4px 8px;text-align:left;vertical-align:top}}
pre.witness{{background:#fff3bf;margin:0}}
</style></head><body>
<h1>{name} &middot; seed {seed} &middot; {variant} Worker &middot; <span class="{cls}">{verdict}</span></h1>
<p>{vt} of virtual time in {wall} ms of wall time; {req} requests; colos {colos}. Faults healed and writes settled at t={healed}.</p>
<p>Replay: <code>edgesim run {path} --seed {seed} --worker {variant}</code> &middot; event log digest <code>{digest}</code></p>
<div class="legend"><span style="background:#2f9e44">current</span><span style="background:#e8590c">stale</span><span style="background:#9c36b5">phantom</span><span style="background:#868e96">error</span><span style="background:#fa5252;opacity:.5">fault window</span> &#9660; webhook (red: dropped) &middot; dashed line: convergence deadline</div>
"#,
        name = esc(&r.scenario),
        seed = r.seed,
        cls = verdict.to_lowercase(),
        vt = ms(r.virtual_ms),
        wall = r.wall_ms,
        req = r.requests,
        colos = esc(&r.colos.join(", ")),
        healed = ms(r.healed_ms),
        path = esc(scenario_path),
        digest = r.digest,
    );
    h.push_str(&properties_table(r));
    if !r.violations.is_empty() {
        h.push_str("<h2>Violations (minimal witness)</h2><pre>");
        for v in &r.violations {
            let _ = writeln!(h, "{}", esc(&v.to_string()));
        }
        h.push_str("</pre>");
    }
    for res in &resources {
        let path = tracker.path_of(res);
        let key = tracker.kv_key(&path);
        let title = if key == path {
            path.clone()
        } else {
            format!("{path} · KV key {key}")
        };
        let _ = write!(h, "<h2>{}</h2>", esc(&title));
        h.push_str(&timeline(r, history, tracker, res, &path, &scale));
    }
    h.push_str("<h2>Event log</h2><details><summary>show</summary><pre>");
    h.push_str(&esc(&r.event_text()));
    h.push_str("</pre></details></body></html>\n");
    h
}

/// One row per property: verdict, whether it fails the run, and its witness (highlighted on the
/// timelines below with a yellow outline).
fn properties_table(r: &RunResult) -> String {
    let mut h = String::from(
        "<h2>Properties</h2><table class=\"props\"><tr><th>property</th><th>verdict</th><th>fails the run</th><th>witness</th></tr>",
    );
    for p in &r.properties {
        let (cls, verdict) = match &p.status {
            Status::Holds => ("pass", format!("holds ({} checked)", p.checked)),
            Status::Violated => (
                "fail",
                format!("violated ({}; {} checked)", p.violations, p.checked),
            ),
            Status::NotChecked(why) => ("", format!("not checked: {why}")),
        };
        let witness = p
            .witness
            .as_ref()
            .map(|v| format!("<pre class=\"witness\">{}</pre>", esc(&v.to_string())))
            .unwrap_or_default();
        let _ = write!(
            h,
            r#"<tr class="prop-{name}"><td><code>{name}</code></td><td class="{cls}">{verdict}</td><td>{enforced}</td><td>{witness}</td></tr>"#,
            name = p.name,
            verdict = esc(&verdict),
            enforced = if p.enforced { "yes" } else { "no (reported)" },
        );
    }
    h.push_str("</table>");
    if let Some(why) = &r.nothing_checked {
        let _ = write!(h, "<p class=\"fail\">Nothing checked: {}</p>", esc(why));
    }
    if let Some(b) = &r.bounds {
        let _ = write!(h, "<p>Staleness bounds: {}</p>", esc(&b.to_string()));
    }
    if let Some(o) = &r.bounds_observed {
        let _ = write!(h, "<p class=\"observed\">{}</p>", esc(o));
    }
    h
}

fn timeline(
    r: &RunResult,
    history: &DbHistory,
    tracker: &Tracker,
    res: &Resource,
    path: &str,
    scale: &Scale,
) -> String {
    let rows = r.colos.len() + 1;
    let height = 30.0 + ROW * rows as f64 + 20.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">"#
    );
    // DB row: one segment per version of this resource.
    let db: Vec<(u64, u64)> = match res {
        Resource::List => history
            .list_history()
            .iter()
            .map(|s| (s.version, s.t_ms))
            .collect(),
        Resource::Row(id) => history
            .row_history(id)
            .iter()
            .map(|s| (s.version, s.t_ms))
            .collect(),
        Resource::Table(t) => history
            .table(t)
            .map(|h| {
                h.list_history()
                    .iter()
                    .map(|s| (s.version, s.t_ms))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let _ = write!(s, r#"<text x="4" y="{}">database</text>"#, 30.0 + ROW * 0.6);
    for (i, (v, t)) in db.iter().enumerate() {
        let to = db.get(i + 1).map_or(scale.end, |n| n.1);
        bar(
            &mut s,
            scale,
            30.0,
            *t,
            to,
            "#1c7ed6",
            &format!("v{v}"),
            &format!("DB v{v} from t={}", ms(*t)),
        );
    }
    for e in &r.events {
        let (row_id, mark, color) = match &e.kind {
            EventKind::WebhookDropped { row_id, .. } => (row_id, "dropped webhook", "#e03131"),
            EventKind::WebhookDuplicated { row_id, .. } => {
                (row_id, "duplicated webhook", "#f08c00")
            }
            EventKind::WebhookDelivered { row_id, .. } => (row_id, "webhook delivered", "#495057"),
            _ => continue,
        };
        if matches!(res, Resource::Row(id) if id != row_id) {
            continue;
        }
        let x = scale.x(e.t_ms);
        let _ = write!(
            s,
            r#"<path d="M{x:.1} 26 l-4 -6 h8 z" fill="{color}"><title>{mark} (row {}) at t={}</title></path>"#,
            esc(row_id),
            ms(e.t_ms)
        );
    }
    for (i, colo) in r.colos.iter().enumerate() {
        let y = 30.0 + ROW * (i + 1) as f64;
        let _ = write!(
            s,
            r#"<text x="4" y="{}">{}</text>"#,
            y + ROW * 0.6,
            esc(colo)
        );
        for (from, to, shown) in segments(&r.events, history, tracker, res, colo, scale.end) {
            let title = format!(
                "{colo} served {} from t={} to t={}",
                shown.label(),
                ms(from),
                ms(to)
            );
            bar(
                &mut s,
                scale,
                y,
                from,
                to,
                shown.color(),
                &shown.short(),
                &title,
            );
        }
    }
    // Fault windows, drawn over the bars (partitions only on their colo's row; others span every row).
    let mut open: Vec<(u64, String)> = Vec::new();
    for e in &r.events {
        match &e.kind {
            EventKind::FaultStart { fault } => open.push((e.t_ms, fault.clone())),
            EventKind::FaultEnd { fault } => {
                if let Some(i) = open.iter().position(|(_, f)| f == fault) {
                    let (from, f) = open.remove(i);
                    let row = r
                        .colos
                        .iter()
                        .position(|c| f.contains(&format!("partition {c}")));
                    let (y, hgt) = match row {
                        Some(i) => (30.0 + ROW * (i + 1) as f64, ROW - 4.0),
                        None => (24.0, ROW * rows as f64),
                    };
                    let _ = write!(
                        s,
                        r##"<rect x="{:.1}" y="{y}" width="{:.1}" height="{hgt}" fill="#fa5252" fill-opacity="0.3" stroke="#c92a2a" stroke-width="2"><title>{} from t={} to t={}</title></rect>"##,
                        scale.x(from),
                        (scale.x(e.t_ms) - scale.x(from)).max(1.0),
                        esc(&f),
                        ms(from),
                        ms(e.t_ms)
                    );
                }
            }
            _ => {}
        }
    }
    // Each property's witness on this path: outlined on its colo's row.
    for p in &r.properties {
        let Some(v) = &p.witness else { continue };
        let Some(i) = r.colos.iter().position(|c| *c == v.colo) else {
            continue;
        };
        if v.path != path {
            continue;
        }
        let y = 30.0 + ROW * (i + 1) as f64 - 2.0;
        let x = scale.x(v.from_ms);
        let _ = write!(
            s,
            r##"<rect class="witness" x="{x:.1}" y="{y}" width="{:.1}" height="{}" fill="none" stroke="#fab005" stroke-width="3"><title>witness of {}: {}</title></rect>"##,
            (scale.x(v.to_ms) - x).max(4.0),
            ROW,
            p.name,
            esc(&v.to_string())
        );
    }
    // The convergence deadline.
    let dx = scale.x(r.deadline_ms);
    let _ = write!(
        s,
        r##"<line x1="{dx:.1}" y1="20" x2="{dx:.1}" y2="{:.1}" stroke="#212529" stroke-dasharray="4 3"><title>must have converged by t={}</title></line>"##,
        30.0 + ROW * rows as f64,
        ms(r.deadline_ms)
    );
    // Time axis.
    let axis_y = 30.0 + ROW * rows as f64 + 12.0;
    for k in 0..=10u64 {
        let t = scale.end * k / 10;
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{axis_y}" text-anchor="middle">{}s</text>"#,
            scale.x(t),
            t / 1000
        );
    }
    s.push_str("</svg>");
    s
}

#[allow(clippy::too_many_arguments)]
fn bar(
    s: &mut String,
    scale: &Scale,
    y: f64,
    from: u64,
    to: u64,
    color: &str,
    label: &str,
    title: &str,
) {
    let x = scale.x(from);
    let w = (scale.x(to) - x).max(1.0);
    let _ = write!(
        s,
        r#"<rect x="{x:.1}" y="{y}" width="{w:.1}" height="{}" fill="{color}"><title>{}</title></rect>"#,
        ROW - 4.0,
        esc(title)
    );
    if w > 8.0 * label.len() as f64 {
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" fill="#fff">{}</text>"##,
            x + 3.0,
            y + ROW * 0.55,
            esc(label)
        );
    }
}
