from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sixfold.config import Settings
from sixfold.crypto import SecretBox, SecretDecryptionError


def test_secrets_round_trip_and_are_not_readable() -> None:
    box = SecretBox("key-one" * 8)
    token = box.encrypt("mastodon-access-token", context="channel:1")
    assert "mastodon" not in token
    assert box.decrypt(token, context="channel:1") == "mastodon-access-token"
    assert box.encrypt("same", context="c") != box.encrypt("same", context="c")


def test_wrong_key_context_or_tampering_is_detected() -> None:
    token = SecretBox("key-one" * 8).encrypt("secret", context="channel:1")
    with pytest.raises(SecretDecryptionError):
        SecretBox("key-two" * 8).decrypt(token, context="channel:1")
    with pytest.raises(SecretDecryptionError):
        SecretBox("key-one" * 8).decrypt(token, context="channel:2")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(SecretDecryptionError):
        SecretBox("key-one" * 8).decrypt(tampered, context="channel:1")


def test_generated_secret_key_is_private_and_stable(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=None)
    key = settings.resolved_secret_key
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 40
    assert Settings(data_dir=tmp_path, secret_key=None).resolved_secret_key == key
