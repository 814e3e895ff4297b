#!/usr/bin/env bash
# Benchmarks: prints figures, asserts nothing. Runs every test/bench/*.ts in turn.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --build >/dev/null
set -a; . .tmp/test-env; set +a
# Cold: a Node compile cache in the caller's environment would warm every bundle run (the bench
# that measures the cache, test/bench/build-push-ecr.ts, names its own directories).
unset NODE_COMPILE_CACHE
for f in test/bench/*.ts; do
  [ -n "${BENCH:-}" ] && [[ "$f" != *"$BENCH"* ]] && continue
  echo "=== $f"
  (cd test && pnpm exec tsx "${f#test/}")
done
