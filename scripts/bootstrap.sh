#!/usr/bin/env bash
# Puts Node 24 and the pinned pnpm first on PATH, installing them from the npm registry into
# ./.tools when the machine lacks them. Source it: `source scripts/bootstrap.sh`.
# Also installs redis-server with apt-get when it is missing and we are root (tests spawn one).

_rfq_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_rfq_tools="$_rfq_root/.tools"
_rfq_pnpm_version="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$_rfq_root/package.json")"

_rfq_node_major() { node --version 2>/dev/null | sed -n 's/^v\([0-9]*\).*/\1/p'; }

# `npm install --prefix DIR` reads its global config from DIR/etc/npmrc instead of the machine's (where
# a registry mirror or a proxy's CA bundle, `cafile`, may be set): keep the machine's, read before PATH
# changes. Without it a shell with no NODE_EXTRA_CA_CERTS behind a TLS proxy retries each request until
# npm falls back to its cache (minutes), or fails.
_rfq_npm_global=()
_rfq_globalconfig="$(npm config get globalconfig 2>/dev/null || true)"
if [ -n "$_rfq_globalconfig" ] && [ -f "$_rfq_globalconfig" ]; then _rfq_npm_global=(--globalconfig "$_rfq_globalconfig"); fi

if [ "$(_rfq_node_major)" != "24" ]; then
  if [ ! -x "$_rfq_tools/node24/node_modules/.bin/node" ]; then
    echo "bootstrap: installing Node 24 from the npm registry into .tools/node24" >&2
    npm install --silent --no-audit --no-fund "${_rfq_npm_global[@]}" --prefix "$_rfq_tools/node24" node@24 >&2 || return 1 2>/dev/null || exit 1
  fi
  export PATH="$_rfq_tools/node24/node_modules/.bin:$PATH"
fi

if [ "$(pnpm --version 2>/dev/null)" != "$_rfq_pnpm_version" ]; then
  if [ ! -x "$_rfq_tools/pnpm/node_modules/.bin/pnpm" ] || [ "$("$_rfq_tools/pnpm/node_modules/.bin/pnpm" --version 2>/dev/null)" != "$_rfq_pnpm_version" ]; then
    echo "bootstrap: installing pnpm $_rfq_pnpm_version into .tools/pnpm" >&2
    npm install --silent --no-audit --no-fund "${_rfq_npm_global[@]}" --prefix "$_rfq_tools/pnpm" "pnpm@$_rfq_pnpm_version" >&2 || return 1 2>/dev/null || exit 1
  fi
  export PATH="$_rfq_tools/pnpm/node_modules/.bin:$PATH"
fi

if ! command -v redis-server >/dev/null 2>&1 && [ -z "${REDIS_URL:-}" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing redis-server with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >&2
  else
    echo "bootstrap: no redis-server found; install it, or set REDIS_URL to a Redis you run" >&2
  fi
fi

echo "bootstrap: node $(node --version), pnpm $(pnpm --version)" >&2
unset _rfq_root _rfq_tools _rfq_pnpm_version _rfq_npm_global _rfq_globalconfig
