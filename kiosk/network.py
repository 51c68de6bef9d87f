"""Addresses on the hall's network: one machine however a socket wrote its address, whether an
address is inside the allowed networks, and this machine's own addresses, read without sending
anything (what the demo prints for the workstations, what the preflight checks and what the TLS
certificate names)."""

from __future__ import annotations

import ipaddress
import socket
import struct


def plain_address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The machine behind an address as a socket wrote it: `::ffff:10.0.0.5` on a dual-stack
    listener is 10.0.0.5, a zone index (`fe80::1%eth0`) names no other machine; None for what
    is no address."""
    try:
        address = ipaddress.ip_address((text or "").split("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def address_allowed(address: str, networks) -> bool:
    """Is this client address inside one of the allowed networks? Asked by the server at accept
    (kiosk.http), by the web layer's guard for every request and by the demo's address list."""
    parsed = plain_address(address)
    return parsed is not None and any(parsed in network for network in networks)


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
