//! `raise`: the message (`%` placeholders), `using message/detail/hint/errcode`, notices logged,
//! and the Postgres condition names an `exception when` clause or `errcode` may use.

use super::{Ctx, Env, Flow, value_text};
use crate::errors::ApiError;
use crate::migrate::lex::Tok;
use crate::routines::plpgsql::Level;
use crate::sqlerr;

/// The SQLSTATE of a condition name (`unique_violation` -> `23505`).
pub(super) fn condition_code(name: &str) -> Option<&'static str> {
    Some(match name {
        "unique_violation" => "23505",
        "foreign_key_violation" => "23503",
        "not_null_violation" => "23502",
        "check_violation" => "23514",
        "no_data_found" => "P0002",
        "too_many_rows" => "P0003",
        "raise_exception" => "P0001",
        "division_by_zero" => "22012",
        "invalid_text_representation" => "22P02",
        "insufficient_privilege" => "42501",
        "case_not_found" => "20000",
        "assert_failure" => "P0004",
        _ => return None,
    })
}

impl Ctx<'_> {
    /// Runs a `raise` statement: `Ok(Next)` for a notice (logged), the error otherwise.
    pub(super) fn raise(
        &mut self,
        level: Level,
        format: Option<&str>,
        args: &[Vec<Tok>],
        using: &[(String, Vec<Tok>)],
        env: &Env,
    ) -> Result<Flow, ApiError> {
        let mut code = "P0001".to_string();
        let mut message = String::new();
        match format {
            Some(f) if f.starts_with("sqlstate ") => {
                code = f["sqlstate ".len()..].to_string();
            }
            Some(f) if f.starts_with("condition ") => {
                let name = &f["condition ".len()..];
                code = condition_code(name).unwrap_or("P0001").to_string();
                message = name.to_string();
            }
            Some(f) => {
                let mut vals = Vec::new();
                for a in args {
                    vals.push(value_text(&self.eval(a, env)?));
                }
                let mut it = vals.into_iter();
                let mut chars = f.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '%' {
                        if chars.peek() == Some(&'%') {
                            chars.next();
                            message.push('%');
                        } else {
                            message.push_str(&it.next().unwrap_or_default());
                        }
                    } else {
                        message.push(c);
                    }
                }
            }
            None => {}
        }
        let mut details = None;
        let mut hint = None;
        for (k, e) in using {
            let v = value_text(&self.eval(e, env)?);
            match k.as_str() {
                "message" => message = v,
                "detail" => details = Some(v),
                "hint" => hint = Some(v),
                "errcode" => code = condition_code(&v).map(String::from).unwrap_or(v),
                _ => {}
            }
        }
        if level == Level::Notice {
            tracing::info!("NOTICE: {message}");
            return Ok(Flow::Next);
        }
        let status = match code.strip_prefix("PT").and_then(|s| s.parse::<u16>().ok()) {
            Some(s) => s,
            None => sqlerr::status_for(&code),
        };
        let mut e = ApiError::new(status, &code, message);
        e.details = details;
        e.hint = hint;
        Err(e)
    }
}
