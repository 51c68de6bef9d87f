"""This machine's addresses on the hall's network, read without sending anything: what the demo
prints for the workstations, what the preflight checks and what the TLS certificate names."""

from __future__ import annotations

import socket
import struct


def lan_addresses() -> list[str]:
    """This machine's addresses that workstations can reach (no network traffic needed): every
    interface's address, and what the host name resolves to (on Debian only 127.0.1.1)."""
    addresses = _interface_addresses()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            addresses.add(str(info[4][0]))
    except OSError:
        pass
    return sorted((a for a in addresses if not a.startswith("127.")),
                  key=lambda a: tuple(int(part) for part in a.split(".")))


SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address


def _interface_addresses() -> set[str]:
    """Each network interface's IPv4 address (Linux). Windows needs none of this: there the
    host name resolves to every adapter's address."""
    try:
        import fcntl
    except ImportError:
        return set()
    found = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _index, name in socket.if_nameindex():
            try:
                answer = fcntl.ioctl(probe.fileno(), SIOCGIFADDR,
                                     struct.pack("256s", name[:15].encode()))
            except OSError:  # an interface without an IPv4 address
                continue
            found.add(socket.inet_ntoa(answer[20:24]))
    return found
