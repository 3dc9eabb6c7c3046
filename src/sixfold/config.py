"""Settings from the environment (SIXFOLD_*), gathered in one object."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secret.key"  # noqa: S105 - a file name, not a secret


class Settings(BaseSettings):
    """Everything Sixfold can be configured with; read once at start-up."""

    model_config = SettingsConfigDict(env_prefix="SIXFOLD_", extra="ignore")

    data_dir: Path = Field(default=Path("data"))
    database_url: str | None = None
    secret_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    # Cookies marked Secure are not sent over plain http, which the laptop default uses.
    secure_cookies: bool = False
    session_days: int = 14
    password_min_length: int = 12
    # Failed logins before the account is locked, and how long the lock lasts at first;
    # each further failure doubles it.
    login_max_failures: int = 5
    login_lock_seconds: int = 60
    # In-process worker for durable jobs (the default on SQLite, where one writer is best).
    embedded_worker: bool = True
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_label: str = "Single sign-on"
    # Outgoing e-mail (review requests, failures). Without a host, mail waits in the outbox.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "sixfold@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    # Link previews fetch pages from the network; private addresses only when allowed
    # (a test server, an intranet), so the composer cannot be used to probe inside.
    link_preview_enabled: bool = True
    link_preview_allow_private: bool = False

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sixfold.db').resolve()}"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once into the data folder with mode 0600."""
        if self.secret_key:
            return self.secret_key
        return ensure_secret_key_file(self.data_dir)


def ensure_secret_key_file(data_dir: Path) -> str:
    path = data_dir / SECRET_KEY_FILE
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL makes two processes starting at once agree on one key instead of racing.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
