//! The responses the host itself gives: Workers error pages (1101, 1102) and bad requests.
//!
//! Production answers API clients with a short text body, `error code: 1102`; edgesim adds a
//! second line with the reason. Statuses:
//! - **1101** "Worker threw exception" (a trap, or no response): HTTP **500**.
//! - **1102** "Worker exceeded resource limits" (CPU time via fuel, memory, or no instance
//!   slot left in the host's pool): HTTP **503**, as production sends for exceeded resource
//!   limits.

use bytes::Bytes;
use http::{Response, StatusCode, header};

/// Why an invocation failed, as a Workers error code and a reason line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// 1101 or 1102.
    pub code: u16,
    /// The reason line (`Worker exceeded CPU time limit.`).
    pub reason: String,
}

/// Reason line for running out of fuel.
pub const CPU_EXCEEDED: &str = "Worker exceeded CPU time limit.";
/// Reason line for going over the memory limit.
pub const MEMORY_EXCEEDED: &str = "Worker exceeded memory limit.";
/// Reason line when the host has no instance slot left for the request.
pub const OVERLOADED: &str = "Worker exceeded resource limits: too many instances in flight.";
/// workerd's error when a Worker's handler can never produce a response (its promise is
/// pending and nothing is left that could settle it); edgesim gives it when the guest returns
/// without a response.
pub const NEVER_RESPONDS: &str = "The script will never generate a response.";
/// Reason line for a trap.
pub const THREW_EXCEPTION: &str = "Worker threw exception";

impl Failure {
    /// Classifies a guest error: out of fuel → 1102 CPU; memory limit hit → 1102 memory;
    /// anything else → 1101.
    pub(crate) fn from_guest_error(err: &wasmtime::Error, memory_exceeded: bool) -> Self {
        if err
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
        {
            // Too many instances alive at once (requests plus their waitUntil work).
            Self {
                code: 1102,
                reason: format!("{OVERLOADED} {err}"),
            }
        } else if err.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::OutOfFuel)
            || err.downcast_ref::<crate::cpu::CpuLimitExceeded>().is_some()
        {
            Self::cpu()
        } else if memory_exceeded {
            Self::memory()
        } else {
            Self {
                code: 1101,
                reason: THREW_EXCEPTION.to_string(),
            }
        }
    }

    /// Error 1102 when no instance is free for the request (`reason` says why).
    pub(crate) fn overloaded(reason: &str) -> Self {
        Self {
            code: 1102,
            reason: format!("{OVERLOADED} {reason}"),
        }
    }

    /// Error 1102 for the memory limit.
    pub(crate) fn memory() -> Self {
        Self {
            code: 1102,
            reason: MEMORY_EXCEEDED.to_string(),
        }
    }

    /// Error 1102 for the CPU limit.
    pub(crate) fn cpu() -> Self {
        Self {
            code: 1102,
            reason: CPU_EXCEEDED.to_string(),
        }
    }

    /// Error 1101 with a specific reason.
    pub(crate) fn exception(reason: &str) -> Self {
        Self {
            code: 1101,
            reason: format!("{THREW_EXCEPTION}: {reason}"),
        }
    }

    /// The HTTP status of the error page.
    pub fn status(&self) -> StatusCode {
        if self.code == 1102 {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }

    /// The error page.
    pub fn response(&self) -> Response<Bytes> {
        text(
            self.status(),
            format!("error code: {}\n{}\n", self.code, self.reason),
        )
    }
}

/// A plain-text response.
pub(crate) fn text(status: StatusCode, body: String) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain;charset=UTF-8"),
    );
    resp
}

/// The 400 for a request without a usable `Host` (production's edge refuses it before any
/// Worker runs).
pub(crate) fn bad_host(why: &str) -> Response<Bytes> {
    text(StatusCode::BAD_REQUEST, format!("400 Bad Request: {why}\n"))
}

/// Why `req` cannot be routed to a Worker: no authority in its URI and no `Host` header, or a
/// `Host` that is not a valid `host[:port]`. `None` when it is fine.
pub(crate) fn host_problem<B>(req: &http::Request<B>) -> Option<&'static str> {
    if req.uri().authority().is_some() {
        return None;
    }
    let mut hosts = req.headers().get_all(header::HOST).iter();
    let Some(host) = hosts.next() else {
        return Some("the request has no Host header");
    };
    if hosts.next().is_some() {
        return Some("the request has more than one Host header");
    }
    match host.to_str().ok().map(str::parse::<http::uri::Authority>) {
        Some(Ok(a)) if !a.host().is_empty() && !a.as_str().contains('@') && port_ok(&a) => None,
        _ => Some("the Host header is not a valid host[:port]"),
    }
}

/// Whether what follows the host in `a` is nothing or `:` and a port number (`http` accepts
/// any text there and reads the port lazily).
fn port_ok(a: &http::uri::Authority) -> bool {
    match a.as_str().strip_prefix(a.host()) {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix(':')
            .is_some_and(|p| p.parse::<u16>().is_ok()),
        None => false,
    }
}

/// The 400 for a request naming a colo that is not configured.
pub(crate) fn unknown_colo(code: &str, known: &[String]) -> Response<Bytes> {
    text(
        StatusCode::BAD_REQUEST,
        format!(
            "unknown colo `{code}` in x-edgesim-colo; configured colos: {}\n",
            known.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_carry_code_and_status() {
        let cpu = Failure::cpu().response();
        assert_eq!(cpu.status(), 503);
        assert!(cpu.body().starts_with(b"error code: 1102\n"));
        let ex = Failure::exception("boom").response();
        assert_eq!(ex.status(), 500);
        assert_eq!(
            ex.body().as_ref(),
            b"error code: 1101\nWorker threw exception: boom\n"
        );
        let req = |host: Option<&str>| {
            let mut b = http::Request::get("/x");
            if let Some(h) = host {
                b = b.header(header::HOST, h);
            }
            b.body(()).unwrap()
        };
        assert_eq!(host_problem(&req(Some("example.com:8787"))), None);
        assert_eq!(host_problem(&req(Some("[::1]:80"))), None);
        assert!(host_problem(&req(None)).is_some());
        assert!(host_problem(&req(Some(""))).is_some());
        assert!(host_problem(&req(Some("a b"))).is_some());
        assert!(host_problem(&req(Some("user@host"))).is_some());
        assert!(host_problem(&req(Some("host:port"))).is_some());
        assert_eq!(
            host_problem(&http::Request::get("https://w.test/").body(()).unwrap()),
            None
        );
        assert_eq!(bad_host("x").status(), 400);
        let bad = unknown_colo("XYZ", &["SYD".into(), "LHR".into()]);
        assert_eq!(bad.status(), 400);
        assert!(String::from_utf8_lossy(bad.body()).contains("SYD, LHR"));
    }
}
