//! A mock Supabase: PostgREST over SQLite behind the API gateway, with Database Webhooks.
