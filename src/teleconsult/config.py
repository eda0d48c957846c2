"""One settings object for the whole service, read from ``TELECONSULT_*`` variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TELECONSULT_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("./data")
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str = DEV_SECRET_KEY
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    access_log: bool = True
    # Who may read /metrics in production: these addresses or networks, or the bearer token.
    metrics_allow: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    metrics_token: str | None = None
    # Proxies (addresses or networks) whose X-Forwarded-For names the caller's address.
    trusted_proxies: list[str] = Field(default_factory=list)
    # The servers' event loop (eventloop.py): uvloop when installed, or asyncio's own.
    event_loop: Literal["auto", "uvloop", "asyncio"] = "auto"
    # The web pages; by default the web/ folder of a source checkout.
    web_dir: Path = Path(__file__).resolve().parents[2] / "web"

    token_ttl_hours: int = 12
    # Sign-in throttling (accounts/throttle.py): free tries per account and address, then a
    # back-off doubling up to login_max_backoff_seconds; ceilings per address and per account.
    login_window_minutes: int = 15
    login_free_tries: int = 5
    login_max_backoff_seconds: int = 900
    login_max_failures_per_address: int = 30
    login_max_failures_per_account: int = 100
    default_slot_minutes: int = 20
    # Statistics reports are cached per process and dropped on every rollup change (here at
    # once, elsewhere through the bus); this is how old one may ever get (stats/cache.py).
    stats_cache_seconds: float = Field(default=10.0, ge=0)
    db_pool_size: int = 10
    # /readyz says not ready when the SQLite database's disk has less free space than this.
    min_free_disk_mb: int = 100
    # Uploaded files (files/): larger ones are refused with 413 before they are stored.
    max_upload_mb: int = Field(default=25, ge=1, le=1024)
    # argon2id cost; the defaults follow RFC 9106's second recommended option.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536

    # Calls: STUN/TURN and media mode. No STUN server by default: none listens unless one is
    # set up (a local coturn serves both, see the README).
    stun_urls: list[str] = Field(default_factory=list)
    turn_urls: list[str] = Field(default_factory=list)
    turn_secret: str | None = None
    turn_ttl_seconds: int = 3600
    # "relay": browsers send media only through TURN (iceTransportPolicy).
    ice_transport_policy: Literal["all", "relay"] = "all"
    call_mode: Literal["p2p", "relay"] = "p2p"
    # The one-time ticket in a call's websocket URL.
    call_ticket_seconds: int = 60
    # Presence: each connection refreshes its entry every heartbeat; a silent one expires.
    call_heartbeat_seconds: float = 5.0
    call_presence_ttl_seconds: float = 15.0
    call_max_messages_per_second: int = 50
    # Relay mode: forward encoded frames ("encoded") or decode and re-encode ("decode", the
    # behaviour of aiortc's MediaRelay, kept as a fallback and a baseline).
    call_forwarding: Literal["encoded", "decode"] = "encoded"
    # Host ICE candidates on 127.0.0.1 only: for tests and single-machine demonstrations.
    call_loopback_only: bool = False

    # Cookies are Secure outside development; loopback HTTP still works locally.
    cookie_secure: bool | None = None

    # How one-time consent codes reach patients (consent/notifier.py): by SMS, the
    # development stand-in, or off (patients confirm from their account). Production refuses
    # the stand-in.
    consent_codes: Literal["sms", "development", "off"] = "development"

    # Messages (notify/): an SMS gateway taking a POST per message, and an SMTP server.
    sms_url: str | None = None
    sms_token: str | None = None
    sms_format: Literal["json", "form"] = "json"
    sms_phone_field: str = "phone"
    sms_text_field: str = "text"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "Teleconsult <no-reply@localhost>"
    smtp_starttls: bool = False

    @model_validator(mode="after")
    def _refuse_development_codes(self) -> Settings:
        if self.env == "production" and self.consent_codes == "development":
            raise ValueError(
                "TELECONSULT_CONSENT_CODES=development cannot deliver one-time codes in "
                "production; set it to sms (with TELECONSULT_SMS_URL) or to off (patients "
                "confirm from their account)"
            )
        if self.consent_codes == "sms" and not self.sms_url:
            raise ValueError("TELECONSULT_CONSENT_CODES=sms needs TELECONSULT_SMS_URL")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.env == "production" and (
            self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ValueError(
                "TELECONSULT_SECRET_KEY must be set to a random value of at least 32 characters "
                "when TELECONSULT_ENV=production"
            )
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'teleconsult.db').resolve()}"

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.env == "production"
