// `URLPattern` from `urlpattern-polyfill` (pinned in crates/js/toolchain/package.json), which
// installs itself when the engine has none. Its own `\p{ID_Start}` literals are expanded at
// build time (rewrite-regex.mjs).
import "urlpattern-polyfill";
