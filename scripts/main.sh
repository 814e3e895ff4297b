#!/usr/bin/env bash
# The main job: a local run of the pipeline on the sample service (test/pipeline/local-pipeline.ts),
# with the real action bundles against local stand-ins. Brings up what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --build
set -a; . .tmp/test-env; set +a
exec pnpm --filter @deploy-actions/test exec tsx pipeline/local-pipeline.ts
