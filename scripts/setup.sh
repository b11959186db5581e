#!/usr/bin/env bash
# Installs what the build and the tests need and is missing: Debian packages (libclang for
# RocksDB's bindings, a C++ compiler), the Rust toolchain's components, and the Python packages
# of the second-language vector check. Safe to run again; prints what it installs.
set -euo pipefail

need_pkgs=()
for pkg in libclang-dev g++ make python3 python3-pip; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
# python3/pip may come from elsewhere (pyenv); only ask apt for them if the commands are missing.
filtered=()
for pkg in "${need_pkgs[@]}"; do
  case "$pkg" in
    python3) command -v python3 >/dev/null 2>&1 || filtered+=("$pkg") ;;
    python3-pip) python3 -m pip --version >/dev/null 2>&1 || filtered+=("$pkg") ;;
    *) filtered+=("$pkg") ;;
  esac
done
if [ ${#filtered[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${filtered[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${filtered[@]}" </dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is missing: install the Rust toolchain (rustup) first" >&2
  exit 1
fi
for comp in rustfmt clippy; do
  if ! cargo "${comp/rustfmt/fmt}" --version >/dev/null 2>&1; then
    echo "setup: adding rust component $comp"
    rustup component add "$comp"
  fi
done

# ebl-verify must build for the browser; the suite checks it where this target is installed.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown target (to check that ebl-verify builds for browsers)"
  rustup target add wasm32-unknown-unknown </dev/null ||
    echo "setup: could not add wasm32-unknown-unknown: the suite will say it did not check the browser build" >&2
fi

if ! python3 -c 'import nacl' >/dev/null 2>&1; then
  echo "setup: installing Python package pynacl"
  python3 -m pip install --quiet --disable-pip-version-check pynacl </dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check --break-system-packages pynacl </dev/null
fi

# Build output lives outside the clone so that RocksDB's C++ build (~14 min) is done once.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ebl-ledger/target}"
mkdir -p "$CARGO_TARGET_DIR"
