"""Staff sign-in throttling (issue 14, item 3): guessing stays bounded, and nobody else's
failures lock the real user out of a browser where they signed in before (OWASP device cookies).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from kiosk import clock, staff
from kiosk.errors import Forbidden, TooManyAttempts, Unauthorized
from tests.factories import PASSWORD, csrf_from, make_user

HOME = "10.0.0.5"  # the chief judge's own workstation
ATTACKERS = [f"10.0.0.{n}" for n in range(60, 70)]  # a contestant's machine, many addresses


def sign_in(client, username: str, password: str, address: str):
    here = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=here)
    return client.post("/login", environ_base=here, data={
        "username": username, "password": password, "csrf_token": csrf_from(page.text)})


def sign_out(client, address: str):
    page = client.get("/staff", environ_base={"REMOTE_ADDR": address})
    client.post("/logout", data={"csrf_token": csrf_from(page.text)},
                environ_base={"REMOTE_ADDR": address})


def flood(app, username: str, addresses: list[str], per_address: int) -> list[int]:
    codes = []
    for address in addresses:
        attacker = app.test_client()  # a fresh browser: no device cookie
        codes += [sign_in(attacker, username, "guess", address).status_code
                  for _ in range(per_address)]
    return codes


def test_failures_from_other_addresses_never_lock_the_user_out_of_their_own_browser(
        app, chief):
    own_browser = app.test_client()
    assert sign_in(own_browser, "chief", PASSWORD, HOME).status_code == 302
    sign_out(own_browser, HOME)
    codes = flood(app, "chief", ATTACKERS, 10)
    assert 429 in codes  # the attack itself is throttled
    assert sign_in(own_browser, "chief", PASSWORD, HOME).status_code == 302


def test_one_hostile_address_cannot_keep_the_user_out_of_a_new_workstation(app, chief):
    codes = flood(app, "chief", ATTACKERS[:1], 30)
    assert codes.count(401) == 5 and codes.count(429) == 25
    assert sign_in(app.test_client(), "chief", PASSWORD, HOME).status_code == 302


def test_one_address_gets_five_guesses_per_user_and_twenty_in_all(app, chief):
    with app.extensions["kiosk"].session() as session:
        for n in range(5):
            make_user(session, "field", username=f"field{n}")
    attacker = app.test_client()
    per_user = [sign_in(attacker, "chief", "guess", ATTACKERS[0]).status_code for _ in range(6)]
    assert per_user == [401] * 5 + [429]
    # the right password does not get through a full bucket either
    assert sign_in(attacker, "chief", PASSWORD, ATTACKERS[0]).status_code == 429
    others = [sign_in(attacker, f"field{n}", "guess", ATTACKERS[0]).status_code
              for n in range(5) for _ in range(5)]
    assert others.count(401) == 15  # 20 failures from this address in the minute, then 429
    assert others[-1] == 429


def test_many_addresses_together_stay_bounded_per_user(app, chief):
    codes = flood(app, "chief", ATTACKERS, 5)
    assert codes.count(401) == 20  # across all browsers without a device cookie
    # That is what an attacker with many addresses can do: keep the user out of workstations
    # where they never signed in, while the attack lasts (docs/security.md).
    assert sign_in(app.test_client(), "chief", PASSWORD, HOME).status_code == 429


def test_a_device_cookie_is_its_own_bucket(app, chief):
    own_browser = app.test_client()
    assert sign_in(own_browser, "chief", PASSWORD, HOME).status_code == 302
    sign_out(own_browser, HOME)
    mine = [sign_in(own_browser, "chief", "typo", HOME).status_code for _ in range(6)]
    assert mine == [401] * 5 + [429]
    # the device's failures block only that device
    assert sign_in(app.test_client(), "chief", PASSWORD, HOME).status_code == 302


def test_a_device_cookie_counts_only_for_its_user_and_only_if_signed(app, chief):
    with app.extensions["kiosk"].session() as session:
        make_user(session, "field", username="field1")
    desk = app.test_client()
    assert sign_in(desk, "field1", PASSWORD, ATTACKERS[0]).status_code == 302
    sign_out(desk, ATTACKERS[0])
    # field1's cookie gives no bucket of its own for chief
    codes = [sign_in(desk, "chief", "guess", ATTACKERS[0]).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    forged = app.test_client()
    forged.set_cookie(staff_device_cookie_name(), "W1siY2hpZWYiLCJ4Il1d.forged")
    codes = [sign_in(forged, "chief", "guess", ATTACKERS[0]).status_code for _ in range(2)]
    assert codes == [429, 429]  # same address, no valid cookie: the untrusted buckets


def staff_device_cookie_name() -> str:
    from kiosk.device_cookie import COOKIE_NAME

    return COOKIE_NAME


def test_the_cookie_is_httponly_samesite_and_long_lived(app, chief):
    response = sign_in(app.test_client(), "chief", PASSWORD, HOME)
    cookies = response.headers.getlist("Set-Cookie")
    device = [c for c in cookies if c.startswith(staff_device_cookie_name() + "=")]
    assert device and "HttpOnly" in device[0] and "SameSite=Strict" in device[0]
    assert "Max-Age=" in device[0]


def test_cosign_goes_through_the_same_throttle(instance, now):
    with instance.session() as session:
        make_user(session, "supervisor", username="sup")
        make_user(session, "chief", username="boss")
        for _ in range(5):
            with pytest.raises(Unauthorized):
                staff.cosign(session, "sup", "guess", role="supervisor", address=ATTACKERS[0],
                             device=None, now=now, limit_per_minute=5)
        with pytest.raises(TooManyAttempts):
            staff.cosign(session, "sup", PASSWORD, role="supervisor", address=ATTACKERS[0],
                         device=None, now=now, limit_per_minute=5)
        # elsewhere, and on the server's console, the supervisor still co-signs
        assert staff.cosign(session, "sup", PASSWORD, role="supervisor", address=HOME,
                            device=None, now=now, limit_per_minute=5).username == "sup"
        assert staff.cosign(session, "sup", PASSWORD, role="supervisor", address="cli",
                            device=staff.CONSOLE_DEVICE, now=now,
                            limit_per_minute=5).username == "sup"
        with pytest.raises(Forbidden):
            staff.cosign(session, "boss", PASSWORD, role="supervisor", address=HOME,
                         device=None, now=now, limit_per_minute=5)


def test_the_window_slides(instance, now):
    with instance.session() as session:
        make_user(session, "chief", username="chief")
        for _ in range(5):
            with pytest.raises(Unauthorized):
                staff.authenticate(session, "chief", "guess", address=ATTACKERS[0], device=None,
                                   now=now, limit_per_minute=5)
        with pytest.raises(TooManyAttempts) as refused:
            staff.authenticate(session, "chief", PASSWORD, address=ATTACKERS[0], device=None,
                               now=now + timedelta(seconds=30), limit_per_minute=5)
        assert 1 <= refused.value.details["retry_after"] <= 31
        later = now + staff.THROTTLE_WINDOW + timedelta(seconds=1)
        assert staff.authenticate(session, "chief", PASSWORD, address=ATTACKERS[0],
                                  device=None, now=later, limit_per_minute=5)


@pytest.mark.parametrize("device", [None, "a-device-nonce"], ids=["untrusted", "device"])
def test_parallel_wrong_passwords_get_no_more_checks_than_the_limit(instance, monkeypatch,
                                                                    device):
    """Count first, then check: 30 wrong passwords at once, each in its own session, with a
    limit of 5, and at most 5 of them reach the password hash."""
    with instance.session() as session:
        make_user(session, "chief", username="chief")
    checks = []
    real_check = staff.check_password_hash

    def counting_check(pwhash, password):
        checks.append(password)
        return real_check(pwhash, password)

    monkeypatch.setattr(staff, "check_password_hash", counting_check)
    now = clock.now()
    barrier = threading.Barrier(30)
    outcomes = []

    def guess():
        with instance.session() as session:
            barrier.wait()
            try:
                staff.authenticate(session, "chief", "guess", address=ATTACKERS[0],
                                   device=device, now=now, limit_per_minute=5)
            except (Unauthorized, TooManyAttempts) as exc:
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checks) <= 5
    assert outcomes.count("Unauthorized") == len(checks)
    assert outcomes.count("TooManyAttempts") == 30 - len(checks)


def test_a_flood_from_the_hall_cannot_stop_the_unsealing(instance, now):
    """On the unsealing page the client is a signed-in judge: the supervisor's co-signature
    there counts in (that judge, the supervisor), which nobody in the hall can fill."""
    with instance.session() as session:
        make_user(session, "supervisor", username="sup")
        for address in ATTACKERS[:5]:
            for _ in range(5):
                with pytest.raises((Unauthorized, TooManyAttempts)):
                    staff.authenticate(session, "sup", "guess", address=address, device=None,
                                       now=now, limit_per_minute=5)
        with pytest.raises(TooManyAttempts):  # a workstation the supervisor never used
            staff.cosign(session, "sup", PASSWORD, role="supervisor", address=HOME,
                         device=None, now=now, limit_per_minute=5)
        assert staff.cosign(session, "sup", PASSWORD, role="supervisor", address=HOME,
                            device="staff:crypt1", now=now, limit_per_minute=5)
