"""Optional HTTPS: a local CA whose server certificate a real TLS client accepts, and kiosk
behind a TLS terminator trusting its forwarded headers from 127.0.0.1 only."""

import json
import socket
import ssl
import threading
import urllib.request

import pytest
from cryptography import x509

from kiosk import clock
from kiosk.errors import KioskError
from kiosk.stations import binding
from kiosk.tls import make_certificates
from tests.actors import CHIEF
from tests.factories import issue_badge, make_stations
from tests.servers import Server


def test_the_server_certificate_chains_to_the_ca_and_names_the_hosts(tmp_path):
    folder = tmp_path / "tls"
    result = make_certificates(folder, event_name="测试赛事", hosts=["10.0.0.2", "kiosk.lan"],
                               now=clock.now(), days=7)
    ca = x509.load_pem_x509_certificate((folder / "ca.crt").read_bytes())
    server = x509.load_pem_x509_certificates((folder / "server.crt").read_bytes())
    server[0].verify_directly_issued_by(ca)
    assert server[1] == ca  # the chain a terminator sends
    names = server[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["10.0.0.2"]
    assert names.get_values_for_type(x509.DNSName) == ["kiosk.lan"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    assert (folder / "ca.key").stat().st_mode & 0o777 == 0o600
    assert len(result["ca_sha256"].split(":")) == 32
    with pytest.raises(KioskError, match="already holds a CA"):
        make_certificates(folder, event_name="x", hosts=["10.0.0.2"], now=clock.now())


def test_a_tls_client_trusting_the_ca_connects_and_one_without_it_refuses(tmp_path):
    folder = tmp_path / "tls"
    make_certificates(folder, event_name="测试", hosts=["127.0.0.1"], now=clock.now())
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(folder / "server.crt", folder / "server.key")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve(count):
        for _ in range(count):
            connection, _ = listener.accept()
            try:
                with server_context.wrap_socket(connection, server_side=True) as tls:
                    tls.sendall(b"ok")
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, args=(2,), daemon=True)
    thread.start()
    trusting = ssl.create_default_context(cafile=str(folder / "ca.crt"))
    with socket.create_connection(("127.0.0.1", port)) as raw, \
            trusting.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        assert tls.recv(2) == b"ok"
    stranger = ssl.create_default_context()  # the system's roots only
    with socket.create_connection(("127.0.0.1", port)) as raw, \
            pytest.raises(ssl.SSLCertVerificationError):
        stranger.wrap_socket(raw, server_hostname="127.0.0.1")
    thread.join(5)
    listener.close()


def _login(server, token, forwarded_for, origin=None):
    headers = {"Content-Type": "application/json", "X-Forwarded-For": forwarded_for,
               "X-Forwarded-Proto": "https", "X-Forwarded-Host": "kiosk.lan"}
    if origin:
        headers["Origin"] = origin
    request = urllib.request.Request(server.url + "/api/v1/station/login", method="POST",
                                     data=json.dumps({"token": token}).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as error:
        return error.code, ""


@pytest.mark.parametrize("behind_proxy", [True, False])
def test_forwarded_headers_count_only_behind_the_terminator(kiosk_instance, instance, session,
                                                            behind_proxy):
    station = make_stations(session, 1)[0]
    badge = issue_badge(session, station, instance.badge_key())
    binding.rebind(session, station.code, "10.9.8.7", actor=CHIEF, now=clock.now())
    instance.engine.dispose()
    config = kiosk_instance.path / "config.toml"
    config.write_text(config.read_text("utf-8") + f"behind_proxy = {str(behind_proxy).lower()}\n",
                      "utf-8")
    server = Server(kiosk_instance.path).start()
    try:
        if behind_proxy:
            # The workstation's own address, the HTTPS origin, a cookie for HTTPS only.
            status, cookie = _login(server, badge.qr_token, "10.9.8.7", "https://kiosk.lan")
            assert status == 200 and "Secure" in cookie
        else:
            # Anyone can send these headers: without a terminator they are ignored, so the
            # request comes from 127.0.0.1, not from the workstation the station is bound to.
            status, _ = _login(server, badge.qr_token, "10.9.8.7")
            assert status == 403
    finally:
        server.stop()
