import pytest

from kiosk.config import ConfigError, Settings


def test_defaults_match_the_rules_of_the_day(tmp_path):
    settings = Settings.load(tmp_path, environ={})
    assert settings.theory_minutes == 20
    assert settings.warnings_at_minutes == [15, 5, 1]
    assert settings.upload_limit_mb == 2048
    assert "192.168.0.0/16" in settings.allowed_networks
    assert settings.database_url_for(tmp_path).startswith("sqlite:///")


def test_config_file_then_environment_override(tmp_path):
    (tmp_path / "config.toml").write_text('theory_minutes = 25\nevent_name = "省赛"\n', "utf-8")
    settings = Settings.load(tmp_path, environ={"KIOSK_THEORY_MINUTES": "30",
                                                "KIOSK_WARNINGS_AT_MINUTES": "10, 2"})
    assert settings.event_name == "省赛"
    assert settings.theory_minutes == 30
    assert settings.warnings_at_minutes == [10, 2]


@pytest.mark.parametrize("content, fragment", [
    ("theory_minuts = 3\n", "unknown settings theory_minuts"),
    ("theory_minutes = 0\n", "theory_minutes"),
    ("theory_minutes = \n", "config.toml"),
    ("grace_seconds = 61\n", "grace_seconds must be between 0 and 60"),
    ("grace_seconds = -1\n", "grace_seconds"),
])
def test_bad_config_is_refused_with_the_reason(tmp_path, content, fragment):
    (tmp_path / "config.toml").write_text(content, "utf-8")
    with pytest.raises(ConfigError, match=fragment):
        Settings.load(tmp_path, environ={})


def test_bad_environment_value_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="KIOSK_THEORY_MINUTES"):
        Settings.load(tmp_path, environ={"KIOSK_THEORY_MINUTES": "twenty"})
