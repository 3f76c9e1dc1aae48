//! The guest Worker components (demo, hardened, misbehaving fixtures), built for wasm32-wasip2 and embedded.
