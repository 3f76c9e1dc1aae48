//! Router and path matching on the host target.

use edgesim_worker::testing::{TestEnv, block_on};
use edgesim_worker::{Ctx, Method, Pattern, Request, Response, Result, RouteContext, Router};

fn params(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    Pattern::parse(pattern)
        .matches(path)
        .map(|m| m.into_iter().collect())
}

#[test]
fn literal_and_parameter_segments() {
    assert_eq!(params("/articles", "/articles"), Some(vec![]));
    assert_eq!(params("/articles", "/articles/"), Some(vec![]));
    assert_eq!(params("/articles", "/articles/2"), None);
    assert_eq!(params("/articles", "/article"), None);
    assert_eq!(
        params("/articles/:id", "/articles/2"),
        Some(vec![("id".into(), "2".into())])
    );
    assert_eq!(params("/articles/:id", "/articles"), None);
    assert_eq!(params("/articles/:id", "/articles/2/x"), None);
    assert_eq!(
        params("/a/:x/b/:y", "/a/1/b/two%20words"),
        Some(vec![
            ("x".into(), "1".into()),
            ("y".into(), "two words".into())
        ])
    );
    assert_eq!(params("/", "/"), Some(vec![]));
    assert_eq!(params("/", "/x"), None);
}

#[test]
fn wildcard_matches_the_rest() {
    assert_eq!(params("/static/*", "/static/a/b/c"), Some(vec![]));
    assert_eq!(params("/static/*", "/static"), Some(vec![]));
    assert_eq!(params("*", "/anything/at/all"), Some(vec![]));
    assert_eq!(params("/static/*", "/other"), None);
}

async fn show(req: Request, cx: RouteContext) -> Result<Response> {
    Response::ok(format!(
        "{} {} id={}",
        req.method(),
        req.path(),
        cx.param("id").unwrap_or("-")
    ))
    .with_header("x-route", "show")
}

fn router() -> Router {
    Router::new()
        .get("/articles/:id", show)
        .post("/articles/:id", |_, cx| async move {
            Ok(Response::ok(format!("posted {}", cx.param("id").unwrap())))
        })
        .get("/articles/first", |_, _| async {
            Ok(Response::ok("shadowed"))
        })
        .any("/any", |req, _| async move {
            Ok(Response::ok(req.method().to_string()))
        })
}

fn run(router: &Router, req: Request) -> Response {
    let (ctx, _queue) = Ctx::queued();
    block_on(router.run(req, TestEnv::new().build(), ctx)).unwrap()
}

#[test]
fn dispatches_by_method_and_first_match_wins() {
    let r = router();
    let resp = run(&r, Request::get("http://w/articles/7?x=1"));
    assert_eq!(resp.text().unwrap(), "GET /articles/7 id=7");
    assert_eq!(resp.header("x-route"), Some("show"));
    let resp = run(&r, Request::post("http://w/articles/7"));
    assert_eq!(resp.text().unwrap(), "posted 7");
    let resp = run(&r, Request::get("http://w/articles/first"));
    assert_eq!(resp.text().unwrap(), "GET /articles/first id=first");
    let resp = run(&r, Request::new(Method::DELETE, "http://w/any"));
    assert_eq!(resp.text().unwrap(), "DELETE");
    let resp = run(&r, Request::new(Method::HEAD, "http://w/articles/1"));
    assert_eq!(resp.status(), 200);
}

#[test]
fn unmatched_requests_get_404_not_found() {
    let r = router();
    for req in [
        Request::get("http://w/nope"),
        Request::new(Method::PUT, "http://w/articles/7"),
        Request::get("http://w/articles"),
    ] {
        let resp = run(&r, req);
        assert_eq!(resp.status(), 404);
        assert_eq!(resp.text().unwrap(), "Not found");
    }
}

#[test]
fn handler_errors_propagate() {
    let r = Router::new().get("/boom", |_, _| async {
        Err::<Response, _>(edgesim_worker::Error::msg("boom"))
    });
    let (ctx, _q) = Ctx::queued();
    let err = block_on(r.run(Request::get("/boom"), TestEnv::new().build(), ctx)).unwrap_err();
    assert_eq!(err.to_string(), "boom");
}

#[test]
fn wait_until_work_runs_after_the_handler_returns() {
    let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::<&str>::new()));
    let l = log.clone();
    let r = Router::new().post("/hook", move |_, cx| {
        let l = l.clone();
        async move {
            let inner = l.clone();
            cx.ctx
                .wait_until(async move { inner.borrow_mut().push("background") });
            l.borrow_mut().push("respond");
            Ok(Response::ok("ok"))
        }
    });
    let (ctx, queue) = Ctx::queued();
    block_on(r.run(Request::post("/hook"), TestEnv::new().build(), ctx)).unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(*log.borrow(), vec!["respond"]);
    block_on(queue.run_all());
    assert_eq!(*log.borrow(), vec!["respond", "background"]);
    assert!(queue.is_empty());
}
