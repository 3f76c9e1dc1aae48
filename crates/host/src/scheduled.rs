//! Scheduled events (Cron Triggers): [`Host::scheduled`] runs a Worker's `scheduled()` handler
//! once, and [`test_scheduled`] answers `GET /__scheduled?cron=...` as `wrangler dev
//! --test-scheduled` does.
//!
//! A scheduled run is an invocation like a request (same instance pool, KV, clock, fetch
//! rules, subrequest and KV-operation limits), with production's Cron Trigger limits instead
//! of the request ones: CPU 30 s when the schedule can fire more than once an hour and 15 min
//! otherwise (Workers Standard; a configured CPU limit below the 30 s default, such as the free
//! plan's 10 ms, applies as it is), and 15 minutes of wall time
//! (developers.cloudflare.com/workers/platform/limits, "CPU time" and "Duration").
//!
//! **How it reaches the Worker.** A JavaScript Worker's adapter (crate `edgesim-js`) takes a
//! `POST https://edgesim.internal/__edgesim/scheduled` that carries the header
//! [`EVENT_HEADER`] and `{"cron", "scheduledTime"}`; it calls `scheduled(controller, env, ctx)`
//! (module syntax) or the `scheduled` listeners (service-worker syntax), waits for the handler
//! and for every `ctx.waitUntil` promise, as workerd decides a scheduled event's outcome after
//! its waitUntil work, and answers `{"outcome", "noRetry", "error"}`. The host strips
//! [`EVENT_HEADER`] from every client request, so no request can pose as a Cron Trigger.
//! A wasi:http Worker without the adapter (the Rust Workers) has no scheduled entry point:
//! unless [`HostConfig::scheduled_events`](crate::HostConfig::scheduled_events) is set the
//! run is not attempted and ends [`ScheduledStatus::Unsupported`].

use crate::host::Host;
use crate::invoke::Special;
use crate::pages::{CPU_EXCEEDED, MEMORY_EXCEEDED, text};
use bytes::Bytes;
use edgesim_core::cron::{CronExpr, iso8601};
use http::{HeaderValue, Request, Response, StatusCode};
use serde::Deserialize;
use std::time::Duration;

/// The header that marks the host's own scheduled-event invocation (stripped from requests).
pub const EVENT_HEADER: &str = "x-edgesim-scheduled";

/// Where the scheduled invocation is addressed (the reserved internal host).
const EVENT_URL: &str = "https://edgesim.internal/__edgesim/scheduled";

/// CPU for a schedule that can fire more than once an hour (Workers Standard).
pub const CRON_CPU_MS_SUBHOURLY: u64 = 30_000;
/// CPU for an hourly or rarer schedule (Workers Standard).
pub const CRON_CPU_MS_HOURLY: u64 = 15 * 60 * 1000;
/// How long a scheduled run may take, wall time, before it is cancelled (tokio's clock).
pub const CRON_WALL_LIMIT: Duration = Duration::from_secs(15 * 60);

/// How a scheduled run ended, as production's Trace `outcome` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduledStatus {
    /// The handler and its waitUntil work completed.
    Ok,
    /// The handler (or waitUntil work) threw, or there is no scheduled handler.
    Exception,
    /// The run went over its CPU limit.
    ExceededCpu,
    /// The run went over the memory limit.
    ExceededMemory,
    /// The run went past the 15-minute wall limit and was cancelled.
    Canceled,
    /// The Worker has no scheduled entry point (a wasi:http Worker without edgesim's JS
    /// adapter, such as a Rust Worker): nothing ran.
    Unsupported,
    /// The colo asked for is not configured: nothing ran.
    UnknownColo,
}

impl ScheduledStatus {
    /// The outcome's name: `ok`, `exception`, `exceededCpu`, `exceededMemory`, `canceled`
    /// (production's names), `unsupported` or `unknownColo` (edgesim's).
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduledStatus::Ok => "ok",
            ScheduledStatus::Exception => "exception",
            ScheduledStatus::ExceededCpu => "exceededCpu",
            ScheduledStatus::ExceededMemory => "exceededMemory",
            ScheduledStatus::Canceled => "canceled",
            ScheduledStatus::Unsupported => "unsupported",
            ScheduledStatus::UnknownColo => "unknownColo",
        }
    }

    /// How `wrangler tail` titles the event (`"* * * * *" @ ... - Ok`).
    fn title(self) -> &'static str {
        match self {
            ScheduledStatus::Ok => "Ok",
            ScheduledStatus::Exception => "Exception Thrown",
            ScheduledStatus::ExceededCpu => "Exceeded CPU Limit",
            ScheduledStatus::ExceededMemory => "Exceeded Memory",
            ScheduledStatus::Canceled => "Canceled",
            ScheduledStatus::Unsupported => "Unsupported",
            ScheduledStatus::UnknownColo => "Unknown Colo",
        }
    }
}

impl std::fmt::Display for ScheduledStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of [`Host::scheduled`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledOutcome {
    /// The cron expression the run was for (`controller.cron`).
    pub cron: String,
    /// `controller.scheduledTime`, Unix epoch ms.
    pub scheduled_time_ms: u64,
    /// The colo it ran at (`None` when it did not run).
    pub colo: Option<String>,
    /// Its `cf-ray`-style id (`None` when it did not run).
    pub ray: Option<String>,
    /// How it ended.
    pub status: ScheduledStatus,
    /// Whether the handler called `noRetry()` (or the runtime set it, as for a missing handler).
    pub no_retry: bool,
    /// The error, when it did not end `ok` (`Uncaught Error: ...`, production's messages).
    pub error: Option<String>,
}

impl ScheduledOutcome {
    /// Whether the run ended `ok`.
    pub fn is_ok(&self) -> bool {
        self.status == ScheduledStatus::Ok
    }

    fn not_run(cron: &str, time: u64, status: ScheduledStatus, error: String) -> Self {
        Self {
            cron: cron.to_string(),
            scheduled_time_ms: time,
            colo: None,
            ray: None,
            status,
            no_retry: false,
            error: Some(error),
        }
    }
}

/// The CPU limit of a scheduled run for `cron` on a host with `limits`: a configured limit below
/// the paid default (30 s) applies as it is (the free plan's 10 ms); otherwise production's
/// Cron Trigger limit, 30 s for a schedule that can fire more than once an hour and 15 min for
/// an hourly or rarer one (an expression that does not parse, as `/__scheduled` may send,
/// counts as sub-hourly).
pub fn cron_cpu_ms(limits: &crate::Limits, cron: &str) -> u64 {
    if limits.cpu_ms < CRON_CPU_MS_SUBHOURLY {
        return limits.cpu_ms;
    }
    let cron_limit = match CronExpr::parse(cron) {
        Ok(expr) if !expr.fires_more_than_hourly() => CRON_CPU_MS_HOURLY,
        _ => CRON_CPU_MS_SUBHOURLY,
    };
    cron_limit.max(limits.cpu_ms)
}

/// What the adapter answers.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdapterAnswer {
    outcome: String,
    #[serde(default)]
    no_retry: bool,
    #[serde(default)]
    error: Option<String>,
}

impl Host {
    /// Runs one scheduled event (`cron`, `scheduledTime` = `scheduled_time_ms`) at `colo` (the
    /// default colo when `None`), as production runs a Cron Trigger, and logs it the way
    /// `wrangler tail` shows it (`"*/5 * * * *" @ 2026-01-01T00:05:00.000Z - Ok`). Does not
    /// retry: a failed run is reported, with `noRetry()` recorded.
    pub async fn scheduled(
        &self,
        colo: Option<&str>,
        cron: &str,
        scheduled_time_ms: u64,
    ) -> ScheduledOutcome {
        let config = &self.inner.config;
        let colo = colo.unwrap_or(&config.default_colo).to_string();
        if config.colo(&colo).is_none() {
            return ScheduledOutcome::not_run(
                cron,
                scheduled_time_ms,
                ScheduledStatus::UnknownColo,
                format!(
                    "unknown colo {colo}; configured colos: {}",
                    self.inner.colo_codes.join(", ")
                ),
            );
        }
        if !config.scheduled_events {
            let why = "this Worker has no scheduled entry point: edgesim delivers Cron Triggers \
                       to JavaScript Workers (through its adapter) only; a wasi:http Worker such \
                       as a Rust Worker exports just the request handler";
            tracing::warn!(target: "edgesim::scheduled", cron, "{why}");
            return ScheduledOutcome::not_run(
                cron,
                scheduled_time_ms,
                ScheduledStatus::Unsupported,
                why.to_string(),
            );
        }
        let body = serde_json::json!({"cron": cron, "scheduledTime": scheduled_time_ms});
        let req = Request::post(EVENT_URL)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Bytes::from(body.to_string()));
        let Ok(req) = req else {
            return ScheduledOutcome::not_run(
                cron,
                scheduled_time_ms,
                ScheduledStatus::Exception,
                "edgesim could not build the scheduled event".into(),
            );
        };
        let special = Special {
            marker: HeaderValue::from_static("1"),
            cpu_ms: cron_cpu_ms(&config.limits, cron),
            method: "SCHEDULED",
            path: cron.to_string(),
        };
        let mut outcome =
            match tokio::time::timeout(CRON_WALL_LIMIT, self.invoke_at(&colo, req, Some(&special)))
                .await
            {
                Ok(inv) => {
                    // The adapter answers after the handler's waitUntil work; what is left ends
                    // at once (or is watched like any waitUntil work).
                    if let Some(work) = inv.background {
                        work.wait().await;
                    }
                    let (status, no_retry, error) = read_answer(&inv.response);
                    ScheduledOutcome {
                        cron: cron.to_string(),
                        scheduled_time_ms,
                        colo: inv.colo,
                        ray: inv.ray,
                        status,
                        no_retry,
                        error,
                    }
                }
                Err(_) => ScheduledOutcome {
                    colo: Some(colo.clone()),
                    ..ScheduledOutcome::not_run(
                        cron,
                        scheduled_time_ms,
                        ScheduledStatus::Canceled,
                        format!(
                            "the scheduled event ran past {} minutes and was cancelled",
                            CRON_WALL_LIMIT.as_secs() / 60
                        ),
                    )
                },
            };
        if outcome.status != ScheduledStatus::Ok && outcome.error.is_none() {
            outcome.error = Some(outcome.status.as_str().to_string());
        }
        log(&outcome);
        outcome
    }
}

/// The outcome in the adapter's answer, or what the host's error page says.
fn read_answer(resp: &Response<Bytes>) -> (ScheduledStatus, bool, Option<String>) {
    let from_adapter = resp.headers().contains_key(EVENT_HEADER);
    if from_adapter && let Ok(a) = serde_json::from_slice::<AdapterAnswer>(resp.body()) {
        let status = match a.outcome.as_str() {
            "ok" => ScheduledStatus::Ok,
            _ => ScheduledStatus::Exception,
        };
        return (status, a.no_retry, a.error);
    }
    let body = String::from_utf8_lossy(resp.body());
    let mut lines = body.lines();
    let first = lines.next().unwrap_or_default();
    let reason = lines.next().unwrap_or_default().to_string();
    if first == "error code: 1102" {
        let status = if reason.starts_with(CPU_EXCEEDED) {
            ScheduledStatus::ExceededCpu
        } else if reason.starts_with(MEMORY_EXCEEDED) {
            ScheduledStatus::ExceededMemory
        } else {
            ScheduledStatus::Exception
        };
        return (status, false, Some(reason));
    }
    if first == "error code: 1101" {
        return (ScheduledStatus::Exception, false, Some(reason));
    }
    (
        ScheduledStatus::Exception,
        false,
        Some(format!(
            "the Worker answered the scheduled event with HTTP {} instead of an outcome \
             (is it built with edgesim's JavaScript adapter?)",
            resp.status().as_u16()
        )),
    )
}

/// One line per run, as `wrangler tail` titles a scheduled event, plus the error if any.
fn log(o: &ScheduledOutcome) {
    let colo = o.colo.as_deref().unwrap_or("-");
    let ray = o.ray.as_deref().unwrap_or("-");
    let title = format!(
        "{:?} @ {} - {}",
        o.cron,
        iso8601(o.scheduled_time_ms),
        o.status.title()
    );
    match &o.error {
        None => tracing::info!(target: "edgesim::scheduled", colo, ray, "{title}"),
        Some(e) => {
            tracing::error!(target: "edgesim::scheduled", colo, ray, no_retry = o.no_retry, "{title}: {e}")
        }
    }
}

/// Answers `GET /__scheduled?cron=<expr>&time=<ms>&format=json` as `wrangler dev
/// --test-scheduled` (Miniflare) does: runs one scheduled event (at the default colo, with
/// `scheduledTime` = `time` or the emulator clock's now, `cron` = the query's or empty) and
/// answers its outcome as text (`ok`), or as JSON `{"outcome", "noRetry"}` with
/// `format=json`; status 200 when it is `ok`, else 500. The expression is passed through
/// unchecked, as wrangler does.
pub async fn test_scheduled(host: &Host, req: &Request<Bytes>) -> Response<Bytes> {
    let query = req.uri().query().unwrap_or_default();
    let param = |name: &str| {
        query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then(|| form_decode(v))
        })
    };
    let cron = param("cron").unwrap_or_default();
    let time = match param("time") {
        Some(t) => match t.parse::<u64>() {
            Ok(ms) => ms,
            Err(_) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("time={t:?} is not a number of milliseconds since the epoch\n"),
                );
            }
        },
        None => host.clock().now_ms(),
    };
    let outcome = host.scheduled(None, &cron, time).await;
    let status = if outcome.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    if param("format").as_deref() == Some("json") {
        let mut resp = text(
            status,
            serde_json::json!({"outcome": outcome.status.as_str(), "noRetry": outcome.no_retry})
                .to_string(),
        );
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return resp;
    }
    text(status, outcome.status.as_str().to_string())
}

/// A query value as a form decodes it (`+` is a space, `%xx` a byte).
fn form_decode(v: &str) -> String {
    let spaced = v.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    #[test]
    fn cron_cpu_follows_the_schedule_interval() {
        let paid = Limits::paid();
        assert_eq!(cron_cpu_ms(&paid, "* * * * *"), 30_000);
        assert_eq!(cron_cpu_ms(&paid, "*/30 * * * *"), 30_000);
        assert_eq!(cron_cpu_ms(&paid, "0 * * * *"), 900_000);
        assert_eq!(cron_cpu_ms(&paid, "15 3 * * MON"), 900_000);
        assert_eq!(cron_cpu_ms(&paid, "not a cron"), 30_000);
        assert_eq!(cron_cpu_ms(&Limits::free(), "0 * * * *"), 10);
        let big = Limits {
            cpu_ms: 60_000,
            ..Limits::paid()
        };
        assert_eq!(cron_cpu_ms(&big, "* * * * *"), 60_000);
    }

    #[test]
    fn answers_are_read_from_the_adapter_or_the_error_page() {
        let mut ok = Response::new(Bytes::from_static(br#"{"outcome":"ok","noRetry":false}"#));
        ok.headers_mut()
            .insert(EVENT_HEADER, HeaderValue::from_static("1"));
        assert_eq!(read_answer(&ok), (ScheduledStatus::Ok, false, None));
        let mut thrown = Response::new(Bytes::from_static(
            br#"{"outcome":"exception","noRetry":true,"error":"Uncaught Error: boom"}"#,
        ));
        thrown
            .headers_mut()
            .insert(EVENT_HEADER, HeaderValue::from_static("1"));
        assert_eq!(
            read_answer(&thrown),
            (
                ScheduledStatus::Exception,
                true,
                Some("Uncaught Error: boom".into())
            )
        );
        // The same JSON without the adapter's marker is not trusted.
        let forged = Response::new(Bytes::from_static(br#"{"outcome":"ok"}"#));
        assert_eq!(read_answer(&forged).0, ScheduledStatus::Exception);
        let cpu = crate::pages::Failure::cpu().response();
        assert_eq!(read_answer(&cpu).0, ScheduledStatus::ExceededCpu);
        let exc = crate::pages::Failure::exception("x").response();
        assert_eq!(read_answer(&exc).0, ScheduledStatus::Exception);
    }

    #[test]
    fn query_values_decode_like_a_form() {
        assert_eq!(form_decode("*+*+*+*+*"), "* * * * *");
        assert_eq!(form_decode("*%2F5%20*"), "*/5 *");
    }
}
