#!/usr/bin/env bash
# The deployment checks, offline (CI's deploy step; `bash scripts/deploy-check.sh` by hand):
#  - helm and kubeconform built from the Go module proxy (`go install`), cached under the cache dir;
#  - helm lint; helm template for the default layout (external Kafka and Postgres) and the
#    bundled-dependencies values, and with every option on;
#  - kubeconform -strict on every rendered manifest, against the Kubernetes schemas vendored in
#    charts/turnpike/ci/schemas (scripts/k8s-schemas.mjs); the ServiceMonitor (a CRD) is checked
#    by the chart tests with the Prometheus Operator's schema;
#  - the chart tests (deploy/local/src/chart/chart.spec.ts: templates, values.schema.json
#    negative cases, settings known to the config classes);
#  - docker-compose.yml checked offline (scripts/compose-check.sh).
# Needs the build (tsc) done; Go 1.26 on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v4.3.2
KUBECONFORM_VERSION=v0.7.0
CACHE_DIR="${TURNPIKE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/turnpike}"
export GOPATH="$CACHE_DIR/go" GOFLAGS=-mod=mod

tool() { # name module version -> path of the binary, built once per version
  local name="$1" module="$2" version="$3"
  local bin="$CACHE_DIR/tools/$name-$version/bin"
  if [ ! -x "$bin/$name" ]; then
    echo "[deploy] go install $module@$version (once; cached in $bin)" >&2
    mkdir -p "$bin"
    (cd "$CACHE_DIR" && GOBIN="$bin" go install "$module@$version")
  fi
  echo "$bin/$name"
}
HELM="$(tool helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION")"
KUBECONFORM="$(tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION")"
export HELM
# `--tools-only`: build (or find) the tools and stop; CI builds them at the lowest priority while
# the suite runs, so a cold cache does not add their build time to the run.
if [ "${1:-}" = "--tools-only" ]; then
  bash scripts/compose-check.sh --build-only
  exit 0
fi

CHART=charts/turnpike
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

"$HELM" lint "$CHART" -f "$CHART/ci/external-values.yaml"
"$HELM" lint "$CHART" -f "$CHART/ci/bundled-values.yaml"
for values in external bundled full; do
  "$HELM" template tp "$CHART" -f "$CHART/ci/$values-values.yaml" > "$OUT/$values.yaml"
  echo "[deploy] helm template ($values values): $(grep -c '^kind:' "$OUT/$values.yaml") manifests"
done
"$KUBECONFORM" -strict -summary -skip ServiceMonitor \
  -schema-location "$CHART/ci/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$OUT"/*.yaml

bash scripts/turnpike node --test --test-reporter=spec deploy/local/dist/chart/chart.spec.js
bash scripts/compose-check.sh
