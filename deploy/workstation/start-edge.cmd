@echo off
rem Full-screen kiosk; not "public-browsing", which wipes the session when idle.
start "" "%ProgramFiles(x86)%\Microsoft\Edge\Application\msedge.exe" --kiosk http://192.168.1.10:8080/kiosk --edge-kiosk-type=fullscreen --no-first-run
