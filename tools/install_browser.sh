#!/bin/sh
# Install Debian's Chromium and chromedriver for the browser tests of the HTML map.
# Never fails: without root or apt-get the tests skip and say why.
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser.sh: no apt-get; the browser tests will be skipped." >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install_browser.sh: not root; run 'apt-get install chromium chromium-driver'" \
        "to enable the browser tests." >&2
    exit 0
fi
echo "install_browser.sh: installing chromium and chromium-driver with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver; } >/dev/null; then
    echo "install_browser.sh: apt-get failed; the browser tests will be skipped." >&2
fi
exit 0
