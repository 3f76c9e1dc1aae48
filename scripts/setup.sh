#!/usr/bin/env bash
# Installs what edgesim's build, tests and tools need on a fresh machine that has only the stock
# Rust toolchain. Safe to run again: each step is a no-op when its tool is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# The pinned toolchain (rust-toolchain.toml) and its wasm target: these machines do not auto-install.
rustup toolchain install "$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)" \
    --profile minimal --component rustfmt,clippy --target wasm32-wasip2 >/dev/null 2>&1 || true
rustup target add wasm32-wasip2
rustup component add rustfmt clippy >/dev/null

# just: a prebuilt binary from PyPI when pip is there (seconds), else built from crates.io.
if ! command -v just >/dev/null 2>&1; then
    if command -v pip3 >/dev/null 2>&1 || command -v pip >/dev/null 2>&1; then
        "$(command -v pip3 || command -v pip)" install --quiet rust-just || true
        hash -r
    fi
    if ! command -v just >/dev/null 2>&1; then
        cargo install just --locked
    fi
fi
just --version
