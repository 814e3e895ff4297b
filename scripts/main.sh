#!/usr/bin/env bash
# The main job: the service's real workflows (the sample service's by default; `-- --service PATH`
# for another service directory) run through the workflow executor (test/pipeline/local-pipeline.ts)
# against local stand-ins. Brings up what it needs first.
set -euo pipefail
export MAIN_CALLER_CWD="$PWD"
cd "$(dirname "$0")/.."
bash scripts/setup.sh --build
set -a; . .tmp/test-env; set +a
exec pnpm --filter @deploy-actions/test exec tsx pipeline/local-pipeline.ts "$@"
