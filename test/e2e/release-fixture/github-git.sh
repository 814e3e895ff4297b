#!/usr/bin/env bash
# The runner machine's route to https://github.com/org/deploy-actions in the release
# workflow's test (test/e2e/release.test.ts), as git's ext:: transport:
#   ext::bash github-git.sh %S <bare repository> <access log>
# It serves the bare repository. Like GitHub, a push (git-receive-pack) needs credentials: the
# Authorization header actions/checkout persisted in the pushing repository's config
# (http.https://github.com/.extraheader); without it git fails as it does on a runner. The token
# of every push is appended to the access log, for the test to check its permissions.
set -euo pipefail
service=$1 bare=$2 log=$3
if [ "$service" = git-receive-pack ]; then
  header=$(git config --get http.https://github.com/.extraheader || true)
  if [ -z "$header" ]; then
    echo "fatal: could not read Username for 'https://github.com': terminal prompts disabled" >&2
    exit 128
  fi
  printf '%s %s\n' "$service" "$(printf '%s' "${header##* }" | base64 -d | cut -d: -f2-)" >>"$log"
fi
unset GIT_DIR GIT_WORK_TREE
exec "$service" "$bare"
