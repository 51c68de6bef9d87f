"""The workstation kit: browser policies and launch scripts that keep a Windows 10 workstation
on the exam server and nowhere else.

`kiosk lockdown kit --server URL --out DIR` writes it; deploy/workstation/ holds a copy made for
http://192.168.1.10:8080 as an example.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from kiosk.errors import N_, KioskError

CHROME_KEY = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Google\Chrome"
EDGE_KEY = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Edge"


def policies(server: str, edge: bool) -> dict:
    """Policy name → value (int for DWORD, str, or list of str), as both browsers name them."""
    origin = server.rstrip("/")
    common: dict = {
        "URLBlocklist": ["*", "view-source:*", "chrome://*", "edge://*", "file://*",
                         "javascript://*", "data:*"],
        "URLAllowlist": [f"{origin}/*"],
        "DeveloperToolsAvailability": 2,  # no developer tools
        "DownloadRestrictions": 3,  # no downloads
        "PrintingEnabled": 0,
        "HomepageLocation": f"{origin}/kiosk",
        "RestoreOnStartup": 4,
        "RestoreOnStartupURLs": [f"{origin}/kiosk"],
        "PasswordManagerEnabled": 0,
        "AutofillAddressEnabled": 0,
        "AutofillCreditCardEnabled": 0,
        "TranslateEnabled": 0,
        "BrowserSignin": 0,
        "SyncDisabled": 1,
        "EditBookmarksEnabled": 0,
        "BookmarkBarEnabled": 0,
        "TaskManagerEndProcessEnabled": 0,
        "DefaultPopupsSetting": 2,
        "DefaultNotificationsSetting": 2,
        "AllowDinosaurEasterEgg": 0,
        "ScreenCaptureAllowed": 0,
    }
    if edge:
        common["InPrivateModeAvailability"] = 1  # InPrivate off
        common["HideFirstRunExperience"] = 1
        common["EdgeShoppingAssistantEnabled"] = 0
        common["HubsSidebarEnabled"] = 0
    else:
        common["IncognitoModeAvailability"] = 1  # incognito off
        common["BrowserGuestModeEnabled"] = 0
    return common


def _reg_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def reg_file(key: str, values: dict) -> str:
    """A .reg file (regedit's format 5.00) setting these policies."""
    lines = ["Windows Registry Editor Version 5.00", "", f"[{key}]"]
    lists = {}
    for name, value in values.items():
        if isinstance(value, list):
            lists[name] = value
        elif isinstance(value, int):
            lines.append(f'"{name}"=dword:{value:08x}')
        else:
            lines.append(f'"{name}"={_reg_string(value)}')
    for name, items in lists.items():
        # A list policy is a subkey of numbered string values; replace what was there before.
        lines += ["", f"[-{key}\\{name}]", "", f"[{key}\\{name}]"]
        lines += [f'"{index}"={_reg_string(item)}' for index, item in enumerate(items, start=1)]
    return "\r\n".join(lines) + "\r\n"


def undo_reg_file(key: str, values: dict) -> str:
    lines = ["Windows Registry Editor Version 5.00", "", f"[{key}]"]
    lines += [f'"{name}"=-' for name, value in values.items() if not isinstance(value, list)]
    for name, value in values.items():
        if isinstance(value, list):
            lines += ["", f"[-{key}\\{name}]"]
    return "\r\n".join(lines) + "\r\n"


def _write_reg(path: Path, text: str) -> None:
    # regedit writes and prefers UTF-16 LE with a byte order mark.
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))


INSTRUCTIONS = """# 工位机锁定工具包 · Workstation kit

服务器地址 / server: {server}

## 手动安装（每台工位机，管理员身份）/ By hand (each workstation, as administrator)

1. 双击 `edge-policies.reg`（使用 Edge）或 `chrome-policies.reg`（使用 Chrome），确认导入。
   Double-click `edge-policies.reg` (Edge) or `chrome-policies.reg` (Chrome) and confirm.
2. 打开 `edge://policy` 或 `chrome://policy` 前先检查：此时这些地址已被禁止，说明策略已生效；
   如需确认，在导入前打开该页面，导入后点击“重新加载策略”。
   The policy pages are blocked once the policies apply — that is the check.
3. 把 `start-edge.cmd`（或 `start-chrome.cmd`）放进“启动”文件夹（`shell:startup`），
   工位机开机后即以全屏考试模式打开 {server}/kiosk。
   Put `start-edge.cmd` (or `start-chrome.cmd`) in the Startup folder (`shell:startup`).
   Edge runs with `--kiosk --edge-kiosk-type=fullscreen`; never `public-browsing`, which wipes the
   session after 5 idle minutes.

## 组策略 / Group policy

在域控制器上用“组策略首选项 → 注册表”导入 `.reg` 中的值，或使用 Microsoft Edge / Google Chrome
的管理模板（ADMX）设置同名策略：URLBlocklist、URLAllowlist、DeveloperToolsAvailability=2、
DownloadRestrictions=3、PrintingEnabled=0、
InPrivateModeAvailability=1 / IncognitoModeAvailability=1。
With a domain: import the values through Group Policy Preferences → Registry, or set the same
policies through the browsers' ADMX templates.

## Linux 工位机 / Linux workstations

`chrome-policies.json` → `/etc/opt/chrome/policies/managed/`,
Chromium: `/etc/chromium/policies/managed/`, Edge: `/etc/opt/edge/policies/managed/`.

## 撤销 / Undo

考试结束后运行 `undo.cmd`（管理员），删除上述策略；删除“启动”文件夹中的脚本。
After the exam run `undo.cmd` as administrator and remove the script from the Startup folder.
"""


def write_kit(server: str, out: Path) -> list[Path]:
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise KioskError(N_("The server address must look like http://192.168.1.10:8080"))
    server = f"{parts.scheme}://{parts.netloc}"
    out.mkdir(parents=True, exist_ok=True)
    chrome, edge = policies(server, edge=False), policies(server, edge=True)
    written = []

    def put(name: str, text: str | None = None, data: bytes | None = None) -> None:
        path = out / name
        if data is not None:
            path.write_bytes(data)
        elif name.endswith(".reg"):
            _write_reg(path, text or "")
        else:
            path.write_text(text or "", encoding="utf-8", newline="\r\n" if name.endswith(
                ".cmd") else "\n")
        written.append(path)

    put("chrome-policies.reg", reg_file(CHROME_KEY, chrome))
    put("edge-policies.reg", reg_file(EDGE_KEY, edge))
    put("undo-policies.reg", undo_reg_file(CHROME_KEY, chrome) + "\r\n" + "\r\n".join(
        undo_reg_file(EDGE_KEY, edge).split("\r\n")[1:]))
    put("chrome-policies.json", json.dumps(chrome, indent=2) + "\n")
    put("edge-policies.json", json.dumps(edge, indent=2) + "\n")
    kiosk_url = f"{server}/kiosk"
    put("start-edge.cmd", "@echo off\n"
        'rem Full-screen kiosk; not "public-browsing", which wipes the session when idle.\n'
        f'start "" "%ProgramFiles(x86)%\\Microsoft\\Edge\\Application\\msedge.exe" --kiosk '
        f"{kiosk_url} --edge-kiosk-type=fullscreen --no-first-run\n")
    put("start-chrome.cmd", "@echo off\n"
        f'start "" "%ProgramFiles%\\Google\\Chrome\\Application\\chrome.exe" --kiosk {kiosk_url} '
        "--no-first-run --disable-pinch --overscroll-history-navigation=0\n")
    put("start-chromium.sh", "#!/bin/sh\n"
        f"exec chromium --kiosk {kiosk_url} --no-first-run --disable-pinch "
        "--overscroll-history-navigation=0\n")
    put("undo.cmd", "@echo off\nrem Run as administrator after the exam.\n"
        'reg import "%~dp0undo-policies.reg"\n'
        "echo Policies removed. Remove start-*.cmd from the Startup folder (shell:startup).\n")
    put("README.md", INSTRUCTIONS.format(server=server))
    return written
