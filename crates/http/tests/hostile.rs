//! Hostile clients on loopback: oversized heads and bodies, slow and idle clients, pipelined and
//! malformed requests. After each, the server still answers a well-behaved client at once.

use bytes::Bytes;
use edgesim_http::{Limits, serve};
use http::{Request, Response};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A server on a thread of its own; `/sleep` answers after 300 ms, anything else echoes the
/// body length. Dropping the returned sender shuts it down.
struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: std::sync::mpsc::Receiver<()>,
}

fn start(limits: Limits) -> Server {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            let handler = |req: Request<Bytes>| async move {
                if req.uri().path() == "/sleep" {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Response::new(Bytes::from(format!("got {} bytes", req.body().len())))
            };
            serve(
                listener,
                limits,
                async {
                    let _ = stop_rx.await;
                },
                handler,
            )
            .await
            .unwrap();
        });
        let _ = done_tx.send(());
    });
    Server {
        addr,
        stop: Some(stop_tx),
        done: done_rx,
    }
}

fn limits() -> Limits {
    Limits {
        max_body_bytes: 1 << 20,
        header_read_timeout: Duration::from_millis(500),
        body_read_timeout: Duration::from_millis(500),
        drain_timeout: Duration::from_secs(5),
        ..Limits::default()
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Everything the server sends until it closes the connection (or the read times out).
fn read_all(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn status(resp: &str) -> u16 {
    resp.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// One well-behaved request on a fresh connection.
fn get_ok(addr: SocketAddr) {
    let started = Instant::now();
    let mut s = connect(addr);
    s.write_all(b"GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let resp = read_all(&mut s);
    assert_eq!(status(&resp), 200, "{resp}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a good client waited {:?}",
        started.elapsed()
    );
}

fn send(addr: SocketAddr, raw: &[u8]) -> String {
    let mut s = connect(addr);
    let _ = s.write_all(raw);
    read_all(&mut s)
}

#[test]
fn oversized_heads_get_431_and_long_urls_414() {
    let srv = start(limits());
    let big = "a".repeat(150 << 10);
    let resp = send(
        srv.addr,
        format!("GET / HTTP/1.1\r\nHost: t\r\nX-Big: {big}\r\n\r\n").as_bytes(),
    );
    assert_eq!(status(&resp), 431, "{}", &resp[..resp.len().min(200)]);
    get_ok(srv.addr);
    // Many small headers adding up past 128 KiB.
    let many: String = (0..200)
        .map(|i| format!("X-H{i}: {}\r\n", "b".repeat(1000)))
        .collect();
    let resp = send(
        srv.addr,
        format!("GET / HTTP/1.1\r\nHost: t\r\n{many}\r\n").as_bytes(),
    );
    assert_eq!(status(&resp), 431);
    // Just under the limits is fine.
    let fine = "c".repeat(100 << 10);
    let resp = send(
        srv.addr,
        format!(
            "GET /{} HTTP/1.1\r\nHost: t\r\nX-Fine: {fine}\r\nConnection: close\r\n\r\n",
            "u".repeat(16000)
        )
        .as_bytes(),
    );
    assert_eq!(status(&resp), 200, "{}", &resp[..resp.len().min(200)]);
    let resp = send(
        srv.addr,
        format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "u".repeat(17 << 10)).as_bytes(),
    );
    assert_eq!(status(&resp), 414, "{}", &resp[..resp.len().min(200)]);
    get_ok(srv.addr);
}

#[test]
fn bodies_over_the_limit_get_413() {
    let srv = start(limits());
    // Declared too large: refused before the body is sent.
    let resp = send(
        srv.addr,
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\n",
    );
    assert_eq!(status(&resp), 413, "{resp}");
    assert!(resp.contains("exceeds 1048576 bytes"), "{resp}");
    // Chunked, crossing the limit on the way.
    let mut s = connect(srv.addr);
    s.write_all(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    let chunk = format!("10000\r\n{}\r\n", "z".repeat(0x10000));
    for _ in 0..17 {
        if s.write_all(chunk.as_bytes()).is_err() {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let resp = read_all(&mut s);
    assert_eq!(status(&resp), 413, "{}", &resp[..resp.len().min(200)]);
    // At the limit exactly: accepted.
    let body = "y".repeat(1 << 20);
    let resp = send(
        srv.addr,
        format!(
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert_eq!(status(&resp), 200);
    assert!(
        resp.ends_with("got 1048576 bytes"),
        "{}",
        &resp[resp.len().saturating_sub(100)..]
    );
    get_ok(srv.addr);
}

#[test]
fn the_production_limits_are_cloudflares() {
    let l = Limits::default();
    assert_eq!(l.max_body_bytes, 100_000_000);
    assert_eq!(l.max_url_bytes, 16 * 1024);
    assert_eq!(l.max_head_bytes, (16 + 128) * 1024);
}

#[test]
fn slow_and_idle_clients_are_cut_off_without_pinning_the_server() {
    let srv = start(limits());
    // Idle connections that never send a byte, and one trickling its head a byte at a time.
    let idle: Vec<TcpStream> = (0..100).map(|_| connect(srv.addr)).collect();
    let mut trickle = connect(srv.addr);
    let started = Instant::now();
    let head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut cut = false;
    for b in head {
        get_ok(srv.addr);
        if trickle.write_all(&[*b]).is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let rest = read_all(&mut trickle);
    assert!(
        cut || rest.is_empty() || status(&rest) == 408,
        "the trickling client was served: {rest}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // The idle ones were closed by the header-read timeout.
    for mut s in idle {
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut b = [0u8; 64];
        let n = s.read(&mut b);
        assert!(
            match &n {
                Ok(0) => true,
                Ok(_) => status(&String::from_utf8_lossy(&b)) == 408,
                Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
            },
            "an idle connection stayed open: {n:?}"
        );
    }
    // A body that stalls gets 408.
    let mut s = connect(srv.addr);
    s.write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello")
        .unwrap();
    let resp = read_all(&mut s);
    assert_eq!(status(&resp), 408, "{resp}");
    get_ok(srv.addr);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let srv = start(limits());
    let resp = send(
        srv.addr,
        b"POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nxGET /sleep HTTP/1.1\r\nHost: t\r\n\r\nPOST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nConnection: close\r\n\r\nxyz",
    );
    let bodies: Vec<&str> = resp.matches("got ").collect();
    assert_eq!(bodies.len(), 3, "{resp}");
    let i1 = resp.find("got 1 bytes").unwrap();
    let i2 = resp.find("got 0 bytes").unwrap();
    let i3 = resp.find("got 3 bytes").unwrap();
    assert!(i1 < i2 && i2 < i3, "{resp}");
}

#[test]
fn malformed_requests_get_400_and_the_server_keeps_serving() {
    let srv = start(limits());
    for raw in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: t\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nbad\r\n",
        b"\x00\x01\x02\x03\xff\xfe\r\n\r\n",
    ] {
        let resp = send(srv.addr, raw);
        let st = status(&resp);
        assert!(
            st == 400 || (st == 0 && resp.is_empty()) || st == 505,
            "{:?} -> {resp}",
            String::from_utf8_lossy(raw)
        );
        get_ok(srv.addr);
    }
    // A client that hangs up mid-request does no harm either.
    let mut s = connect(srv.addr);
    s.write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
        .unwrap();
    drop(s);
    get_ok(srv.addr);
}

#[test]
fn shutdown_lets_requests_in_flight_finish_then_stops() {
    let mut srv = start(limits());
    let addr = srv.addr;
    let in_flight = std::thread::spawn(move || {
        send(
            addr,
            b"GET /sleep HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
    });
    // An idle keep-alive connection does not hold shutdown up.
    let _idle = connect(addr);
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    drop(srv.stop.take());
    let resp = in_flight.join().unwrap();
    assert_eq!(status(&resp), 200, "the request in flight finished: {resp}");
    srv.done
        .recv_timeout(Duration::from_secs(5))
        .expect("serve returned");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(TcpStream::connect(addr).is_err(), "the listener is closed");
}
