"""Bearer tokens: good ones become an Actor, bad ones are refused with a clear reason."""

import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth import AuthenticationError, TokenVerifier, bearer_token, mint_token
from shared.settings import Settings


def settings(**overrides: object) -> Settings:
    return Settings(jwt_secret="unit-test-secret-at-least-32-bytes-long", **overrides)  # type: ignore[arg-type]


def test_a_development_token_becomes_an_actor_with_roles_per_contract() -> None:
    token = mint_token(
        settings(),
        "alice",
        name="Alice",
        organisation="Client Co",
        roles={"c1": ["decision_maker"]},
    )
    actor = TokenVerifier(settings()).verify(token)
    assert (actor.subject, actor.name, actor.organisation) == ("alice", "Alice", "Client Co")
    assert actor.has_role("c1", "decision_maker")
    assert not actor.has_role("c2", "decision_maker")


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = mint_token(Settings(jwt_secret="someone-elses-secret-at-least-32-bytes"), "mallory")
    with pytest.raises(AuthenticationError) as refused:
        TokenVerifier(settings()).verify(token)
    assert refused.value.code == "bad_signature"


def test_an_expired_token_is_refused() -> None:
    token = mint_token(settings(), "alice", ttl_seconds=-10)
    with pytest.raises(AuthenticationError) as refused:
        TokenVerifier(settings()).verify(token)
    assert refused.value.code == "token_expired"


def test_a_malformed_token_is_refused() -> None:
    with pytest.raises(AuthenticationError) as refused:
        TokenVerifier(settings()).verify("not.a.jwt")
    assert refused.value.code == "malformed_token"


def test_a_token_for_another_audience_is_refused() -> None:
    token = jwt.encode(
        {"sub": "a", "aud": "elsewhere", "iss": "accord", "iat": 0, "exp": 2**31},
        "unit-test-secret-at-least-32-bytes-long",
    )
    with pytest.raises(AuthenticationError) as refused:
        TokenVerifier(settings()).verify(token)
    assert refused.value.code == "bad_audience"


def test_an_unsigned_token_cannot_pass_for_a_signed_one() -> None:
    token = jwt.encode({"sub": "a", "aud": "accord", "iss": "accord"}, None, algorithm="none")
    with pytest.raises(AuthenticationError) as refused:
        TokenVerifier(settings()).verify(token)
    assert refused.value.code == "bad_algorithm"


def test_production_tokens_are_verified_with_an_rsa_public_key_and_a_jwks(tmp_path) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "key.pem").write_bytes(public)
    token = mint_token(settings(), "auditor", private_key=pem)
    assert (
        TokenVerifier(settings(jwt_public_key_file=tmp_path / "key.pem")).verify(token).subject
        == "auditor"
    )

    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk["kid"] = "k1"
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    with_kid = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}), pem, "RS256", {"kid": "k1"}
    )
    verifier = TokenVerifier(settings(jwt_jwks_file=tmp_path / "jwks.json"))
    assert verifier.verify(with_kid).subject == "auditor"
    with pytest.raises(AuthenticationError) as refused:
        verifier.verify(mint_token(settings(), "mallory"))
    assert refused.value.code == "unknown_key"


def test_the_authorization_header_must_be_a_bearer_token() -> None:
    assert bearer_token("Bearer abc") == "abc"
    with pytest.raises(AuthenticationError, match="Bearer"):
        bearer_token("Basic abc")
    with pytest.raises(AuthenticationError) as refused:
        bearer_token(None)
    assert refused.value.code == "missing_token"


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    import time

    verifier = TokenVerifier(settings())
    token = mint_token(settings(), "alice", ttl_seconds=1)
    assert verifier.verify(token).subject == "alice"
    assert verifier.verify(token).subject == "alice"  # answered from the cache
    time.sleep(1.2)
    with pytest.raises(AuthenticationError) as refused:
        verifier.verify(token)
    assert refused.value.code == "token_expired"


def signed(**claims: object) -> str:
    """A well-signed, unexpired token for Accord carrying the given claims."""
    base = {"sub": "alice", "aud": "accord", "iss": "accord", "iat": 0, "exp": 2**31}
    return jwt.encode({**base, **claims}, "unit-test-secret-at-least-32-bytes-long")


@pytest.mark.parametrize(
    "roles",
    [["c1"], "admin", 7, {"c1": "decision_maker"}, {"c1": 3}, {"c1": [["nested"]]}, {"c1": None}],
    ids=["a list", "a string", "a number", "role not listed", "role a number", "nested", "null"],
)
def test_a_signed_token_whose_roles_have_the_wrong_shape_is_refused(roles: object) -> None:
    with pytest.raises(AuthenticationError) as refused:
        TokenVerifier(settings()).verify(signed(roles=roles))
    assert refused.value.code == "malformed_roles"
    assert "map contract ids to lists of role names" in refused.value.reason


@pytest.mark.parametrize(
    "claims",
    [{"name": ["Alice"]}, {"org": {"x": 1}}, {"sub": "al\x00ice"}, {"roles": {"c1": ["dm\x07"]}}],
    ids=["name a list", "org an object", "NUL in the subject", "control character in a role"],
)
def test_a_signed_token_with_a_claim_no_store_could_hold_is_refused(
    claims: dict[str, object],
) -> None:
    with pytest.raises(AuthenticationError) as refused:
        TokenVerifier(settings()).verify(signed(**claims))
    assert refused.value.code == "malformed_claim"
