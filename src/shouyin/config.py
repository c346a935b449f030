"""Settings: the one place that reads the environment (prefix ``SHOUYIN_``)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_VAR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SHOUYIN_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    mode: Literal["production", "demo", "test"] = "production"
    database_url: str = f"sqlite:///{DEFAULT_VAR / 'shouyin.db'}"
    var_dir: Path = DEFAULT_VAR
    secret_key: str | None = Field(
        default=None, description="Signs sessions and CSRF tokens; a key file is made if unset"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    default_language: Literal["zh_CN", "en"] = "zh_CN"
    session_idle_minutes: int = 12 * 60
    session_max_hours: int = 7 * 24
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    # Discounts above this share of the order need to be written to the audit log.
    audit_discount_percent: int = 20
    # Returns refunding more than this (fen) need a manager's approval on the spot.
    return_approval_fen: int = 20000
    # The member data key ring (JSON) or the file that holds it; made on first use if neither.
    member_keys: str | None = None
    member_key_file: Path | None = None
    privacy_notice_version: str = "2026-01"
    statement_counting: bool = True
    # Parked carts (挂单) a till may hold at once.
    held_cart_limit: int = 5
    # The nightly loyalty jobs (points expiry, tier review) in the server process; unset: on,
    # except in test mode.
    run_jobs: bool | None = None
    log_level: str = "info"
    # Scale labels (电子秤条码), see catalog/scale.py: F prefix, P PLU, V value, X ignored,
    # C check digit; "off" reads no scale labels. The value is grams (weight) or fen (price).
    scale_layout: str = "FF PPPPP VVVVV C"
    scale_value: Literal["weight", "price"] = "weight"
    scale_prefixes: str = "20-29"
    # Selling more than is on hand: "warn" lets the sale go through with a warning to the
    # cashier (the shelf is often right and the books wrong), "block" refuses it.
    negative_stock: Literal["warn", "block"] = "warn"
    # Receiving more than a purchase order line ordered: "warn" takes it with a warning,
    # "block" refuses it.
    over_receipt: Literal["warn", "block"] = "warn"
    # Email (SMTP): unset host means no email is sent. Low-stock alerts go to stock_alert_to
    # (comma-separated addresses).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "shouyin@localhost"
    stock_alert_to: str | None = None
    # Returns of a receipt from another store of the chain: refused unless this is on.
    return_other_store: bool = False
    # Payment codes (付款码): the gateway ("simulator" needs no account) and how long the till
    # waits for a customer who is asked for a password before the payment is queried.
    payment_gateway: Literal["simulator"] = "simulator"
    payment_wait_seconds: int = 60
    # Receipt printers: seconds to wait for a network printer before giving up.
    printer_timeout_seconds: float = 3.0
    # The address customers reach this server at: the survey link in the receipt's QR code.
    public_url: str | None = None
    # The customer display (副屏): a line shown under the cart, and a text shown as a QR code
    # when the customer pays by scanning (the shop's own payment QR, for instance).
    display_message: str = "欢迎光临"
    display_pay_qr: str | None = None
    # Customer service. A receipt's survey link works this many days; an answer with a
    # satisfaction at or below survey_complaint_at opens a complaint (0: never).
    survey_max_age_days: int = Field(default=30, ge=1, le=365)
    survey_complaint_at: int = Field(default=2, ge=0, le=5)
    # Complaint deadlines, hours to first response / to resolution per priority, counted in
    # the store's opening hours ("business") or around the clock ("calendar").
    complaint_deadlines: str = "urgent=1/24,high=4/48,normal=24/72"
    complaint_hours: Literal["business", "calendar"] = "business"
    # The SLA check warns this long before a deadline; breaches are escalated to the store's
    # managers and HQ (in the app, and by email to complaint_alert_to when mail is set up).
    complaint_warn_minutes: int = Field(default=30, ge=0, le=24 * 60)
    complaint_alert_to: str | None = None
    # Given to the member when a deadline is missed: "" (nothing), "points:200", or
    # "coupon:<coupon template id>".
    complaint_breach_compensation: str = ""

    @model_validator(mode="after")
    def _scale_layout_readable(self) -> Settings:
        from shouyin.catalog.scale import layout_of

        # A layout that cannot be read stops the start, rather than every scan at the till.
        layout_of(self.scale_layout, self.scale_value, self.scale_prefixes)
        return self

    @model_validator(mode="after")
    def _complaint_settings_readable(self) -> Settings:
        from shouyin.service.deadlines import check_settings

        # Bad deadlines or compensation stop the start, not the first complaint or SLA check.
        check_settings(self)
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def key_file(self) -> Path:
        return self.member_key_file or self.var_dir / "member-keys.json"

    def resolved_secret(self) -> str:
        """The configured secret, or one kept in a key file with owner-only permissions."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
