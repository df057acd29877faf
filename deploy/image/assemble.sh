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
SERVICES=(gateway router connector billing analytics)
# Libraries the entry point runs itself (deploy/image/turnpike.mjs: `simulator`).
ENTRY_LIBS=(simulators)

mkdir -p "$DEST"
cd "$SRC"
# Libraries the runtime needs: the workspace libraries the services depend on at run time,
# transitively (their package.json `dependencies`; the test harnesses, conformance kit and
# catalog importer are devDependencies and stay out). Derived, so a new library ships with the
# service that needs it.
mapfile -t RUNTIME_LIBS < <(node -e '
  const fs = require("fs");
  const dirs = Object.fromEntries(fs.readdirSync("libs").filter((d) => fs.existsSync(`libs/${d}/package.json`))
    .map((d) => [JSON.parse(fs.readFileSync(`libs/${d}/package.json`, "utf8")).name, d]));
  const need = new Set();
  const visit = (pkgFile) => {
    const deps = JSON.parse(fs.readFileSync(pkgFile, "utf8")).dependencies ?? {};
    for (const name of Object.keys(deps)) {
      const dir = dirs[name];
      if (dir && !need.has(dir)) { need.add(dir); visit(`libs/${dir}/package.json`); }
    }
  };
  const [services, entry] = process.argv.slice(1).map((l) => l.split(" "));
  for (const l of entry) { need.add(l); visit(`libs/${l}/package.json`); }
  for (const s of services) visit(`services/${s}/package.json`);
  console.log([...need].sort().join("\n"));
' "${SERVICES[*]}" "${ENTRY_LIBS[*]}")
cp package-lock.json .npmrc "$DEST/"
# The root package.json names only the shipped workspaces: npm then leaves out what only the
# others need (the test harnesses' Postgres binaries, the conformance kit's clients), while the
# lockfile still pins every version.
node -e '
  const [src, dest, ...ws] = process.argv.slice(1);
  const pkg = JSON.parse(require("fs").readFileSync(src, "utf8"));
  pkg.workspaces = ws;
  require("fs").writeFileSync(dest, JSON.stringify(pkg, null, 2));
' package.json "$DEST/package.json" "${RUNTIME_LIBS[@]/#/libs/}" "${SERVICES[@]/#/services/}"
for lib in "${RUNTIME_LIBS[@]}"; do
  mkdir -p "$DEST/libs/$lib" && cp "libs/$lib/package.json" "$DEST/libs/$lib/" \
    && cp -R "libs/$lib/dist" "$DEST/libs/$lib/dist"
done
for s in "${SERVICES[@]}"; do
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
