# Install kiosk as a Windows service with WinSW, and open its port on the private network.
#   powershell -ExecutionPolicy Bypass -File install-service.ps1 -WinSW C:\path\WinSW-x64.exe
# WinSW-x64.exe comes from https://github.com/winsw/winsw/releases (bring it on the USB disk
# with the kit). Run as Administrator, after install.ps1 and `kiosk --instance C:\kiosk\instance init`.
#
# Windows limit: waitress uses select() on Windows, which stops at 512 sockets; kiosk keeps its
# connection limit at 500 there. Each workstation holds one or two connections, so a Windows
# server suits up to about 250 seats; beyond that use a Linux server (poll(), 2000 connections).
param(
    [Parameter(Mandatory = $true)][string]$WinSW,
    [string]$Prefix = "C:\kiosk",
    [int]$Port = 8080
)
$ErrorActionPreference = "Stop"
$service = Join-Path $Prefix "service"
New-Item -ItemType Directory -Force -Path $service, (Join-Path $Prefix "logs") | Out-Null
Copy-Item -LiteralPath $WinSW -Destination (Join-Path $service "kiosk-service.exe") -Force
$xml = Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot "kiosk-service.xml")
$xml = $xml.Replace("C:\kiosk", $Prefix).Replace("--port 8080", "--port $Port")
Set-Content -LiteralPath (Join-Path $service "kiosk-service.xml") -Value $xml -Encoding UTF8
& (Join-Path $service "kiosk-service.exe") install
if ($LASTEXITCODE -ne 0) { throw "WinSW install failed" }
New-NetFirewallRule -DisplayName "kiosk $Port" -Direction Inbound -Protocol TCP `
    -LocalPort $Port -Profile Private, Domain -Action Allow | Out-Null
& (Join-Path $service "kiosk-service.exe") start
Write-Host "kiosk runs as the service 'kiosk' on port $Port; logs in $Prefix\logs."
Write-Host "Stop: $service\kiosk-service.exe stop   Remove: ... uninstall"
