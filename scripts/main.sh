#!/usr/bin/env bash
# The main job: a local run of the pipeline on the sample service (test/pipeline/local-pipeline.ts),
# with the real action bundles against local stand-ins. Brings up what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
set -a; . .tmp/test-env; set +a
echo "[main] building the action bundles"
pnpm -s build >.tmp/build.log 2>&1 || { cat .tmp/build.log >&2; echo "[build] failed" >&2; exit 1; }
exec pnpm --filter @deploy-actions/test exec tsx pipeline/local-pipeline.ts
