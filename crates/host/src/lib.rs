//! The wasmtime host: runs a wasi:http Worker component bound to the KV model and the mock Supabase.
