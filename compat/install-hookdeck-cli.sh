#!/usr/bin/env bash
# Installs the Hookdeck CLI versions the compat tests run (from npm, with
# `npm pack` + tar) into a cache folder outside the repository:
#   ${SLUICE_COMPAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice-compat}/hookdeck-cli-<version>/hookdeck
# Idempotent: a version already installed (binary present and runnable) is
# left alone. Prints the binary paths. Usage: install-hookdeck-cli.sh [VERSION…]
set -euo pipefail

versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  versions=(2.5.0 2.6.0)
fi

cache="${SLUICE_COMPAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice-compat}"
mkdir -p "$cache"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-amd64 ;;
  Linux-aarch64) platform=linux-arm64 ;;
  Darwin-x86_64) platform=darwin-amd64 ;;
  Darwin-arm64) platform=darwin-arm64 ;;
  *) echo "install-hookdeck-cli: unsupported platform $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

for v in "${versions[@]}"; do
  dest="$cache/hookdeck-cli-$v"
  bin="$dest/hookdeck"
  if [ -x "$bin" ] && HOOKDECK_CLI_TELEMETRY_DISABLED=1 timeout 30 "$bin" --help >/dev/null 2>&1; then
    echo "$bin"
    continue
  fi
  work="$(mktemp -d "$cache/.install-$v.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "hookdeck-cli@$v" >/dev/null)
  tar -xzf "$work"/hookdeck-cli-"$v".tgz -C "$work" "package/binaries/$platform/hookdeck"
  chmod +x "$work/package/binaries/$platform/hookdeck"
  rm -rf "$dest"
  mkdir -p "$dest"
  mv "$work/package/binaries/$platform/hookdeck" "$bin"
  rm -rf "$work"
  trap - EXIT
  HOOKDECK_CLI_TELEMETRY_DISABLED=1 timeout 30 "$bin" --help >/dev/null
  echo "$bin"
done
