"""Settings of one instance: defaults, then the instance's `config.toml`, then `KIOSK_*` variables.

Everything for one event lives in one instance folder (database, keys, archives, exports), so that
the folder *is* the event: back it up and you have the day.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

DEFAULT_INSTANCE = "instance"

MAX_GRACE_SECONDS = 60

# Private ranges and loopback: an exam LAN is one of these; anything else is refused (issue 5).
PRIVATE_NETWORKS = [
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
]


class ConfigError(Exception):
    """The instance's configuration cannot be used; the message says what to fix."""


@dataclass
class Settings:
    event_name: str = "职业技能竞赛"
    session_name: str = "第一场"  # 场次, printed on badges and sheets
    database_url: str = ""  # empty: SQLite file inside the instance
    theory_minutes: int = 20
    practical_minutes: int = 150
    warnings_at_minutes: list[float] = field(default_factory=lambda: [15, 5, 1])
    # Answers arriving this long after the deadline still count: the kiosk queues a click made at
    # the last second and sends it a moment later. The server's deadline decides, never the browser.
    grace_seconds: int = 2
    upload_limit_mb: int = 2048
    allowed_networks: list[str] = field(default_factory=lambda: list(PRIVATE_NETWORKS))
    # 组别: the groups that are ranked separately; roster rows must name one of them.
    groups: list[str] = field(default_factory=lambda: ["职工组", "学生组"])
    theory_weight: int = 15
    practical_full_marks: int = 85
    # A CJK TrueType font for PDFs; empty: look in the usual Windows and Debian places.
    pdf_font: str = ""
    login_attempts_per_minute: int = 5
    # Automatic backups while a phase is open (and two hours after): every N minutes (0: off)
    # into backup_dir (empty: the instance's backups/; put it on a second disk), newest kept.
    # HTTPS through a TLS terminator on this machine (deploy/tls/): trust its X-Forwarded-*
    # headers from 127.0.0.1 only, and send cookies over HTTPS only.
    behind_proxy: bool = False
    backup_interval_minutes: int = 5
    backup_dir: str = ""
    backup_keep: int = 24
    log_level: str = "INFO"
    # Open connections one client address may hold: a browser opens up to 6 per host, so a
    # station never needs more; a hostile one cannot take the server's 2000 slots.
    connections_per_address: int = 32
    # A request whose headers have not all arrived this long after the connection opened (or
    # after its first byte, on a kept-alive connection) is cut off: a trickler cannot hold a slot.
    header_timeout_seconds: int = 10
    # A kept-alive connection idle this long between requests is closed: a workstation then holds
    # a socket only around its requests (its polls come every 5 s), not all day. What keeps a
    # Windows server, whose select() stops at 512 sockets, under it at 500 seats.
    keepalive_idle_seconds: float = 1.0

    @classmethod
    def load(cls, instance_path: Path, environ: dict[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        config_file = instance_path / "config.toml"
        if config_file.exists():
            try:
                values.update(tomllib.loads(config_file.read_text(encoding="utf-8")))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{config_file}: {exc}") from exc
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"{config_file}: unknown settings {', '.join(unknown)}")
        for name in known:
            env_value = environ.get(f"KIOSK_{name.upper()}")
            if env_value is not None:
                values[name] = _parse_env(name, env_value, getattr(cls(), name))
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        problems = []
        if not 1 <= self.theory_minutes <= 600:
            problems.append("theory_minutes must be between 1 and 600")
        if not 1 <= self.practical_minutes <= 1440:
            problems.append("practical_minutes must be between 1 and 1440")
        if self.upload_limit_mb < 1:
            problems.append("upload_limit_mb must be at least 1")
        if self.backup_interval_minutes < 0 or self.backup_keep < 1:
            problems.append("backup_interval_minutes must be 0 or more, backup_keep 1 or more")
        if self.connections_per_address < 1:
            problems.append("connections_per_address must be at least 1")
        if not 1 <= self.header_timeout_seconds <= 300:
            problems.append("header_timeout_seconds must be between 1 and 300")
        if not 0.1 <= self.keepalive_idle_seconds <= 30:
            problems.append("keepalive_idle_seconds must be between 0.1 and 30")
        if not 0 <= self.grace_seconds <= MAX_GRACE_SECONDS:
            # Requests in flight at the deadline, not extra time; the graded theory is kept once
            # the exam has settled past it (theory_exam/exam.py, _SETTLED).
            problems.append(f"grace_seconds must be between 0 and {MAX_GRACE_SECONDS}")
        if any(m < 0 for m in self.warnings_at_minutes):
            problems.append("warnings_at_minutes must not be negative")
        if problems:
            raise ConfigError("; ".join(problems))

    def backup_folder(self, instance_path: Path) -> Path:
        return Path(self.backup_dir) if self.backup_dir else instance_path / "backups"

    def database_url_for(self, instance_path: Path) -> str:
        return self.database_url or f"sqlite:///{(instance_path / 'kiosk.sqlite3').resolve()}"


def _parse_env(name: str, raw: str, default: object) -> object:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"KIOSK_{name.upper()}: not a whole number: {raw!r}") from exc
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError as exc:
            raise ConfigError(f"KIOSK_{name.upper()}: not a number: {raw!r}") from exc
    if isinstance(default, list):
        items = [item.strip() for item in raw.split(",") if item.strip()]
        if default and isinstance(default[0], int | float):
            try:
                numbers = [float(item) for item in items]
            except ValueError as exc:
                raise ConfigError(f"KIOSK_{name.upper()}: not numbers: {raw!r}") from exc
            return [int(n) if n.is_integer() else n for n in numbers]
        return items
    return raw


def instance_path_from(value: str | os.PathLike[str] | None) -> Path:
    return Path(value or os.environ.get("KIOSK_INSTANCE") or DEFAULT_INSTANCE).absolute()


def new_config_text(event_name: str) -> str:
    """The `config.toml` that `kiosk init` writes: every setting, commented, at its default."""
    defaults = Settings()
    lines = [
        "# kiosk instance settings. Values here override the defaults; KIOSK_<NAME> environment",
        "# variables override these (e.g. KIOSK_DATABASE_URL=postgresql+psycopg://…).",
        f"event_name = {_toml_str(event_name)}",
        "",
    ]
    for f in fields(Settings):
        if f.name == "event_name":
            continue
        lines.append(f"# {f.name} = {_toml_value(getattr(defaults, f.name))}")
    return "\n".join(lines) + "\n"


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def new_secret() -> str:
    return secrets.token_urlsafe(48)
