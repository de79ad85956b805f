"""Bearer JWTs into an Actor: HS256 with a secret in development, RS256 keys in production."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from shared.settings import Settings
from shared.values import check_text

# Verified tokens remembered until they expire; the cache is emptied when full.
VERIFIED_CACHE_SIZE = 4096


class AuthenticationError(Exception):
    """A token that cannot be trusted; `reason` says why, for the caller."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Actor:
    """Who is calling: subject, name, organisation, and their roles on each contract."""

    subject: str
    name: str = ""
    organisation: str = ""
    # contract id -> roles on that contract ("*" holds roles on every contract)
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # When the token was issued (its `iat`, seconds since the epoch): how fresh the login is.
    issued_at: int = 0

    def roles_on(self, contract_id: str) -> tuple[str, ...]:
        return tuple(self.roles.get(contract_id, ())) + tuple(self.roles.get("*", ()))

    def has_role(self, contract_id: str, *roles: str) -> bool:
        return any(role in roles for role in self.roles_on(contract_id))


class TokenVerifier:
    """Verifies signature, expiry, issuer and audience; refuses anything else with a reason."""

    def __init__(self, settings: Settings) -> None:
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._keys: dict[str | None, Any] = {}
        self._verified: dict[str, tuple[Actor, float]] = {}
        if settings.jwt_jwks_file is not None:
            jwks = json.loads(Path(settings.jwt_jwks_file).read_text())
            for key in jwks.get("keys", []):
                self._keys[key.get("kid")] = jwt.PyJWK(key).key
            self._algorithms = ["RS256"]
        elif settings.jwt_public_key_file is not None:
            self._keys[None] = Path(settings.jwt_public_key_file).read_text()
            self._algorithms = ["RS256"]
        else:
            self._keys[None] = settings.jwt_secret
            self._algorithms = ["HS256"]

    def verify(self, token: str) -> Actor:
        """The token's actor; a token already verified is answered from a small cache until
        it expires (verifying a signature on every request costs more than the query)."""
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        actor, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (actor, expires)
        return actor

    def _verify(self, token: str) -> tuple[Actor, float]:
        key = self._key_for(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["sub", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("token_expired", "the token has expired") from None
        except jwt.InvalidSignatureError:
            raise AuthenticationError(
                "bad_signature", "the token's signature is not valid"
            ) from None
        except jwt.InvalidAlgorithmError:
            raise AuthenticationError(
                "bad_algorithm", f"the token must be signed with {', '.join(self._algorithms)}"
            ) from None
        except jwt.InvalidAudienceError:
            raise AuthenticationError("bad_audience", "the token is not meant for Accord") from None
        except jwt.InvalidIssuerError:
            raise AuthenticationError("bad_issuer", "the token's issuer is not trusted") from None
        except jwt.MissingRequiredClaimError as error:
            raise AuthenticationError("missing_claim", str(error)) from None
        except jwt.InvalidTokenError as error:
            raise AuthenticationError(
                "malformed_token", f"the token is malformed: {error}"
            ) from None
        return actor_from_claims(claims), float(claims["exp"])

    def _key_for(self, token: str) -> Any:
        if None in self._keys:
            return self._keys[None]
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as error:
            raise AuthenticationError(
                "malformed_token", f"the token is malformed: {error}"
            ) from None
        if kid not in self._keys:
            raise AuthenticationError("unknown_key", f"no trusted key has id {kid!r}")
        return self._keys[kid]


def actor_from_claims(claims: Mapping[str, Any]) -> Actor:
    """The actor a verified token names; claims of the wrong shape make it untrustworthy."""
    raw_roles = claims.get("roles") or {}
    if not isinstance(raw_roles, Mapping):
        raise AuthenticationError(
            "malformed_roles", "the roles claim must map contract ids to lists of role names"
        )
    roles: dict[str, tuple[str, ...]] = {}
    for contract, value in raw_roles.items():
        if not isinstance(value, list) or not all(isinstance(role, str) for role in value):
            raise AuthenticationError(
                "malformed_roles",
                f"the roles claim must map contract ids to lists of role names; {contract!r}"
                f" maps to {type(value).__name__} {str(value)[:80]!r}",
            )
        roles[str(contract)] = tuple(value)
    subject, name, organisation = claims["sub"], claims.get("name") or "", claims.get("org") or ""
    for claim, text in (("sub", subject), ("name", name), ("org", organisation)):
        if not isinstance(text, str):
            raise AuthenticationError("malformed_claim", f"the {claim} claim must be a string")
    try:
        for text in (
            subject,
            name,
            organisation,
            *roles,
            *(r for rs in roles.values() for r in rs),
        ):
            check_text(text)
    except ValueError as error:
        raise AuthenticationError("malformed_claim", f"a claim of the token: {error}") from None
    issued_at = claims.get("iat", 0)
    if not isinstance(issued_at, int | float):
        raise AuthenticationError("malformed_claim", "the iat claim must be a number")
    return Actor(
        subject=subject, name=name, organisation=organisation, roles=roles, issued_at=int(issued_at)
    )


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer …` header."""
    if not authorization:
        raise AuthenticationError("missing_token", "an Authorization: Bearer token is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError(
            "malformed_header", "use the form 'Authorization: Bearer <token>'"
        )
    return token.strip()


def mint_token(
    settings: Settings,
    subject: str,
    *,
    name: str = "",
    organisation: str = "",
    roles: Mapping[str, list[str]] | None = None,
    ttl_seconds: int = 3600,
    private_key: str | None = None,
    issued_at: int | None = None,
) -> str:
    """A signed token: HS256 with the development secret, or RS256 with a private key;
    `issued_at` (seconds since the epoch) backdates it, as a login some minutes old."""
    now = int(time.time()) if issued_at is None else issued_at
    claims = {
        "sub": subject,
        "name": name,
        "org": organisation,
        "roles": dict(roles or {}),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if private_key is not None:
        return jwt.encode(claims, private_key, algorithm="RS256")
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
