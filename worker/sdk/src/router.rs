//! A small router with path parameters (`/articles/:id`), in the spirit of itty-router and workers-rs.

use crate::env::{Ctx, Env, LocalBoxFuture};
use crate::error::Result;
use crate::request::{Request, percent_decode};
use crate::response::Response;
use http::Method;
use std::collections::BTreeMap;
use std::future::Future;

/// What a route handler receives next to the request: path parameters, `env` and `ctx`.
#[derive(Debug, Clone)]
pub struct RouteContext {
    params: BTreeMap<String, String>,
    /// Variables and KV bindings.
    pub env: Env,
    /// `waitUntil`.
    pub ctx: Ctx,
}

impl RouteContext {
    /// The path parameter `name` (percent-decoded), e.g. `id` of `/articles/:id`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// All path parameters.
    pub fn params(&self) -> &BTreeMap<String, String> {
        &self.params
    }
}

type Handler = Box<dyn Fn(Request, RouteContext) -> LocalBoxFuture<'static, Result<Response>>>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    /// `*`: matches the rest of the path (possibly nothing).
    Rest,
}

/// A parsed route pattern such as `/articles/:id` or `/static/*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    segments: Vec<Segment>,
}

impl Pattern {
    /// Parses `pattern`: `/`-separated literals, `:name` parameters and a final `*`.
    pub fn parse(pattern: &str) -> Self {
        let segments = split_path(pattern)
            .map(|s| match s {
                "*" => Segment::Rest,
                p if p.len() > 1 && p.starts_with(':') => Segment::Param(p[1..].to_owned()),
                lit => Segment::Literal(lit.to_owned()),
            })
            .collect();
        Pattern { segments }
    }

    /// Matches `path` (no query), returning the parameters on success. Trailing slashes are ignored.
    pub fn matches(&self, path: &str) -> Option<BTreeMap<String, String>> {
        let mut params = BTreeMap::new();
        let mut parts = split_path(path);
        for seg in &self.segments {
            match seg {
                Segment::Rest => return Some(params),
                Segment::Literal(lit) => {
                    if parts.next()? != lit {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    params.insert(name.clone(), percent_decode(parts.next()?));
                }
            }
        }
        parts.next().is_none().then_some(params)
    }
}

/// Non-empty segments of a path; repeated and trailing slashes do not count.
fn split_path(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

struct Route {
    method: Option<Method>,
    pattern: Pattern,
    handler: Handler,
}

/// Routes requests to async handlers by method and path; the first matching route wins and an
/// unmatched request gets 404 `Not found`.
#[derive(Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("routes", &self.routes.len())
            .finish()
    }
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Router::default()
    }

    /// Adds a route for `method` (`None`: any method).
    pub fn on<F, Fut>(mut self, method: Option<Method>, pattern: &str, handler: F) -> Self
    where
        F: Fn(Request, RouteContext) -> Fut + 'static,
        Fut: Future<Output = Result<Response>> + 'static,
    {
        self.routes.push(Route {
            method,
            pattern: Pattern::parse(pattern),
            handler: Box::new(move |req, cx| Box::pin(handler(req, cx))),
        });
        self
    }

    /// Adds a `GET` route (it also answers `HEAD`).
    pub fn get<F, Fut>(self, pattern: &str, handler: F) -> Self
    where
        F: Fn(Request, RouteContext) -> Fut + 'static,
        Fut: Future<Output = Result<Response>> + 'static,
    {
        self.on(Some(Method::GET), pattern, handler)
    }

    /// Adds a `POST` route.
    pub fn post<F, Fut>(self, pattern: &str, handler: F) -> Self
    where
        F: Fn(Request, RouteContext) -> Fut + 'static,
        Fut: Future<Output = Result<Response>> + 'static,
    {
        self.on(Some(Method::POST), pattern, handler)
    }

    /// Adds a `PUT` route.
    pub fn put<F, Fut>(self, pattern: &str, handler: F) -> Self
    where
        F: Fn(Request, RouteContext) -> Fut + 'static,
        Fut: Future<Output = Result<Response>> + 'static,
    {
        self.on(Some(Method::PUT), pattern, handler)
    }

    /// Adds a `DELETE` route.
    pub fn delete<F, Fut>(self, pattern: &str, handler: F) -> Self
    where
        F: Fn(Request, RouteContext) -> Fut + 'static,
        Fut: Future<Output = Result<Response>> + 'static,
    {
        self.on(Some(Method::DELETE), pattern, handler)
    }

    /// Adds a route for every method.
    pub fn any<F, Fut>(self, pattern: &str, handler: F) -> Self
    where
        F: Fn(Request, RouteContext) -> Fut + 'static,
        Fut: Future<Output = Result<Response>> + 'static,
    {
        self.on(None, pattern, handler)
    }

    /// Dispatches `req` to the first matching route, or answers 404 `Not found`.
    pub async fn run(&self, req: Request, env: Env, ctx: Ctx) -> Result<Response> {
        let path = req.path().to_owned();
        for route in &self.routes {
            let method_ok = match &route.method {
                None => true,
                Some(m) => m == req.method() || (*m == Method::GET && req.method() == Method::HEAD),
            };
            if !method_ok {
                continue;
            }
            if let Some(params) = route.pattern.matches(&path) {
                let cx = RouteContext { params, env, ctx };
                return (route.handler)(req, cx).await;
            }
        }
        Response::error("Not found", 404)
    }
}
