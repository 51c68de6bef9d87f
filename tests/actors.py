"""Who acts in the tests: one definition of each test actor (`kiosk.audit.Actor`), imported
wherever a service call needs one. The names match the staff users the tests create where
both exist (`make_user(session, "supervisor", username="sup")` is SUPERVISOR's account)."""

from __future__ import annotations

from kiosk.audit import Actor

CHIEF = Actor("chief", "chief")  # the chief judge (裁判长)
SUPERVISOR = Actor("sup", "supervisor")
CRYPT1 = Actor("crypt1", "crypt1")  # the encryption judge of the first draw
CRYPT2 = Actor("crypt2", "crypt2")  # and of the second
FIELD_JUDGE = Actor("field", "field")
# Someone for the services that record who acted but check no role (the views check it).
SOMEONE = Actor("t")
# What the factories build, as the command line would.
FACTORY = Actor("factory", "cli")
# What a browser test sets up on the instance behind a running server.
E2E_SETUP = Actor("e2e-setup", "cli")


def scorer(entry: int) -> Actor:
    """The scorekeeper of the first or second mark entry: two different people."""
    return Actor(f"scorer{entry}", "scorer")


def crypt_judge(stage: int) -> Actor:
    """The encryption judge of draw `stage` (1 or 2)."""
    return (CRYPT1, CRYPT2)[stage - 1]
