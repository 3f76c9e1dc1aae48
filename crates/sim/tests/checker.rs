//! The consistency checker, property by property: each holds on one recorded history and is
//! violated by a crafted one, with its witness asserted. Histories are event logs, as
//! `edgesim run --events` writes them (and `edgesim check` reads them back).

use edgesim_sim::check::{Expectations, check_all};
use edgesim_sim::events::{Event, EventKind, Origin, Served};
use edgesim_sim::parse::parse_text;
use edgesim_sim::phases::{AppliedBound, StalenessBounds};
use edgesim_sim::{CheckReport, Property, Status, Tracker};

/// A tiny history builder.
#[derive(Default)]
struct H {
    events: Vec<Event>,
    next_id: u64,
}

impl H {
    fn push(&mut self, t_ms: u64, kind: EventKind) -> &mut Self {
        self.events.push(Event { t_ms, kind });
        self
    }
    fn read(&mut self, t: u64, colo: &str, path: &str, served: Served) -> &mut Self {
        self.next_id += 1;
        let id = self.next_id;
        self.push(
            t,
            EventKind::RequestStart {
                id,
                colo: colo.into(),
                method: "GET".into(),
                path: path.into(),
                origin: Origin::Workload,
            },
        );
        self.push(
            t + 5,
            EventKind::RequestEnd {
                id,
                colo: colo.into(),
                path: path.into(),
                status: if served == Served::Error { 503 } else { 200 },
                body_hash: "00".into(),
                served,
            },
        )
    }
    fn commit(&mut self, t: u64, version: u64, row: &str) -> &mut Self {
        self.push(
            t,
            EventKind::DbCommit {
                version,
                table: "articles".into(),
                op: "UPDATE".into(),
                row_id: row.into(),
                row_hash: "ff".into(),
            },
        )
    }
    fn kv(&mut self, t: u64, colo: &str, op: &str, key: &str, version: Option<u64>) -> &mut Self {
        self.push(
            t,
            EventKind::Kv {
                colo: colo.into(),
                op: op.into(),
                key: key.into(),
                version,
                outcome: if op == "get" { "hit" } else { "ok" }.into(),
                cache_ttl_s: None,
                expires_in_ms: None,
            },
        )
    }
    fn check(&mut self, exp: &Expectations, healed: u64) -> CheckReport {
        self.events.sort_by_key(|e| e.t_ms);
        // What the checker reads is exactly what `--events` writes and `edgesim check` parses.
        let text = edgesim_sim::events::render_text(&self.events);
        let events = parse_text(&text).expect("the text form reads back");
        check_all(&events, &Tracker::new("articles"), exp, healed)
    }
}

fn bounds() -> StalenessBounds {
    StalenessBounds::stated(40_000, Some(150_000), 50)
}

fn exp() -> Expectations {
    Expectations {
        converge_within_ms: 200_000,
        bounds: Some(bounds()),
        kv_read_your_writes: true,
        enforce_monotonic_reads: true,
        enforce_read_your_writes: true,
        ..Expectations::default()
    }
}

fn status(r: &CheckReport, p: Property) -> Status {
    r.get(p).expect("a row per property").status.clone()
}

fn witness_text(r: &CheckReport, p: Property) -> String {
    r.get(p)
        .and_then(|p| p.witness.as_ref())
        .map(|w| w.to_string())
        .unwrap_or_default()
}

#[test]
fn every_property_has_a_row_and_a_clean_history_holds_them_all() {
    let mut h = H::default();
    h.read(1_000, "SYD", "/articles/1", Served::Version(0))
        .commit(10_000, 1, "1")
        .read(20_000, "SYD", "/articles/1", Served::Version(0))
        .read(30_000, "SYD", "/articles/1", Served::Version(1))
        .read(31_000, "FRA", "/articles/1", Served::Version(1))
        .kv(32_000, "FRA", "put", "/articles/1", Some(7))
        .kv(33_000, "FRA", "get", "/articles/1", Some(7));
    let r = h.check(&exp(), 10_000);
    let names: Vec<&str> = r.properties.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "no_phantoms",
            "bounded_staleness",
            "monotonic_reads",
            "read_your_writes",
            "convergence"
        ]
    );
    for p in &r.properties {
        assert_eq!(p.status, Status::Holds, "{}", p.name);
    }
    assert!(r.enforced().is_empty());
}

#[test]
fn no_phantoms() {
    let mut ok = H::default();
    ok.read(1_000, "SYD", "/articles", Served::Version(0));
    assert_eq!(
        status(&ok.check(&exp(), 0), Property::Phantom),
        Status::Holds
    );
    let mut bad = H::default();
    bad.read(1_000, "SYD", "/articles", Served::Version(0))
        .read(2_000, "FRA", "/articles", Served::Phantom);
    let r = bad.check(&exp(), 0);
    assert_eq!(status(&r, Property::Phantom), Status::Violated);
    let w = witness_text(&r, Property::Phantom);
    assert!(
        w.starts_with("no_phantoms: FRA /articles served a phantom value"),
        "{w}"
    );
    assert!(
        w.contains("witness: t=     2005 request_end id=2 colo=FRA"),
        "{w}"
    );
}

#[test]
fn bounded_staleness_uses_the_fault_free_bound_outside_faults() {
    // Superseded at 10 s; still served at 45 s: within 40 s. At 55 s: 45 s stale, too long.
    let mut ok = H::default();
    ok.commit(10_000, 1, "2")
        .read(45_000, "SYD", "/articles/2", Served::Version(0));
    assert_eq!(
        status(&ok.check(&exp(), 10_000), Property::Staleness),
        Status::Holds
    );
    let mut bad = H::default();
    bad.commit(10_000, 1, "2")
        .read(55_000, "SYD", "/articles/2", Served::Version(0));
    let r = bad.check(&exp(), 10_000);
    assert_eq!(status(&r, Property::Staleness), Status::Violated);
    let v = r.get(Property::Staleness).unwrap().witness.clone().unwrap();
    assert_eq!(v.bound, Some((AppliedBound::FaultFree, 40_000)));
    assert_eq!(v.superseded_ms, Some(10_000));
    let w = v.to_string();
    assert!(w.contains("[fault-free bound: 40.000s]"), "{w}");
    // The witness: the commit that superseded it, and the offending read.
    assert!(
        w.contains("witness: t=    10000 db_commit v1 articles UPDATE id=2"),
        "{w}"
    );
    assert!(
        w.contains("request_end id=1 colo=SYD \"/articles/2\""),
        "{w}"
    );
}

#[test]
fn bounded_staleness_uses_the_under_faults_bound_when_a_fault_overlaps() {
    // The same 45 s of staleness, but row 2's webhook was dropped: the safety net's bound holds.
    let mut ok = H::default();
    ok.commit(10_000, 1, "2")
        .push(
            10_000,
            EventKind::WebhookDropped {
                delivery: 1,
                row_id: "2".into(),
            },
        )
        .read(55_000, "SYD", "/articles/2", Served::Version(0));
    assert_eq!(
        status(&ok.check(&exp(), 10_000), Property::Staleness),
        Status::Holds
    );
    // A dropped webhook of another row does not excuse row 2.
    let mut other = H::default();
    other
        .commit(10_000, 1, "2")
        .push(
            10_000,
            EventKind::WebhookDropped {
                delivery: 1,
                row_id: "3".into(),
            },
        )
        .read(55_000, "SYD", "/articles/2", Served::Version(0));
    assert_eq!(
        status(&other.check(&exp(), 10_000), Property::Staleness),
        Status::Violated
    );
    // A fault window counts only if it was active before the fault-free bound ran out (10 s +
    // 40 s): one opening at 45 s excuses the read at 55 s; one opening at 52 s does not.
    let window = |from: u64| {
        let mut h = H::default();
        h.commit(10_000, 1, "2")
            .push(
                from,
                EventKind::FaultStart {
                    fault: "supabase 503 p=1".into(),
                },
            )
            .push(
                from + 5_000,
                EventKind::FaultEnd {
                    fault: "supabase 503 p=1".into(),
                },
            )
            .read(55_000, "SYD", "/articles/2", Served::Version(0));
        h.check(&exp(), 10_000)
    };
    assert_eq!(status(&window(45_000), Property::Staleness), Status::Holds);
    let late = window(52_000);
    let v = late
        .get(Property::Staleness)
        .unwrap()
        .witness
        .clone()
        .unwrap();
    assert_eq!(v.bound, Some((AppliedBound::FaultFree, 40_000)));
    assert!(v.during.is_empty(), "{:?}", v.during);
    // Past the under-faults bound it fails, and the witness names the fault.
    let mut bad = H::default();
    bad.commit(10_000, 1, "2")
        .push(
            10_000,
            EventKind::WebhookDropped {
                delivery: 1,
                row_id: "2".into(),
            },
        )
        .read(170_000, "SYD", "/articles/2", Served::Version(0));
    let r = bad.check(&exp(), 10_000);
    let v = r.get(Property::Staleness).unwrap().witness.clone().unwrap();
    assert_eq!(v.bound, Some((AppliedBound::UnderFaults, 150_000)));
    let w = v.to_string();
    assert!(w.contains("during: webhook #1 for id=2 dropped"), "{w}");
}

#[test]
fn monotonic_reads() {
    let mut ok = H::default();
    ok.commit(10_000, 1, "1")
        .read(5_000, "SYD", "/articles/1", Served::Version(0))
        .read(20_000, "SYD", "/articles/1", Served::Version(1))
        // Another colo may lag behind: sessions are per colo.
        .read(21_000, "FRA", "/articles/1", Served::Version(0));
    assert_eq!(
        status(&ok.check(&exp(), 10_000), Property::MonotonicReads),
        Status::Holds
    );
    // The model's exception: the colo wrote the key itself; its read-your-writes entry ended.
    let mut ryw = H::default();
    ryw.commit(10_000, 1, "1")
        .kv(19_000, "SYD", "put", "/articles/1", Some(3))
        .read(20_000, "SYD", "/articles/1", Served::Version(1))
        .read(25_000, "SYD", "/articles/1", Served::Version(0));
    assert_eq!(
        status(&ryw.check(&exp(), 10_000), Property::MonotonicReads),
        Status::Holds
    );
    // Otherwise going back is a violation (a cache entry cannot expire back to older state).
    let mut bad = H::default();
    bad.commit(10_000, 1, "1")
        .read(20_000, "SYD", "/articles/1", Served::Version(1))
        .read(25_000, "SYD", "/articles/1", Served::Version(0));
    let r = bad.check(&exp(), 10_000);
    assert_eq!(status(&r, Property::MonotonicReads), Status::Violated);
    let w = witness_text(&r, Property::MonotonicReads);
    assert!(
        w.starts_with(
            "monotonic_reads: SYD /articles/1 served v0 at t=25.005s after serving v1 at t=20.005s"
        ),
        "{w}"
    );
    assert!(
        w.contains("request_end id=1 colo=SYD \"/articles/1\" status=200 body=00 served=v1"),
        "{w}"
    );
    assert!(
        w.contains("request_end id=2 colo=SYD \"/articles/1\" status=200 body=00 served=v0"),
        "{w}"
    );
    assert_eq!(r.enforced().len(), 1);
    // Reported, but not failing, unless the scenario asks.
    let lax = Expectations {
        enforce_monotonic_reads: false,
        ..exp()
    };
    let r = bad.check(&lax, 10_000);
    assert_eq!(status(&r, Property::MonotonicReads), Status::Violated);
    assert!(r.enforced().is_empty());
}

#[test]
fn read_your_writes() {
    let mut ok = H::default();
    ok.kv(1_000, "SYD", "put", "/articles", Some(4))
        .kv(2_000, "SYD", "get", "/articles", Some(4))
        // A newer write from elsewhere is fine.
        .kv(3_000, "SYD", "get", "/articles", Some(6))
        // Other colos owe nothing.
        .kv(3_000, "FRA", "get", "/articles", Some(2));
    assert_eq!(
        status(&ok.check(&exp(), 0), Property::ReadYourWrites),
        Status::Holds
    );
    let mut bad = H::default();
    bad.kv(1_000, "SYD", "put", "/articles", Some(4))
        .kv(2_000, "SYD", "get", "/articles", Some(2));
    let r = bad.check(&exp(), 0);
    assert_eq!(status(&r, Property::ReadYourWrites), Status::Violated);
    let w = witness_text(&r, Property::ReadYourWrites);
    assert!(
        w.starts_with("read_your_writes: SYD read KV \"/articles\" as KV v2 at t=2.000s after writing it as KV v4 at t=1.000s"),
        "{w}"
    );
    assert!(
        w.contains("witness: t=     1000 kv colo=SYD put \"/articles\" version=v4"),
        "{w}"
    );
    // Not promised when the model's read-your-writes is off.
    let off = Expectations {
        kv_read_your_writes: false,
        ..exp()
    };
    assert!(matches!(
        status(&bad.check(&off, 0), Property::ReadYourWrites),
        Status::NotChecked(_)
    ));
}

#[test]
fn convergence() {
    let mut ok = H::default();
    ok.commit(10_000, 1, "1")
        .read(300_000, "SYD", "/articles/1", Served::Version(1));
    assert_eq!(
        status(&ok.check(&exp(), 10_000), Property::Liveness),
        Status::Holds
    );
    let mut bad = H::default();
    bad.commit(10_000, 1, "1")
        .read(300_000, "SYD", "/articles/1", Served::Version(0));
    let r = bad.check(&exp(), 10_000);
    assert_eq!(status(&r, Property::Liveness), Status::Violated);
    let w = witness_text(&r, Property::Liveness);
    assert!(
        w.starts_with("convergence: SYD /articles/1 did not converge: v0 while the DB was at v1"),
        "{w}"
    );
    // The witness: the commit it missed and the read after the deadline.
    assert!(
        w.contains("witness: t=    10000 db_commit v1 articles UPDATE id=1"),
        "{w}"
    );
    assert!(
        w.contains("request_end id=1 colo=SYD \"/articles/1\" status=200 body=00 served=v0"),
        "{w}"
    );
}
