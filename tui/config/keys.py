"""The keys each config table takes: the names validation checks a TOML table against
(and suggests from when one is misspelt)."""

from __future__ import annotations

PROVIDERS: tuple[str, ...] = ("s3", "gumroad", "polar", "box", "fileflare", "wunderlist")
"""Every provider an account may name."""

SECRET_KEYS = ("token", "access_key", "secret_key", "password", "api_key", "client_secret")
"""Keys that would hold a secret inline in an account table: refused (``token`` aside)."""
TOP_LEVEL = ("engine", "ui", "service", "keys", "accounts")
"""The tables a config holds."""
ENGINE_KEYS = (
    "parts_in_flight",
    "parts_per_session",
    "part_size",
    "retries",
    "auto_complete",
    "bandwidth_limit",
    "stall_after",
    "link_speed",
)
"""Keys the ``[engine]`` table takes."""
UI_KEYS = ("theme",)
"""Keys the ``[ui]`` table takes."""
SERVICE_KEYS = ("mode", "events_kept")
"""Keys the ``[service]`` table takes."""
S3_KEYS = (
    "endpoint_url",
    "region",
    "bucket",
    "prefix",
    "access_key_env",
    "secret_key_env",
    "min_part_size",
    "profile",
    "credentials_file",
    "checksum",
    "multipart_threshold",
)
"""Keys only s3 accounts take."""
HTTP_KEYS = ("base_url", "token_env", "token_command", "token_file")
"""Keys every account of an HTTP API provider (all but s3) takes."""
BOX_APP_KEYS = (
    "auth",
    "client_id",
    "client_secret_env",
    "client_secret_command",
    "client_secret_file",
    "oauth_url",
    "authorize_url",
    "redirect_uri",
    "subject_type",
    "subject_id",
    "public_key_id",
    "private_key_file",
    "private_key_passphrase_env",
    "private_key_passphrase_command",
    "private_key_passphrase_file",
)
"""Box keys that say how an OAuth, CCG or JWT account gets its tokens."""
PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "box": ("upload_url", "folder_id", *BOX_APP_KEYS),
    "polar": ("organization_id",),
    "wunderlist": ("client_id",),
}
"""Keys only accounts of one provider take."""
COMMON_KEYS = ("provider", "verify_tls")
"""Keys every account takes."""
