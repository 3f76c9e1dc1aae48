//! Unit tests of the typed translator, run against a SQLite connection with the mock's
//! functions registered.

use super::*;
use rusqlite::Connection;

fn conn() -> Connection {
    let c = Connection::open_in_memory().unwrap();
    crate::functions::register(
        &c,
        std::sync::Arc::new(edgesim_core::ManualClock::at_epoch_ms(1_700_000_000_000)),
        edgesim_core::SimRng::from_seed(1),
    )
    .unwrap();
    c.execute_batch(
        "CREATE TABLE t (id int4, made date, score int4, price numeric, flag boolean, name text, meta jsonb, at timestamptz, tags text[]);
         INSERT INTO t VALUES (1, '2024-01-31', 3, 2, 1, 'Alice', '{\"a\": \"true\", \"n\": 2}', '2024-01-01T10:00:00+00:00', '[\"x\",\"y\"]');",
    )
    .unwrap();
    c
}

fn eval(c: &Connection, e: &str) -> Result<rusqlite::types::Value, String> {
    let env = DbEnv {
        conn: c,
        catalog: None,
        vars: None,
    };
    let x = translate_expr(e, &env, &["t"]).map_err(|e| e.to_string())?;
    c.query_row(&format!("SELECT {} FROM t", x.sql), [], |r| r.get(0))
        .map_err(|e| e.to_string())
}

use rusqlite::types::Value as V;

#[test]
fn casts_keep_postgres_meaning() {
    let c = conn();
    assert_eq!(eval(&c, "'true'::boolean").unwrap(), V::Integer(1));
    assert_eq!(eval(&c, "'f'::boolean").unwrap(), V::Integer(0));
    assert_eq!(eval(&c, "'off'::boolean is false").unwrap(), V::Integer(1));
    assert!(
        eval(&c, "'maybe'::boolean")
            .unwrap_err()
            .contains("boolean")
    );
    assert_eq!(eval(&c, "7.9::int").unwrap(), V::Integer(8));
    assert_eq!(eval(&c, "2.5::int").unwrap(), V::Integer(3));
    assert_eq!(eval(&c, "(-2.5)::int").unwrap(), V::Integer(-3));
    assert_eq!(eval(&c, "2.5::float8::int").unwrap(), V::Integer(2));
    assert_eq!(eval(&c, "score::numeric / 4").unwrap(), V::Real(0.75));
    assert_eq!(eval(&c, "score / 2").unwrap(), V::Integer(1));
    assert_eq!(eval(&c, "price / 4").unwrap(), V::Real(0.5));
    assert_eq!(
        eval(&c, "(made + 1)::text").unwrap(),
        V::Text("2024-02-01".into())
    );
    assert_eq!(eval(&c, "made - 1").unwrap(), V::Text("2024-01-30".into()));
    assert_eq!(
        eval(&c, "made - '2024-01-01'::date").unwrap(),
        V::Integer(30)
    );
    assert_eq!(eval(&c, "flag::text").unwrap(), V::Text("true".into()));
    assert_eq!(eval(&c, "(meta->>'a')::boolean").unwrap(), V::Integer(1));
    assert_eq!(
        eval(&c, "(meta->>'a')::boolean is false").unwrap(),
        V::Integer(0)
    );
    assert_eq!(eval(&c, "(meta->'n')::int + 1").unwrap(), V::Integer(3));
    assert!(eval(&c, "'x'::uuid").is_err());
    assert!(eval(&c, "made::int").unwrap_err().contains("not supported"));
    assert!(eval(&c, "id::point").unwrap_err().contains("not supported"));
    assert!(eval(&c, "1 / 0").unwrap_err().contains("division by zero"));
}

#[test]
fn operators_and_functions() {
    let c = conn();
    assert_eq!(eval(&c, "name ilike 'a%'").unwrap(), V::Integer(1));
    assert_eq!(
        eval(&c, "name ilike lower('A') || '%'").unwrap(),
        V::Integer(1)
    );
    assert_eq!(eval(&c, "name like 'a%'").unwrap(), V::Integer(0));
    assert_eq!(eval(&c, "name ~ '^A'").unwrap(), V::Integer(1));
    assert_eq!(eval(&c, "name ~* '^a'").unwrap(), V::Integer(1));
    assert_eq!(eval(&c, "name !~ '^a'").unwrap(), V::Integer(1));
    assert_eq!(eval(&c, "greatest(1, null, 3)").unwrap(), V::Integer(3));
    assert_eq!(eval(&c, "least(null, 2)").unwrap(), V::Integer(2));
    assert_eq!(
        eval(&c, "coalesce(null, name)").unwrap(),
        V::Text("Alice".into())
    );
    assert_eq!(eval(&c, "nullif(score, 3)").unwrap(), V::Null);
    assert_eq!(eval(&c, "'x' = any(tags)").unwrap(), V::Integer(1));
    assert_eq!(
        eval(&c, "'z' = any(array['a', 'z'])").unwrap(),
        V::Integer(1)
    );
    assert_eq!(eval(&c, "tags[2]").unwrap(), V::Text("y".into()));
    assert_eq!(
        eval(&c, "flag is distinct from null").unwrap(),
        V::Integer(1)
    );
    assert_eq!(
        eval(&c, "null::boolean is not true").unwrap(),
        V::Integer(1)
    );
    assert_eq!(eval(&c, "at > '2023-12-31'").unwrap(), V::Integer(1));
    assert_eq!(
        eval(&c, "(at + interval '1 day')::date").unwrap(),
        V::Text("2024-01-02".into())
    );
    assert!(eval(&c, "nosuch(1)").unwrap_err().contains("not supported"));
}

#[test]
fn queries_name_columns_as_postgres() {
    let c = conn();
    let env = DbEnv {
        conn: &c,
        catalog: None,
        vars: None,
    };
    let (sql, ty) = translate_query("select count(*)::numeric / 2 from public.t", &env).unwrap();
    assert_eq!(ty, Ty::Numeric);
    let v: f64 = c.query_row(&sql, [], |r| r.get(0)).unwrap();
    assert_eq!(v, 0.5);
    let (sql, _) = translate_query(
        "select (made + 1)::text, score::numeric / 4, made, x.name from t x order by name",
        &env,
    )
    .unwrap();
    let st = c.prepare(&sql).unwrap();
    let names: Vec<&str> = st.column_names();
    assert_eq!(names, vec!["text", "?column?", "made", "name"]);
}

#[test]
fn arrays_keep_postgres_meaning() {
    let c = conn();
    // any/all are three-valued: a null element with no match is null, not false.
    assert_eq!(eval(&c, "'x' = any(tags)").unwrap(), V::Integer(1));
    assert_eq!(eval(&c, "'z' = any(tags)").unwrap(), V::Integer(0));
    assert_eq!(eval(&c, "'z' = any(array['a', null])").unwrap(), V::Null);
    assert_eq!(
        eval(&c, "not ('z' = any(array['a', null]))").unwrap(),
        V::Null
    );
    assert_eq!(
        eval(&c, "'a' <> all(array['b', 'c'])").unwrap(),
        V::Integer(1)
    );
    assert_eq!(eval(&c, "3 > all(array[1, 2])").unwrap(), V::Integer(1));
    assert_eq!(eval(&c, "1 = any(null::int[])").unwrap(), V::Null);
    // Subscripts are 1-based; out of range is null; elements keep their type.
    assert_eq!(eval(&c, "tags[2]").unwrap(), V::Text("y".into()));
    assert_eq!(eval(&c, "tags[0]").unwrap(), V::Null);
    assert_eq!(eval(&c, "(array[10, 20])[2] + 1").unwrap(), V::Integer(21));
    assert_eq!(eval(&c, "('{4,5}'::int[])[1] * 2").unwrap(), V::Integer(8));
    // A cast that would change stored elements is refused, not run differently.
    assert!(eval(&c, "array[7.6, 2]::int[]").is_err());
    assert!(eval(&c, "array[1, 2]::bigint[]").is_ok());
    // upper() per Unicode character, ß kept (glibc's towupper).
    assert_eq!(
        eval(&c, "upper('straße é')").unwrap(),
        V::Text("STRAßE É".into())
    );
}
