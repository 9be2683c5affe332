"""Bearer tokens and what each role may do.

Roles: ``court`` (event intake), ``department:<id>`` (its own sanctions, its checks and
confirmations), ``auditor`` (reads everything, the access log included), ``operator`` (the
dashboard, deadlines, metrics; no subject's personal data). No token: the public list only.
Tokens are configured as SHA-256 digests (`shixin api token-hash`), never in the clear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from shixin.runtime.settings import ApiToken


def hash_token(token: str) -> str:
    """The digest a token is configured by. Tokens are long random strings, so a plain
    SHA-256 suffices (a slow password hash protects guessable secrets, not random ones)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    name: str
    role: str

    @property
    def department(self) -> str | None:
        return self.role.split(":", 1)[1] if self.role.startswith("department:") else None


class TokenBook:
    def __init__(self, tokens: Iterable[ApiToken]) -> None:
        self._by_hash = {t.sha256: Principal(t.name, t.role) for t in tokens}

    def __len__(self) -> int:
        return len(self._by_hash)

    def principal(self, authorization: str | None) -> Principal | None:
        """The holder of the bearer token in an Authorization header, or None."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        # looked up by digest: what a caller controls is the token, not its digest's bytes, so
        # the look-up's timing tells nothing about a configured digest
        return self._by_hash.get(hash_token(token.strip()))
