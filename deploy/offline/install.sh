#!/bin/sh
# Install kiosk on an air-gapped Linux server from this kit (nothing is downloaded).
#   sh install.sh [PREFIX]        default PREFIX: /opt/kiosk
# Needs python3 of the version in PYTHON_VERSION, with venv (Debian: python3-venv).
set -eu
cd "$(dirname "$0")"
prefix="${1:-/opt/kiosk}"
want="$(cat PYTHON_VERSION)"
have="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$have" != "$want" ]; then
  echo "This kit is for Python $want; python3 here is $have." >&2
  exit 1
fi
echo "Checking the kit (SHA256SUMS)…"
sha256sum --quiet -c SHA256SUMS
python3 -m venv "$prefix/venv"
"$prefix/venv/bin/python" -m pip install --quiet --no-index \
  --find-links wheels/common --find-links wheels/linux 'kiosk[postgres]'
"$prefix/venv/bin/kiosk" --help >/dev/null
echo "Installed: $prefix/venv/bin/kiosk"
echo "Next: $prefix/venv/bin/kiosk --instance /srv/kiosk/instance init, then kiosk rehearse."
