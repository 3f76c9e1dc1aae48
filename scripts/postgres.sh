#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries are installed (Debian's `postgresql` package) and prints
# the directory holding `initdb` and `postgres`. Used by the mock Supabase's differential test
# (crates/supabase/tests/pg_differential.rs), which starts its own throwaway cluster; nothing is
# started here. Exit status 0 and one line on stdout when PostgreSQL is usable, else non-zero.
set -euo pipefail

find_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then
            echo "$d"
            return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return 0
    fi
    return 1
}

if find_bindir; then
    exit 0
fi

echo "postgres.sh: PostgreSQL not found; installing Debian's postgresql package" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo="sudo -n"
    else
        echo "postgres.sh: not root and no sudo; cannot install postgresql" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >&2
$sudo apt-get install -y -q postgresql >&2
find_bindir
