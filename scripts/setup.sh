#!/usr/bin/env bash
# The system packages facepoints needs, on Debian or Ubuntu: oneDNN for the
# native engine (libdnnl-dev), the compiler and tools node-gyp builds it with
# (g++, make, python3), and a font for the figures' text (fonts-dejavu-core).
# Runs `apt-get update` first, so it works on a fresh machine; uses sudo only
# when not root (a fresh container has no sudo, a workstation user needs it).
# Node.js itself (>= 20) must come first: apt's nodejs where it is new enough.
#
#   scripts/setup.sh                 (or: npm run setup)
#   scripts/setup.sh --with-browser  also Debian's chromium, for the browser tests (CI)
#   scripts/setup.sh --dry-run       print the commands instead of running them
set -euo pipefail

PACKAGES=(libdnnl-dev g++ make python3 fonts-dejavu-core)
dry_run=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=1 ;;
    --with-browser) PACKAGES+=(chromium) ;;
    *)
      echo "facepoints setup: unknown option $arg (expected --dry-run or --with-browser)" >&2
      exit 2
      ;;
  esac
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "facepoints setup: no apt-get here. Install by hand: oneDNN 2.x headers (libdnnl-dev), g++, make, python3." >&2
  echo "facepoints setup: without oneDNN, facepoints trains on the (slower) tfjs engine." >&2
  exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "facepoints setup: installing system packages needs root; run this as root or install sudo." >&2
    exit 1
  fi
  as_root=(sudo)
fi

run() {
  if [ "$dry_run" = 1 ]; then
    echo "$*"
  else
    "$@"
  fi
}

# env passes DEBIAN_FRONTEND through sudo, which drops the caller's environment.
run "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
run "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"

if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "facepoints setup: facepoints needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi
[ "$dry_run" = 1 ] || echo "facepoints setup: system packages installed; next: npm install"
