//! The platform schemas every Supabase project has: `auth` (GoTrue's `auth.users`,
//! `auth.identities`) and `storage` (`storage.buckets`, `storage.objects`), created on a
//! fresh database before the migrations so that `references auth.users`, seeds of
//! `auth.users` and bucket seeds load. In SQLite each is a table literally named
//! `auth.users` (foreign keys cannot cross attached databases); `dispatch::qualify_schemas`
//! maps `auth.users` in statements to it. Not exposed over REST, as on Supabase.
//!
//! Differences: `auth.users.confirmed_at`, `auth.identities.email` and
//! `storage.objects.path_tokens` are plain columns (Postgres generates them); the Storage HTTP
//! API is not emulated.

use super::Source;
use std::path::PathBuf;

/// The platform schemas' DDL, in Postgres, as files for the loader.
pub fn sources() -> Vec<Source> {
    vec![
        Source {
            path: PathBuf::from("<platform>/auth.sql"),
            text: include_str!("auth.sql").to_string(),
        },
        Source {
            path: PathBuf::from("<platform>/storage.sql"),
            text: include_str!("storage.sql").to_string(),
        },
    ]
}
