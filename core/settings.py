"""Runtime settings, read from SYMBIOSE_* environment variables (and a .env file)."""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# Development defaults. They are public (they are in the repository), so production refuses them.
DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 - refused in production
DEV_VAULT_KEK = base64.b64encode(b"symbiose-dev-only-kek-32-bytes!!").decode()
DEV_BLIND_INDEX_KEY = "dev-only-blind-index-key"
DEV_AUDIT_SIGNING_KEY = base64.b64encode(b"symbiose-dev-only-audit-key-32b!").decode()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SYMBIOSE_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{ROOT / 'var' / 'symbiose.db'}"
    # SQLite reads through a memory map of this many bytes (0: off). Off by default: a process
    # reading a memory-mapped file another process writes (a Celery worker on the same file)
    # died of a bus error twice in CI; a single-process deployment may turn it on for faster
    # catalogue searches.
    sqlite_mmap_bytes: int = Field(default=0, ge=0)
    # Empty: tasks run in-process (a thread pool), so the demo needs no server.
    broker_url: str = ""
    # Without a broker, run each task at once in the caller's thread instead of the pool: the
    # test suite and the demo's subprocess tests need it deterministic.
    tasks_sync: bool = False
    result_backend: str = ""
    secret_key: str = DEV_SECRET_KEY
    # Key-encryption keys of the identity vault: "id:base64key" pairs, comma separated; the first
    # one wraps new data keys, the others still unwrap older ones (rotation).
    vault_keks: str = f"dev1:{DEV_VAULT_KEK}"
    blind_index_key: str = DEV_BLIND_INDEX_KEY
    # The Ed25519 private key (base64 of its 32 raw bytes) that signs the audit chain's
    # checkpoints. Kept outside the database, so whoever can rewrite the tables cannot sign a
    # chain of their own; `symbiose audit public-key` prints the public half to publish.
    audit_signing_key: SecretStr = SecretStr(DEV_AUDIT_SIGNING_KEY)
    # Public keys (base64, comma separated) of former signing keys: checkpoints signed before a
    # key change still verify.
    audit_trusted_keys: str = ""
    # The platform's certificate authority (contracts/authority.py): its private key lives in
    # this directory, readable by the app's user only, never in the database.
    contracts_ca_dir: Path = ROOT / "var" / "ca"
    base_url: str = "http://127.0.0.1:8000"
    default_locale: Literal["fr", "en"] = "fr"
    session_max_age_seconds: int = 8 * 3600
    max_upload_bytes: int = 20 * 1024 * 1024
    import_max_rows: int = 200_000
    # Longest cell of an imported file, in characters: Excel's own limit, so any spreadsheet's
    # cell fits and a hostile one is refused with its line and column before it is checked.
    import_max_cell_chars: int = Field(default=32_767, ge=1)
    # Columns an imported row may fill; a territory file has about twenty.
    import_max_columns: int = Field(default=256, ge=30)
    # What an imported XLSX may unpack to, all parts together (real bytes, not the declared
    # sizes): a 200,000-row sheet of twenty columns is about 150 MB of XML.
    import_max_xlsx_bytes: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024)
    # Of which the shared strings, which the reader holds in memory whole.
    import_max_xlsx_shared_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    # Above this many rows, an import from the web runs as a background task with a progress bar.
    import_background_rows: int = 2_000
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    # "starttls" upgrades the connection (a submission port, 587); "tls" speaks TLS from the first
    # byte (465); "none" suits a relay on the same host or network only.
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    # A CA bundle trusted for the relay's certificate instead of the system's (a private relay).
    smtp_ca_file: str = ""
    mail_from: str = "no-reply@symbiose.local"
    k_anonymity: int = Field(default=3, ge=2)
    listing_ttl_days: int = Field(default=180, ge=1)
    # The catalogue's composition changes only at publication runs (beat), not as an instant echo
    # of one member's action, so that publishing or withdrawing cannot be used to probe or to hide
    # a rival's listing. One run a day, at this hour (UTC), when catalogue traffic is lowest.
    publication_hour_utc: int = Field(default=4, ge=0, le=23)
    # A listing that left public view still counts in the cell it was shown in for this long, so
    # one withdrawal does not push the cell's other listings coarser at the very next run.
    publication_hysteresis_days: int = Field(default=30, ge=0)
    # Catalogue searches per company and minute: every account and token of one company shares
    # one budget, so extra accounts do not multiply it; staff count per user, visitors per address.
    search_rate_per_minute: int = Field(default=120, ge=1)
    # Empty: rate-limit counters per process; a redis:// URL shares them between replicas.
    rate_limit_url: str = ""
    # The catalogue's response cache; off for measurements, or on a suspicion of it.
    catalogue_cache: bool = True
    # Proxies whose X-Forwarded-For / Forwarded headers name the client (addresses or networks,
    # comma separated). Empty: no header is believed and the peer is the client, since anyone
    # can write those headers and so pick a fresh rate-limit budget per request.
    trusted_proxies: str = ""
    # Failed logins (web form and token endpoint) allowed per account, and per address, within a
    # sliding window; past either, logins are refused (429 + Retry-After) until the window has
    # slid past enough failures. A window, not a lock: an attacker can hold a victim's account
    # shut only by failing continuously, and per-address limits cap each of its addresses.
    login_failures_per_account: int = Field(default=10, ge=1)
    login_failures_per_address: int = Field(default=30, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    # Largest request body of a JSON or form route; imports take max_upload_bytes (plus the
    # multipart envelope). Checked on Content-Length and while streaming, so memory stays bounded.
    max_json_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Default and longest lifetime of an API token; a client may ask for a shorter one.
    api_token_max_age_days: int = Field(default=90, ge=1)
    # Moves of one site, and of all a company's sites, per 24 hours. Distance bands are measured to
    # the listings' published points, so moving a site teaches nothing finer than the cards; the
    # limit (and an audit entry per move) keeps probing slow and visible all the same.
    site_moves_per_day: int = Field(default=3, ge=1)
    company_site_moves_per_day: int = Field(default=10, ge=1)
    # --- password reset (marketplace/accounts) --------------------------------------------------
    # How long an e-mailed reset link works; it works once.
    password_reset_ttl_minutes: int = Field(default=60, ge=5, le=24 * 60)
    # Reset requests allowed per e-mail address (whether or not it has an account, so the limit
    # tells nothing) and per client address within the window; past either, 429 + Retry-After.
    password_resets_per_account: int = Field(default=3, ge=1)
    password_resets_per_address: int = Field(default=10, ge=1)
    password_reset_window_seconds: int = Field(default=3600, ge=60)
    # --- the address search of the site form (core/addresses.py) -------------------------------
    # The national address service's geocoder (Base Adresse Nationale's API, e.g.
    # https://api-adresse.data.gouv.fr): the site form then offers an address field whose
    # suggestions our server fetches there. Empty (the default): no field, nothing leaves.
    address_service_url: str = ""
    # --- the facilitating association's contact, shown on the landing page ("how to join") ----
    # Empty fields are not shown; with none set, the page says to ask the territory's association.
    facilitator_name: str = ""
    facilitator_email: str = ""
    facilitator_phone: str = ""
    # --- introductions (marketplace/introductions) ---------------------------------------------
    # The territory's choice: the facilitator screens every interest (permits, distance, status)
    # before the owner hears of it; off, the platform proposes it to the owner at once.
    introduction_screening: bool = False
    # Whether the requester confirms after the owner's acceptance (its interest is already its
    # opt-in, so by default the owner's acceptance reveals both).
    introduction_requester_confirms: bool = False
    # An introduction nobody moved on for this long expires (beat).
    introduction_pending_days: int = Field(default=15, ge=1)
    # Interests one company may express per 24 hours, all its accounts together: each interest
    # shows the owner an anonymized card, so many would probe who owns what.
    introduction_interests_per_day: int = Field(default=10, ge=1)
    # A decline reaches the requester as "not available" only after a random delay of up to this
    # many hours, so that the moment it shows does not tell a decline from a withdrawn listing.
    introduction_silent_delay_hours: float = Field(default=48.0, ge=0)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def cookie_secure(self) -> bool:
        return self.environment == "production"

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        defaults = []
        if self.secret_key == DEV_SECRET_KEY:
            defaults.append("SYMBIOSE_SECRET_KEY")
        if DEV_VAULT_KEK in self.vault_keks:
            defaults.append("SYMBIOSE_VAULT_KEKS")
        if self.blind_index_key == DEV_BLIND_INDEX_KEY:
            defaults.append("SYMBIOSE_BLIND_INDEX_KEY")
        if self.audit_signing_key.get_secret_value() == DEV_AUDIT_SIGNING_KEY:
            defaults.append("SYMBIOSE_AUDIT_SIGNING_KEY")
        if defaults:
            raise ValueError(
                "production refuses the development defaults of: " + ", ".join(defaults)
            )
        if self.smtp_username and self.smtp_security == "none":
            raise ValueError(
                "production refuses to send SYMBIOSE_SMTP_PASSWORD over an unencrypted "
                "connection: set SYMBIOSE_SMTP_SECURITY to starttls or tls"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
