#!/bin/sh
exec chromium --kiosk http://192.168.1.10:8080/kiosk --no-first-run --disable-pinch --overscroll-history-navigation=0
