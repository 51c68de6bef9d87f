"""Optional HTTPS on the exam LAN: a local certificate authority and a server certificate.

`kiosk tls init` writes into `<instance>/tls/`:
- `ca.crt` (install it on every workstation as a trusted root: `deploy/tls/`), `ca.key`;
- `server.crt` (the server certificate followed by the CA's, for the TLS terminator), `server.key`.

The CA is limited to this event: path length 0, valid for `days` (default 30), its name says
which event. kiosk itself speaks plain HTTP on loopback behind a TLS terminator (Caddy or nginx,
`deploy/tls/`), so waitress never handles keys.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kiosk.crypto import write_private_file
from kiosk.errors import N_, KioskError


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kiosk"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])


def _alt_names(hosts: list[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def make_certificates(folder: Path, *, event_name: str, hosts: list[str], now: datetime,
                      days: int = 30) -> dict:
    """A new CA and a server certificate for `hosts` (IP addresses or names)."""
    if not hosts:
        raise KioskError(N_("Give the server's addresses or names (--host)."))
    if (folder / "ca.key").exists():
        raise KioskError(N_("%(path)s already holds a CA; remove the folder to make a new one "
                            "(workstations must then trust the new CA)."), path=str(folder))
    start, end = now - timedelta(hours=1), now + timedelta(days=days)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"kiosk CA · {event_name}")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                       crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder().subject_name(_name(hosts[0])).issuer_name(ca_name)
              .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(start).not_valid_after(end)
              .add_extension(x509.SubjectAlternativeName(_alt_names(hosts)), critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                             critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                  ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM

    def private(key) -> bytes:
        return key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    write_private_file(folder / "ca.key", private(ca_key))
    write_private_file(folder / "server.key", private(server_key))
    (folder / "ca.crt").write_bytes(ca.public_bytes(pem))
    (folder / "server.crt").write_bytes(server.public_bytes(pem) + ca.public_bytes(pem))
    fingerprint = ca.fingerprint(hashes.SHA256()).hex(":").upper()
    return {"folder": str(folder), "hosts": hosts, "not_after": end.isoformat(),
            "ca_sha256": fingerprint}
