# Install kiosk on an air-gapped Windows server from this kit (nothing is downloaded).
#   powershell -ExecutionPolicy Bypass -File install.ps1 [-Prefix C:\kiosk]
# Needs Python (64-bit) of the version in PYTHON_VERSION, installed "for all users" with the
# py launcher.
param([string]$Prefix = "C:\kiosk")
$ErrorActionPreference = "Stop"
Set-Location -Path $PSScriptRoot
$want = (Get-Content PYTHON_VERSION).Trim()
$have = & py "-$want" -c "import sys, struct; print('%d.%d-%d' % (sys.version_info[0], sys.version_info[1], struct.calcsize('P') * 8))"
if ($LASTEXITCODE -ne 0 -or $have -ne "$want-64") {
    throw "This kit needs 64-bit Python $want (py -$want); found: $have"
}
Write-Host "Checking the kit (SHA256SUMS)..."
foreach ($line in Get-Content SHA256SUMS) {
    $hash, $name = $line -split "  ", 2
    $actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $name).Hash.ToLower()
    if ($actual -ne $hash) { throw "Damaged file in the kit: $name" }
}
& py "-$want" -m venv "$Prefix\venv"
& "$Prefix\venv\Scripts\python.exe" -m pip install --quiet --no-index `
    --find-links wheels\common --find-links wheels\windows "kiosk[postgres]"
if ($LASTEXITCODE -ne 0) { throw "pip install failed" }
& "$Prefix\venv\Scripts\kiosk.exe" --help | Out-Null
Write-Host "Installed: $Prefix\venv\Scripts\kiosk.exe"
Write-Host "Next: kiosk --instance C:\kiosk\instance init, kiosk rehearse, then deploy\windows\install-service.ps1"
