#!/usr/bin/env bash
# Stand-in for scripts/setup.sh in the repository the release workflow's test releases
# (test/e2e/release.test.ts). The real one also brings up Docker, Debian's docker-registry and
# a Node 24 for the test suite, and installs the workspace's packages (pnpm install
# --frozen-lockfile). Only the packages matter to the release, and there is no network here:
# the runner machine has the workspace installed for the same lockfile at
# $DEPLOY_ACTIONS_INSTALLED (the working tree running the test), and this links its
# node_modules in the way pnpm links from its store (hard links), refusing another lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
installed=${DEPLOY_ACTIONS_INSTALLED:?the runner machine has no installed workspace (DEPLOY_ACTIONS_INSTALLED)}
if ! cmp -s pnpm-lock.yaml "$installed/pnpm-lock.yaml"; then
  echo "[setup stand-in] pnpm-lock.yaml is not the lockfile installed at $installed" >&2
  exit 1
fi
for dir in . actions/* packages/* test; do
  if [ -f "$dir/package.json" ] && [ -d "$installed/$dir/node_modules" ] && [ ! -e "$dir/node_modules" ]; then
    cp -al "$installed/$dir/node_modules" "$dir/node_modules" 2>/dev/null || cp -a "$installed/$dir/node_modules" "$dir/node_modules"
  fi
done
mkdir -p .tmp
: > .tmp/test-env # the real one names the Node 24 here; the job's Node (setup-node) runs everything
echo "[setup stand-in] the workspace's packages linked from $installed"
