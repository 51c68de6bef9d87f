#!/bin/sh
# Trust the event's kiosk CA on a Linux workstation: the system store, and Chromium's own NSS
# store for the kiosk user (Chromium on Linux reads NSS, not the system store).
#   sudo sh install-ca.sh ca.crt [KIOSK_USER]      (needs libnss3-tools for certutil)
set -eu
ca="${1:?path to ca.crt}"
user="${2:-}"
cp "$ca" /usr/local/share/ca-certificates/kiosk-ca.crt
update-ca-certificates
if [ -n "$user" ]; then
  home="$(getent passwd "$user" | cut -d: -f6)"
  mkdir -p "$home/.pki/nssdb"
  certutil -d "sql:$home/.pki/nssdb" -A -t "C,," -n "kiosk CA" -i "$ca"
  chown -R "$user" "$home/.pki"
fi
sha256sum "$ca"
