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

#[cfg(test)]
mod tests {
    use super::*;

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
