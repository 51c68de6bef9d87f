@echo off
rem Trust the event's kiosk CA on a Windows workstation (Edge and Chrome use the Windows store).
rem Run as Administrator, with ca.crt from the server's instance\tls\ folder beside this file.
rem Compare the fingerprint printed below with the one `kiosk tls init` printed.
certutil -addstore -f Root "%~dp0ca.crt" || exit /b 1
certutil -hashfile "%~dp0ca.crt" SHA256
echo The kiosk CA is trusted. Remove it after the event: certutil -delstore Root "kiosk CA"
