#!/usr/bin/env bash
# Prints a key of the working tree as a build sees it: the path and bytes of every file git
# tracks or would add (what .gitignore leaves out, such as node_modules, .tmp and test/.cache,
# is not part of it), the committed bundles and generated files included. `scripts/setup.sh
# --build` records it after a build and builds again only when the key has changed since.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z --cached --others --exclude-standard --deduplicate | { xargs -0 sha256sum 2>&1 || true; } | sha256sum | cut -c1-64
