#!/usr/bin/env bash
# Stand-in for `pnpm build` (the root package.json's build script) in the repository the release
# workflow's test releases (test/e2e/release.test.ts). The real build (ncc, three bundles) takes
# about a minute. The test never changes an action's sources, and for these sources the build's
# output is the bundles this repository commits (its CI checks that dist equals the build on
# every push to main). So this writes back the bundles recorded when the fixture was made, as
# the real build would write them, and fails when the sources are not the ones they were built
# from (it knows no other build).
#   build.sh --record    records the bundles and the fingerprint of their sources (fixture set-up)
set -euo pipefail
cd "$(dirname "$0")/../.."
recorded=.ci/fixture/build
actions() { for d in actions/*/; do [ -f "$d/package.json" ] && basename "$d"; done; }
sources() { git ls-files -s -- actions packages package.json pnpm-lock.yaml ':!actions/*/dist/*' | sha256sum | cut -d' ' -f1; }

if [ "${1:-}" = "--record" ]; then
  rm -rf "$recorded"
  for a in $(actions); do mkdir -p "$recorded/$a" && cp -R "actions/$a/dist/." "$recorded/$a/"; done
  sources >"$recorded/sources"
  exit 0
fi
if [ "$(sources)" != "$(cat "$recorded/sources")" ]; then
  echo "[build stand-in] the actions' sources differ from those the recorded bundles were built from" >&2
  exit 1
fi
for a in $(actions); do cp -R "$recorded/$a/." "actions/$a/dist/"; done
echo "[build stand-in] wrote the bundles of $(actions | paste -sd, -)"
