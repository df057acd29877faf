#!/usr/bin/env bash
# docker-compose.yml checked offline, without a Docker engine or the compose plugin (neither is
# on this machine: `docker compose version` fails): deploy/compose/check is a small Go program
# over compose-go, the loader `docker compose config` itself uses (the Compose Specification
# schema, interpolation, YAML merges, the model's consistency). Built once from the Go module
# proxy (pinned in its go.sum) and cached under the cache dir. Then checks what the schema
# cannot: every service but the one-shot jobs has a health check, and the application services
# wait for Kafka and Postgres to be healthy. The demo files compose mounts are checked for drift
# by deploy/local/src/compose/compose.spec.ts.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE_DIR="${TURNPIKE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/turnpike}"
export GOPATH="$CACHE_DIR/go" GOFLAGS=-mod=mod
SUM="$(cat deploy/compose/check/go.mod deploy/compose/check/go.sum deploy/compose/check/main.go | sha256sum | cut -c1-12)"
BIN="$CACHE_DIR/tools/compose-check-$SUM/compose-check"
if [ ! -x "$BIN" ]; then
  echo "[compose] go build deploy/compose/check (once; cached in $(dirname "$BIN"))" >&2
  mkdir -p "$(dirname "$BIN")"
  (cd deploy/compose/check && go build -o "$BIN" .)
fi
if [ "${1:-}" = "--build-only" ]; then exit 0; fi

# No .env of the developer's: the committed defaults are what is checked.
OUT="$(env -i PATH="$PATH" HOME="$HOME" "$BIN" docker-compose.yml)"
echo "$OUT"
fail=0
while read -r name health deps; do
  case "$name" in keys | seed-demo | jaeger) continue ;; esac
  if [ "$health" != "healthcheck=true" ]; then
    echo "[compose] $name has no health check" >&2
    fail=1
  fi
  case "$name" in kafka | postgres | sim | upstream-*) continue ;; esac
  for need in kafka=service_healthy postgres=service_healthy; do
    if [[ "$deps" != *"$need"* ]]; then
      echo "[compose] $name does not wait for $need" >&2
      fail=1
    fi
  done
done <<< "$OUT"
for s in gateway router connector billing analytics kafka postgres jaeger sim seed-demo; do
  grep -q "^$s " <<< "$OUT" || { echo "[compose] service $s is missing" >&2; fail=1; }
done
# The checker must be able to fail: a misspelt key and a dependency on no service are refused.
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
sed 's/stop_grace_period: 140s/stop_grace_perod: 140s/' docker-compose.yml > "$T/docker-compose.yml"
if env -i PATH="$PATH" HOME="$HOME" "$BIN" "$T/docker-compose.yml" >/dev/null 2>&1; then
  echo "[compose] a misspelt key was accepted" >&2
  fail=1
fi
sed '0,/router: { condition: service_healthy }/s//routr: { condition: service_healthy }/' docker-compose.yml > "$T/docker-compose.yml"
if env -i PATH="$PATH" HOME="$HOME" "$BIN" "$T/docker-compose.yml" >/dev/null 2>&1; then
  echo "[compose] a dependency on an undefined service was accepted" >&2
  fail=1
fi
[ "$fail" = 0 ] && echo "[compose] docker-compose.yml: valid, $(wc -l <<< "$OUT") services, health checks and ordering ok"
exit "$fail"
