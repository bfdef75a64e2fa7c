#!/usr/bin/env bash
# Installs the Debian 12 packages dengon needs to build, test and run.
# Idempotent: asks dpkg what is already there and installs only what is missing,
# printing the list first. Run as root (or with sudo available).
#
#   packaging/install-deps.sh            build + test dependencies
#   packaging/install-deps.sh --runtime  only what the daemon needs at run time
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config clang libclang-rt-14-dev python3 python3-cryptography
  libuv1-dev libjansson-dev libinih-dev libltdl-dev libssl-dev
  libsqlite3-dev libcmocka-dev libmimalloc-dev
  iproute2 iptux xvfb dbus-daemon
)
runtime_pkgs=(libuv1 libjansson4 libinih1 libltdl7 libssl3 libsqlite3-0 libmimalloc2.0)

pkgs=("${build_pkgs[@]}")
[ "${1:-}" = "--runtime" ] && pkgs=("${runtime_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} packages already installed"
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}"
