
from kiosk.models import AuditEvent
from tests.factories import PASSWORD, csrf_from, login


def test_staff_sign_in_lands_on_the_role_home_in_chinese(client, chief):
    response = login(client, "chief")
    assert response.status_code == 302
    home = client.get(response.headers["Location"])
    assert "裁判长" in home.text
    assert "退出登录" in home.text


def test_a_wrong_password_is_refused_and_audited(app, client, chief):
    response = login(client, "chief", "wrong password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    with app.extensions["kiosk"].session() as session:
        actions = [e.action for e in session.query(AuditEvent)]
    assert "staff.login_failed" in actions


def test_guessing_is_throttled_even_for_the_right_password_afterwards(client, chief):
    for _ in range(5):
        assert login(client, "chief", "guess").status_code == 401
    blocked = login(client, "chief", PASSWORD)
    assert blocked.status_code == 429
    assert "登录失败次数过多" in blocked.text
    assert int(blocked.headers["Retry-After"]) > 0


def test_a_form_without_csrf_token_is_refused(client, chief):
    response = client.post("/login", data={"username": "chief", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.text


def test_sign_out_needs_post_and_token(client, chief):
    login(client, "chief")
    assert client.get("/logout").status_code == 405
    page = client.get("/staff")
    response = client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 302
    assert client.get("/staff").status_code == 302  # signed out: back to the login page


def test_session_cookie_is_httponly_and_samesite_strict(client, chief):
    response = login(client, "chief")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


def test_next_parameter_cannot_redirect_off_site(client, chief):
    page = client.get("/login?next=//evil.example/x")
    response = client.post("/login?next=//evil.example/x", data={
        "username": "chief", "password": PASSWORD, "csrf_token": csrf_from(page.text)})
    assert response.headers["Location"] == "/staff"


def test_csrf_token_lasts_a_whole_exam_day(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] >= 12 * 3600
