"""Who is acting: the authenticated principal every application function takes, and its rights.

A `Principal` is made only by `assistant.application.accounts` from a proof (a password, a
signed token, an OpenID Connect identity); pages and CLI commands hand it to the `Shop`, which
checks it before doing anything. The rules, in one place:

    ============================  ===========  =================  ==============
    what                          shopper      operator           admin
    ============================  ===========  =================  ==============
    chat, replay, fork, copy      own          -                  -
    cancel a waiting checkout     own          -                  -
    read a conversation, audit    own          own tenant         every tenant
    end, delete a conversation    own          -                  every tenant
    list conversations, orders    own          own tenant         every tenant
    approvals queue, decide       -            own tenant, never  -
                                               their own order
    clean up idle conversations   own          -                  every tenant
    ============================  ===========  =================  ==============

A denial raises `NotAllowed` with a message that says what was refused and why; asking for
someone else's conversation is answered exactly like asking for one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assistant.application.errors import TurnError

Role = Literal["shopper", "operator", "admin"]
EVERY_TENANT = "*"


class NotSignedIn(TurnError):
    """Nobody is signed in (or the sign-in has expired or was revoked)."""


class NotAllowed(TurnError):
    """The signed-in principal may not do this; the message says what and why."""


@dataclass(frozen=True)
class Principal:
    """An authenticated shop user, as the application functions receive it.

    Attributes:
        username: the account.
        role: shopper, operator or admin.
        tenant: the tenant the account belongs to (`EVERY_TENANT` for an admin).
        display_name: how pages greet the user.
        via: how they proved it: "password", "token", "oidc" (for audit logs).
    """

    username: str
    role: Role
    tenant: str
    display_name: str
    via: str = "password"

    @property
    def is_shopper(self) -> bool:
        """True for shoppers (chat and buy)."""
        return self.role == "shopper"

    @property
    def is_operator(self) -> bool:
        """True for store operators (decide checkouts of their tenant)."""
        return self.role == "operator"

    @property
    def is_admin(self) -> bool:
        """True for store administrators (store-wide maintenance)."""
        return self.role == "admin"

    def covers_tenant(self, tenant: str) -> bool:
        """True when this principal's rights reach `tenant`."""
        return self.tenant == EVERY_TENANT or self.tenant == tenant


def require(who: object) -> Principal:
    """`who` if it is a principal; NotSignedIn otherwise (an anonymous caller)."""
    if not isinstance(who, Principal):
        raise NotSignedIn("Sign in first.")
    return who


def require_role(who: object, *roles: Role, doing: str) -> Principal:
    """`who` if their role is one of `roles`; NotAllowed naming what was refused otherwise."""
    principal = require(who)
    if principal.role not in roles:
        needed = " or ".join(f"an {r}" if r[0] in "aeiou" else f"a {r}" for r in roles)
        raise NotAllowed(f"Only {needed} may {doing}; you are signed in as a {principal.role}.")
    return principal
