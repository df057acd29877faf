#!/usr/bin/env bash
# Assembles the image's runtime tree from a built checkout: `assemble.sh <built source> <dest>`.
# The Dockerfile's build stage runs it (into /app), and so does the image test
# (tests/src/e2e/image.e2e.ts) into a temporary directory, so both check the same tree:
#  - the lockfile and the shipped packages' package.json, then `npm ci --omit=dev` (each package
#    declares its own runtime dependencies: no test tooling, no TypeScript, no Postgres binaries);
#  - the compiled output (dist/) of those packages and the services' runtime files (catalogs);
#  - the entry point, deploy/image/turnpike.mjs.
set -euo pipefail
SRC="$(cd "$1" && pwd)"
DEST="$2"
# Libraries the runtime needs (the test harnesses, conformance kit and catalog importer stay out).
RUNTIME_LIBS=(config contracts kafka openai-api pricing providers routing secrets service-kit simulators telemetry)

mkdir -p "$DEST"
cd "$SRC"
cp package-lock.json .npmrc "$DEST/"
# The root package.json names only the shipped workspaces: npm then leaves out what only the
# others need (the test harnesses' Postgres binaries, the conformance kit's clients), while the
# lockfile still pins every version.
node -e '
  const [src, dest, ...ws] = process.argv.slice(1);
  const pkg = JSON.parse(require("fs").readFileSync(src, "utf8"));
  pkg.workspaces = ws;
  require("fs").writeFileSync(dest, JSON.stringify(pkg, null, 2));
' package.json "$DEST/package.json" "${RUNTIME_LIBS[@]/#/libs/}" services/gateway services/router \
  services/connector services/billing services/analytics
for lib in "${RUNTIME_LIBS[@]}"; do
  mkdir -p "$DEST/libs/$lib" && cp "libs/$lib/package.json" "$DEST/libs/$lib/" \
    && cp -R "libs/$lib/dist" "$DEST/libs/$lib/dist"
done
for s in gateway router connector billing analytics; do
  mkdir -p "$DEST/services/$s" && cp "services/$s/package.json" "$DEST/services/$s/" \
    && cp -R "services/$s/dist" "$DEST/services/$s/dist"
done
cp -R services/router/catalog "$DEST/services/router/catalog"
mkdir -p "$DEST/deploy/image" && cp deploy/image/turnpike.mjs "$DEST/deploy/image/"
# Specs and build metadata are not runtime.
find "$DEST" -path '*/dist/*' \( -name '*.spec.js' -o -name '*.int-spec.js' -o -name '*.spec.d.ts' \
  -o -name '*.int-spec.d.ts' -o -name '*.spec.js.map' -o -name '*.int-spec.js.map' -o -name '.tsbuildinfo' \) -delete

cd "$DEST"
npm ci --omit=dev --ignore-scripts --no-audit --no-fund >&2
rm -f .npmrc
