"""Badge-code guessing, held in this process's memory so that it costs the database nothing.

Anyone in the hall can send badge codes before signing in. A guess over its address's limit is
refused here, before any query; a wrong code under the limit costs the one lookup that found it
wrong, and is tallied here instead of written. The tally becomes one audit event per address and
minute (kiosk.stations.sign_in.flush_badge_failures), written when the minute is over: by the
next sign-in attempt, by the server's timer, or when the server stops.

Thread-safe (one lock; each call is a few dictionary operations) and bounded: at most
`max_addresses` addresses are tracked; past that, newcomers share one bucket, so guessing from
ever more addresses stays bounded too.

Per process: with several servers on one database each keeps its own buckets and tallies, so an
address that reaches all of them gets the limit once per server, and its minute is audited once
per server.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

BADGE_GUESSES_PER_MINUTE = 20
MAX_ADDRESSES = 4096
# The bucket that addresses share while the table is full, and the tally's name for them.
OVERFLOW = "*"
# app.extensions key of the app's BadgeGuard.
BADGE_GUARD = "kiosk_badge_guard"


class GuessLimiter:
    """A token bucket per address: a burst of `per_minute`, then one guess every
    60 / per_minute seconds. Times are seconds (POSIX), given by the caller."""

    def __init__(self, per_minute: int = BADGE_GUESSES_PER_MINUTE,
                 max_addresses: int = MAX_ADDRESSES) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_addresses = max_addresses
        self._buckets: dict[str, list[float]] = {}  # address -> [tokens, at]
        self._swept_at = float("-inf")
        self._lock = threading.Lock()

    def reserve(self, address: str, now: float) -> int:
        """Take one guess from the address's bucket: 0, or the seconds until it has one.
        Taken before the code is checked, so parallel guesses cannot overdraw it."""
        with self._lock:
            key = self._key_for(address, now)
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + max(0.0, now - at) * self.rate)
            if tokens < 1:
                self._buckets[key] = [tokens, now]
                return max(1, math.ceil((1 - tokens) / self.rate))
            self._buckets[key] = [tokens - 1, now]
            return 0

    def peek(self, address: str, now: float) -> int:
        """Like reserve, but takes nothing: 0 if a guess would be admitted."""
        with self._lock:
            bucket = self._buckets.get(address)
            if bucket is None:
                return 0
            tokens = min(self.capacity, bucket[0] + max(0.0, now - bucket[1]) * self.rate)
            return 0 if tokens >= 1 else max(1, math.ceil((1 - tokens) / self.rate))

    def refund(self, address: str) -> None:
        """The code was right: it was no guess."""
        with self._lock:
            for key in (address, OVERFLOW):
                if key in self._buckets:
                    bucket = self._buckets[key]
                    bucket[0] = min(self.capacity, bucket[0] + 1)
                    return

    def tracked(self) -> int:
        with self._lock:
            return len(self._buckets)

    def _key_for(self, address: str, now: float) -> str:
        if address in self._buckets or len(self._buckets) < self.max_addresses:
            return address
        # Full: forget the buckets that have refilled (they hold nothing an attacker owes),
        # at most once a second, so that a flood from new addresses costs no scan per guess.
        if now - self._swept_at >= 1:
            self._swept_at = now
            self._buckets = {key: bucket for key, bucket in self._buckets.items()
                             if key == OVERFLOW
                             or bucket[0] + (now - bucket[1]) * self.rate < self.capacity}
        return address if len(self._buckets) < self.max_addresses else OVERFLOW


@dataclass(frozen=True)
class MinuteTally:
    """Rejected guesses from one address in one minute: `count` in all, of which `unchecked`
    were refused over the limit without looking at the code."""

    address: str
    minute: datetime
    count: int
    unchecked: int


class GuessTally:
    def __init__(self, max_addresses: int = MAX_ADDRESSES) -> None:
        self.max_addresses = max_addresses
        self._counts: dict[tuple[str, datetime], list[int]] = {}  # -> [count, unchecked]
        self._lock = threading.Lock()

    def add(self, address: str, now: datetime, *, checked: bool) -> None:
        key = (address, minute_of(now))
        with self._lock:
            if key not in self._counts and len(self._counts) >= self.max_addresses:
                key = (OVERFLOW, key[1])
            counts = self._counts.setdefault(key, [0, 0])
            counts[0] += 1
            counts[1] += 0 if checked else 1

    def has_completed(self, now: datetime) -> bool:
        current = minute_of(now)
        with self._lock:
            return any(minute < current for _address, minute in self._counts)

    def take(self, now: datetime, *, everything: bool = False) -> list[MinuteTally]:
        """The minutes that are over (or all, when the server stops), removed from the tally."""
        current = minute_of(now)
        with self._lock:
            keys = [key for key in self._counts if everything or key[1] < current]
            taken = [MinuteTally(address, minute, *self._counts.pop((address, minute)))
                     for address, minute in keys]
        return sorted(taken, key=lambda t: (t.minute, t.address))

    def put_back(self, tallies: list[MinuteTally]) -> None:
        """A flush that could not be written: the counts wait for the next one."""
        with self._lock:
            for t in tallies:
                counts = self._counts.setdefault((t.address, t.minute), [0, 0])
                counts[0] += t.count
                counts[1] += t.unchecked


def minute_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


class BadgeGuard:
    """What one server process knows about badge guessing: the limiter and the tally."""

    def __init__(self, per_minute: int = BADGE_GUESSES_PER_MINUTE,
                 max_addresses: int = MAX_ADDRESSES) -> None:
        self.limiter = GuessLimiter(per_minute, max_addresses)
        self.tally = GuessTally(max_addresses)
        # Address -> time.monotonic() until which the server reads nothing more from it
        # (kiosk.http): a refusal, however cheap, is still a request parsed by the one
        # interpreter that serves the hall; an address that keeps guessing past its limit is
        # left waiting in its own socket buffers instead. Read without the lock (one dict
        # lookup per readable socket and loop), written under it.
        self.held_back: dict[str, float] = {}
        self._held_back_lock = threading.Lock()
        self.max_addresses = max_addresses

    def admit(self, address: str, now: datetime) -> int:
        """0: go on and check the code; else seconds to wait (the guess is tallied)."""
        retry_after = self.limiter.reserve(address, now.timestamp())
        if retry_after:
            self.tally.add(address, now, checked=False)
        return retry_after

    def refuses(self, address: str, now: datetime) -> int:
        """At the door, before anything parses the request: seconds to wait if this address
        has no guess left (the refusal is tallied), else 0 and admit decides."""
        retry_after = self.limiter.peek(address, now.timestamp())
        if retry_after:
            self.tally.add(address, now, checked=False)
            self.hold_back(address, retry_after)
        return retry_after

    def hold_back(self, address: str, seconds: float) -> None:
        with self._held_back_lock:
            moment = time.monotonic()
            if len(self.held_back) >= self.max_addresses:
                for expired in [a for a, until in self.held_back.items() if until <= moment]:
                    del self.held_back[expired]
                if len(self.held_back) >= self.max_addresses:
                    return  # bounded: past this, the door's refusal alone answers
            self.held_back[address] = moment + seconds

    def rejected(self, address: str, now: datetime) -> None:
        self.tally.add(address, now, checked=True)

    def accepted(self, address: str) -> None:
        self.limiter.refund(address)

