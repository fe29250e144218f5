#!/usr/bin/env bash
# Install Debian's chromium and chromium-driver (the headless browser and its WebDriver) for the
# dashboard's browser tests. Idempotent: exits at once when /usr/bin/chromium and
# /usr/bin/chromedriver are both there. Needs root, or sudo without a password.
set -euo pipefail

script=install-chromium
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

is_installed() { [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; }

if is_installed; then
  exit 0
fi

need_root "installing chromium with apt-get"

# dpkg allows one installer at a time; two test runs starting together wait for each other here
# rather than fail on dpkg's own lock.
mkdir -p "$cache_root"
exec 9>"$cache_root/.chromium.lock"
flock 9
if is_installed; then
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# Without recommends (upower, udev, a notification daemon...); a font so pages render text.
packages=(chromium chromium-driver fonts-liberation)
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
  log "apt has no package lists yet: apt-get update"
  "${as_root[@]}" apt-get update -qq
fi
log "apt-get install ${packages[*]}"
if ! "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; then
  # Stale lists name package versions the mirror no longer has.
  log "apt-get install failed; retrying after apt-get update"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
is_installed || die "apt-get finished but /usr/bin/chromium or /usr/bin/chromedriver is missing"
log "installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
