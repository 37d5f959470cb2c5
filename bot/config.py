"""Settings: read once from the environment and `.env`, typed, frozen; secrets never printed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


def bundled(name: str) -> Path:
    """A data folder of the project: the checkout's own (`faq/`, `locales/`) or the installed copy."""
    checkout = PACKAGE_DIR.parent / name
    if checkout.exists():
        return checkout
    return PACKAGE_DIR / "_data" / name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True, populate_by_name=True
    )

    telegram_bot_token: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field(default="https://api.telegram.org/bot", validation_alias="LCBOT_TELEGRAM_API_URL")
    database_url: str = Field(default="sqlite+aiosqlite:///lcbot.db", validation_alias="LCBOT_DATABASE_URL")
    faq_dir: Path = Field(default_factory=lambda: bundled("faq"), validation_alias="LCBOT_FAQ_DIR")
    locales_dir: Path = Field(default_factory=lambda: bundled("locales"), validation_alias="LCBOT_LOCALES_DIR")
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(default=frozenset(), validation_alias="LCBOT_ADMIN_IDS")
    default_language: str = Field(default="en", validation_alias="LCBOT_DEFAULT_LANGUAGE")
    webhook_url: str | None = Field(default=None, validation_alias="LCBOT_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, validation_alias="LCBOT_WEBHOOK_SECRET")
    listen: str = Field(default="127.0.0.1:8080", validation_alias="LCBOT_LISTEN")
    smtp_url: SecretStr | None = Field(default=None, validation_alias="LCBOT_SMTP_URL")
    mail_from: str | None = Field(default=None, validation_alias="LCBOT_MAIL_FROM")
    # Look up the domain of an address given at sign-up (DNS): off by default, the bot makes no such lookups.
    email_check_deliverability: bool = Field(default=False, validation_alias="LCBOT_EMAIL_CHECK_DELIVERABILITY")
    question_log_days: int = Field(default=365, ge=1, validation_alias="LCBOT_QUESTION_LOG_DAYS")
    log_format: str = Field(default="text", pattern="^(text|json)$", validation_alias="LCBOT_LOG_FORMAT")
    log_level: str = Field(default="INFO", validation_alias="LCBOT_LOG_LEVEL")
    # How often the running bot looks for FAQ edits (0: never; /reload still works).
    faq_watch_seconds: float = Field(default=2.0, ge=0, validation_alias="LCBOT_FAQ_WATCH_SECONDS")
    # Where the built FAQ index is kept between starts (default ~/.cache/lcbot; "off": never).
    cache_dir: str | None = Field(default=None, validation_alias="LCBOT_CACHE_DIR")
    flood_limit: int = Field(default=20, ge=1, validation_alias="LCBOT_FLOOD_LIMIT")  # updates per user...
    flood_window: float = Field(default=30.0, gt=0, validation_alias="LCBOT_FLOOD_WINDOW")  # ...in this many s

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError as exc:
                raise ValueError("LCBOT_ADMIN_IDS must be comma-separated Telegram user ids") from exc
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        """The URL holds a password: the error says what is wrong, never the value."""
        if value is None or not value.get_secret_value().strip():
            return None
        if urlsplit(value.get_secret_value().strip()).scheme not in ("smtp", "smtps"):
            raise ValueError("LCBOT_SMTP_URL must look like smtp://user:pass@host:port or smtps://...")
        return value

    @field_validator("default_language")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()

    @property
    def token(self) -> str | None:
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)
