//! Cloudflare Workers KV as seen from many colos at once: an eventually consistent model, pure, clock and RNG injected.
