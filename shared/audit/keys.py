"""The Ed25519 key that signs checkpoints: from settings, else a development key on disk."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.settings import Settings

log = logging.getLogger(__name__)

# Under data_dir, when no key is configured: good for a laptop, never for production.
DEVELOPMENT_KEY = Path("audit") / "signing-key.pem"


class NoSigningKey(RuntimeError):
    """No key is configured and none was generated: nothing can be trusted as ours."""

    code = "NO_SIGNING_KEY"


def signing_key(settings: Settings, *, generate: bool = True) -> Ed25519PrivateKey:
    """The configured key, else the data folder's development key (made when `generate`)."""
    pem = settings.audit_signing_key.get_secret_value()
    if pem:
        return _private(pem.encode())
    if settings.audit_signing_key_file is not None:
        return _private(settings.audit_signing_key_file.read_bytes())
    path = Path(settings.data_dir) / DEVELOPMENT_KEY
    if path.exists():
        return _private(path.read_bytes())
    if not generate:
        raise NoSigningKey(f"no signing key is configured and {path} does not exist")
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Readable by its owner only, created so from the start (never briefly wider), written
    # whole under another name and then linked: processes starting together (the services of
    # `accord serve` on one data folder) all end up with the one key linked first.
    # mkstemp: a name of its own for each caller (threads of one process too), mode 0600.
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    draft = Path(name)
    with os.fdopen(descriptor, "wb") as file:
        file.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    try:
        os.link(draft, path)
    except FileExistsError:
        return _private(path.read_bytes())
    finally:
        draft.unlink()
    log.warning("generated a development checkpoint signing key in %s", path)
    return key


def _private(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the checkpoint signing key must be an Ed25519 key")
    return key


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A short name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_bytes(key)).hexdigest()[:16]


def published(key: Ed25519PublicKey) -> dict[str, str]:
    """The public key as Accord publishes it, for auditors and consumers to trust by key_id."""
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "algorithm": "Ed25519",
        "key_id": key_id(key),
        "public_key": public_bytes(key).hex(),
        "pem": pem.decode(),
    }
