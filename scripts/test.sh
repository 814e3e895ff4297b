#!/usr/bin/env bash
# All tests: unit, integration and end to end, on the real Docker engine, registry, helm and
# kubectl. Brings up what it needs first (scripts/setup.sh). Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --build
set -a; . .tmp/test-env; set +a

echo "[test] type-checking"
pnpm -s typecheck

report=.tmp/vitest-report.json
rm -f "$report"
status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
if [ -f "$report" ]; then
  node -e '
    const r = require(process.argv[1]);
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$(pwd)/$report"
fi
exit $status
