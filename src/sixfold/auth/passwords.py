"""Password hashing (argon2id) and the password rules."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sixfold.errors import ValidationFailed

_HASHER = PasswordHasher()
# Verifying against this when the account does not exist keeps the response time the same,
# so timing does not reveal which e-mail addresses have accounts.
_DUMMY_HASH = _HASHER.hash("sixfold-timing-equaliser")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def check_password_rules(password: str, *, min_length: int, email: str = "") -> None:
    if len(password) < min_length:
        raise ValidationFailed(f"The password must be at least {min_length} characters long.")
    if len(password) > 1024:
        raise ValidationFailed("The password must be at most 1024 characters long.")
    if email and password.casefold() == email.casefold():
        raise ValidationFailed("The password must not be your e-mail address.")
    if len(set(password)) < 4:
        raise ValidationFailed("The password is too repetitive; use more different characters.")
