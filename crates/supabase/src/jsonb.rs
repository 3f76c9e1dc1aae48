//! Postgres `jsonb::text` output: keys ordered by length then bytes, `", "` and `": "` separators.

use serde_json::Value;

/// Renders `v` the way Postgres prints a `jsonb` value.
pub fn jsonb_text(v: &Value) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

fn write(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| {
                a.len()
                    .cmp(&b.len())
                    .then_with(|| a.as_bytes().cmp(b.as_bytes()))
            });
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push_str(": ");
                write(&map[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Postgres's jsonb containment `a @> b`: objects contain the pairs of `b` (recursively), arrays
/// contain every element of `b` somewhere, a top-level array contains a matching scalar, and
/// scalars contain equal scalars (numbers by value).
pub fn contains(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(xs), b) if !b.is_array() && !b.is_object() => {
            xs.iter().any(|x| scalar_eq(x, b))
        }
        _ => contains_at(a, b),
    }
}

fn contains_at(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => mb
            .iter()
            .all(|(k, vb)| ma.get(k).is_some_and(|va| contains_at(va, vb))),
        (Value::Array(xa), Value::Array(xb)) => xb.iter().all(|vb| {
            xa.iter().any(|va| match (va, vb) {
                (Value::Array(_) | Value::Object(_), _)
                | (_, Value::Array(_) | Value::Object(_)) => contains_at(va, vb),
                _ => scalar_eq(va, vb),
            })
        }),
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => false,
        _ => scalar_eq(a, b),
    }
}

fn scalar_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_follows_postgres() {
        let j = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert!(contains(
            &j(r#"{"a":1,"b":{"c":[1,2]}}"#),
            &j(r#"{"b":{"c":[2]}}"#)
        ));
        assert!(!contains(&j(r#"{"a":1}"#), &j(r#"{"a":1,"b":2}"#)));
        assert!(contains(&j(r#"["a","b"]"#), &j(r#""a""#)));
        assert!(!contains(&j(r#"[["a"]]"#), &j(r#""a""#)));
        assert!(contains(&j(r#"[1,2,[3]]"#), &j(r#"[[3],1.0]"#)));
        assert!(!contains(&j(r#"[1,[2]]"#), &j(r#"[2]"#)));
        assert!(contains(&j(r#"[{"a":1,"b":2}]"#), &j(r#"[{"a":1}]"#)));
        assert!(contains(&j(r#"[]"#), &j(r#"[]"#)));
        assert!(!contains(&j(r#"{}"#), &j(r#"[]"#)));
    }

    #[test]
    fn orders_keys_like_postgres() {
        let v: Value = serde_json::from_str(
            r#"{"schema":"public","old_record":null,"type":"INSERT","record":{"updated_at":1,"id":2,"created_at":3},"table":"t"}"#,
        )
        .unwrap();
        assert_eq!(
            jsonb_text(&v),
            r#"{"type": "INSERT", "table": "t", "record": {"id": 2, "created_at": 3, "updated_at": 1}, "schema": "public", "old_record": null}"#
        );
    }
}
