"""Device cookies (OWASP, "Slow down online guessing attacks with device cookies").

A browser where a staff member signed in correctly gets a signed token naming that user and a
random nonce. Its later sign-ins as that user are counted in the nonce's own throttle bucket
(kiosk.staff), so failures from anywhere else can never lock the user out of that browser.
The token proves only "this browser once knew this user's password": it is no session and
grants nothing by itself. Pure (no Flask): the views read and set the cookie.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from itsdangerous import BadData, URLSafeSerializer

COOKIE_NAME = "kiosk_device"
LIFETIME = timedelta(days=30)  # the preparation days and the exam day, with room to spare
# A check-in desk is shared by several staff; each keeps a token, the newest first.
MAX_USERS = 8


class DeviceCookies:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="kiosk-device-cookie")

    def device_for(self, cookie: str | None, username: str, now: datetime) -> str | None:
        """The nonce of this browser's token for `username`, if it carries a valid one."""
        for name, nonce, _issued in self._entries(cookie, now):
            if name == username:
                return nonce
        return None

    def with_user(self, cookie: str | None, username: str, now: datetime) -> str:
        """The cookie after `username` signed in here: a fresh nonce for them (the failures of
        the old one stay with the old one), the other users' tokens kept."""
        others = [entry for entry in self._entries(cookie, now) if entry[0] != username]
        entries = [[username, secrets.token_urlsafe(16), int(now.timestamp())], *others]
        return self._serializer.dumps(entries[:MAX_USERS])

    def _entries(self, cookie: str | None, now: datetime) -> list[list]:
        if not cookie:
            return []
        try:
            entries = self._serializer.loads(cookie)
        except BadData:
            return []
        oldest = (now - LIFETIME).timestamp()
        if not isinstance(entries, list):
            return []
        return [entry for entry in entries
                if isinstance(entry, list) and len(entry) == 3
                and isinstance(entry[0], str) and isinstance(entry[1], str)
                and isinstance(entry[2], int) and entry[2] >= oldest]
