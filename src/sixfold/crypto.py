"""Secrets at rest: AES-256-GCM with a key derived from SIXFOLD_SECRET_KEY.

Separate keys are derived for separate purposes (HKDF `info`), so the key that encrypts
network tokens is never the one that signs cookies.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"


class SecretDecryptionError(ValueError):
    """The ciphertext was not made with this key, or was altered."""


def derive_key(secret_key: str, purpose: str, length: int = 32) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=length, salt=None, info=f"sixfold:{purpose}".encode()
    )
    return hkdf.derive(secret_key.encode("utf-8"))


class SecretBox:
    """Encrypts short secrets to a self-describing text token: `v1:<base64 nonce+ciphertext>`."""

    def __init__(self, secret_key: str) -> None:
        self._aead = AESGCM(derive_key(secret_key, "secrets-at-rest"))

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return f"{VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str, *, context: str = "") -> str:
        version, _, body = token.partition(":")
        if version != VERSION or not body:
            raise SecretDecryptionError("not a Sixfold secret token")
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
        try:
            plain = self._aead.decrypt(raw[:12], raw[12:], context.encode("utf-8"))
        except InvalidTag as error:
            raise SecretDecryptionError("secret cannot be decrypted with this key") from error
        return plain.decode("utf-8")
