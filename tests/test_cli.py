import json

import pytest
from click.testing import CliRunner

from kiosk.cli import main


def run(*args, input=None, env=None):
    result = CliRunner().invoke(main, [str(a) for a in args], input=input, env=env)
    return result


def test_init_creates_and_then_refuses_to_touch_the_instance(tmp_path):
    path = tmp_path / "event"
    first = run("--instance", path, "init", "--event-name", "省赛")
    assert first.exit_code == 0, first.output
    assert (path / "config.toml").exists() and (path / "keys" / "receipt_signing_key.pem").exists()
    before = sorted(p.name for p in path.iterdir())
    config = (path / "config.toml").read_text("utf-8")
    again = run("init", "--instance", path)
    assert again.exit_code != 0
    assert "already exists" in again.output
    assert sorted(p.name for p in path.iterdir()) == before
    assert (path / "config.toml").read_text("utf-8") == config


@pytest.mark.parametrize("database", ["postgresql"])  # SQLite's file lives in the folder
def test_init_refuses_a_database_that_has_tables(kiosk_instance, tmp_path):
    result = run("--instance", tmp_path / "new", "init",
                 env={"KIOSK_DATABASE_URL": kiosk_instance.database_url})
    assert result.exit_code != 0
    assert "already has tables" in result.output
    assert not (tmp_path / "new").exists()


def test_user_add_with_password_on_stdin_and_json(kiosk_instance):
    result = run("--instance", kiosk_instance.path, "user", "add", "li.judge", "--role",
                 "field", "--password-stdin", "--json", input="s3cret-password\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"username": "li.judge", "role": "field"}
    duplicate = run("--instance", kiosk_instance.path, "user", "add", "li.judge", "--role",
                    "field", "--password-stdin", input="s3cret-password\n")
    assert duplicate.exit_code == 1
    assert "li.judge" in duplicate.output


def test_user_add_without_password_prints_a_random_one_once(kiosk_instance):
    result = run("--instance", kiosk_instance.path, "user", "add", "wang", "--role", "scorer",
                 "--json")
    password = json.loads(result.output)["password"]
    assert len(password) >= 12


def test_a_short_password_is_refused_with_the_reason(kiosk_instance):
    result = run("--instance", kiosk_instance.path, "user", "add", "zhao", "--role", "chief",
                 "--password-stdin", input="short\n")
    assert result.exit_code == 1
    assert "8" in result.output


def test_commands_on_a_missing_instance_say_what_to_do(tmp_path):
    result = run("--instance", tmp_path / "nothing", "audit", "verify")
    assert result.exit_code == 1
    assert "kiosk init" in result.output


def test_judge_key_new_writes_an_age_identity_that_age_understands(tmp_path):
    out = tmp_path / "judge.agekey"
    result = run("judge-key", "new", "--out", out, "--json")
    data = json.loads(result.output)
    assert data["recipient"].startswith("age1")
    assert "AGE-SECRET-KEY-1" in out.read_text()
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert run("judge-key", "new", "--out", out).exit_code != 0  # never overwritten


def test_judge_key_add_validates_the_recipient(kiosk_instance):
    bad = run("--instance", kiosk_instance.path, "judge-key", "add", "张裁判", "age1nonsense",
              "--role", "crypt1")
    assert bad.exit_code == 1
    from kiosk.crypto import new_age_identity

    _, recipient = new_age_identity()
    good = run("--instance", kiosk_instance.path, "judge-key", "add", "张裁判", recipient,
               "--role", "crypt1", "--json")
    assert good.exit_code == 0, good.output
    assert json.loads(good.output)["role"] == "crypt1"


def test_stations_add_continues_numbering_and_binds_ips(kiosk_instance):
    first = run("--instance", kiosk_instance.path, "stations", "add", "--count", 3,
                "--first-ip", "192.168.10.11", "--json")
    stations = json.loads(first.output)["stations"]
    assert [s["station"] for s in stations] == ["A01", "A02", "A03"]
    assert stations[2]["workstation_ip"] == "192.168.10.13"
    more = run("--instance", kiosk_instance.path, "stations", "add", "--count", 2, "--json")
    assert [s["station"] for s in json.loads(more.output)["stations"]] == ["A04", "A05"]


# ----------------------------------------------------------------------------- language

CHINESE = {"KIOSK_LANG": None}
ENGLISH = {"KIOSK_LANG": "en"}


def test_kiosk_help_is_chinese_by_default_and_english_with_kiosk_lang():
    chinese = run("--help", env=CHINESE)
    assert chinese.exit_code == 0, chinese.output
    assert "用法：" in chinese.output and "命令" in chinese.output
    assert "创建空实例" in chinese.output  # the short help of `kiosk init`
    assert "Create an empty instance" not in chinese.output
    english = run("--help", env=ENGLISH)
    assert "Usage:" in english.output and "Create an empty instance" in english.output
    assert "创建空实例" not in english.output


def test_a_subcommands_help_and_its_options_follow_the_language():
    chinese = run("user", "add", "--help", env=CHINESE)
    assert chinese.exit_code == 0, chinese.output
    assert "添加工作人员账号" in chinese.output and "从标准输入读取密码" in chinese.output
    assert "显示本帮助并退出" in chinese.output
    assert "Read the password" not in chinese.output
    english = run("user", "add", "--help", env=ENGLISH)
    assert "Add a staff account" in english.output
    assert "Read the password from standard input." in english.output


def every_command(command=main, path=("kiosk",)):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from every_command(sub, (*path, name))


def test_every_command_has_help_in_both_languages():
    from kiosk.i18n import cli_gettext

    for path, command in every_command():
        assert command.help, f"{' '.join(path)} has no help"
        assert cli_gettext(command.help) != command.help, f"{' '.join(path)}: untranslated help"
        for param in command.params:
            help_text = getattr(param, "help", None)
            if help_text:
                assert cli_gettext(help_text) != help_text, f"{' '.join(path)} {param.name}"


def test_every_command_translates_its_help():
    """A command made with plain `click.command` would print its help in English only."""
    from kiosk.cli_support import TranslatedHelp

    for path, command in every_command():
        assert isinstance(command, TranslatedHelp), f"{' '.join(path)} does not translate its help"


def test_preflight_speaks_chinese_by_default_and_english_with_kiosk_lang(kiosk_instance):
    chinese = run("--instance", kiosk_instance.path, "preflight", env=CHINESE)
    assert chinese.exit_code == 1  # an empty instance is not ready
    assert "✗ 赛位：0 个赛位" in chinese.output
    assert "数据库" in chinese.output and "stations" not in chinese.output
    english = run("--instance", kiosk_instance.path, "preflight", env=ENGLISH)
    assert "✗ stations: 0 stations" in english.output
    assert "赛位" not in english.output
