import pytest


@pytest.mark.parametrize("address, status", [
    ("127.0.0.1", 200), ("10.20.30.40", 200), ("172.16.5.5", 200), ("192.168.1.23", 200),
    ("::1", 200), ("8.8.8.8", 403), ("203.0.113.9", 403), ("172.32.0.1", 403),
])
def test_only_the_lan_is_answered(client, address, status):
    response = client.get("/api/v1/clock", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == status


def test_forwarded_headers_are_not_trusted(client):
    response = client.get("/api/v1/clock", environ_base={"REMOTE_ADDR": "8.8.8.8"},
                          headers={"X-Forwarded-For": "192.168.1.2", "X-Real-IP": "10.0.0.1"})
    assert response.status_code == 403


def test_pages_forbid_outside_scripts_and_framing(client):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_load_nothing_from_the_internet(app, client):
    """No CDN: every script, stylesheet and image comes from this server."""
    import re

    for url in ["/login", "/kiosk"]:
        html = client.get(url).text
        for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not re.match(r"^(https?:)?//", ref), (url, ref)
