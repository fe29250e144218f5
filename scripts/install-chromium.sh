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

# Without recommends (upower, udev, a notification daemon...); a font so pages render text.
apt_install chromium chromium-driver fonts-liberation
is_installed || die "apt-get finished but /usr/bin/chromium or /usr/bin/chromedriver is missing"
log "installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
