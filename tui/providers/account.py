"""What an adapter reads from a configured account, and each provider's default URLs.

The config's ``Account`` (``tui.config``) satisfies ``AccountSettings``: the adapters
depend on this protocol, never on the config package above them, and the config takes
its defaults from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from botocore.credentials import Credentials

__all__ = [
    "BOX_AUTH_KINDS",
    "DEFAULT_BASE_URLS",
    "DEFAULT_BOX_AUTHORIZE_URL",
    "DEFAULT_BOX_OAUTH_URL",
    "DEFAULT_BOX_UPLOAD_URL",
    "AccountSettings",
]

DEFAULT_BASE_URLS: dict[str, str] = {
    "gumroad": "https://api.gumroad.com/v2",
    "polar": "https://api.polar.sh",
    "box": "https://api.box.com/2.0",
    "fileflare": "https://app.digital-downloads.com/api/v1",
    "wunderlist": "https://a.wunderlist.com/api/v1",
}
"""API root used when an account of that provider sets no ``base_url``."""

DEFAULT_BOX_UPLOAD_URL = "https://upload.box.com/api/2.0"
"""Upload host root used when a Box account sets no ``upload_url``."""
DEFAULT_BOX_OAUTH_URL = "https://api.box.com/oauth2/token"
"""Box's token endpoint, used when an OAuth or CCG account sets no ``oauth_url``."""
DEFAULT_BOX_AUTHORIZE_URL = "https://account.box.com/api/oauth2/authorize"
"""Box's sign-in page, used when an OAuth account sets no ``authorize_url``."""
BOX_AUTH_KINDS = ("token", "oauth", "ccg", "jwt")
"""How a Box account authenticates: a token it is given (``token_env``, ``_command``,
``_file``), an OAuth 2.0 sign-in renewed by refresh, client credentials (CCG), or JWT
server auth (an assertion signed with the app's private key)."""


class AccountSettings(Protocol):
    """One configured account, as the adapters read it (secrets only through methods)."""

    @property
    def name(self) -> str:
        """The account's name, for messages."""
        ...

    @property
    def provider(self) -> str:
        """Which provider the account is on (``s3``, ``box``, ...)."""
        ...

    @property
    def verify_tls(self) -> bool:
        """Whether TLS certificates are checked (false only for loopback hosts)."""
        ...

    @property
    def base_url(self) -> str | None:
        """API root of an HTTP API provider; None for its default."""
        ...

    @property
    def upload_url(self) -> str | None:
        """Box only: the upload host root."""
        ...

    @property
    def folder_id(self) -> str:
        """Box only: the folder new files go to."""
        ...

    @property
    def organization_id(self) -> str | None:
        """Polar only: the organization, when the token is not an organization token."""
        ...

    @property
    def client_id(self) -> str | None:
        """Wunderlist and Box OAuth/CCG: the app's client id."""
        ...

    @property
    def auth(self) -> str:
        """Box only: one of :data:`BOX_AUTH_KINDS` (``token`` for every other provider)."""
        ...

    @property
    def token_refetchable(self) -> bool:
        """Whether the token comes from a command or a file, so that reading it again
        after the server refused it may give a new one (a vault rotated it)."""
        ...

    @property
    def oauth_url(self) -> str | None:
        """Box OAuth/CCG: the token endpoint; None for Box's."""
        ...

    @property
    def authorize_url(self) -> str | None:
        """Box OAuth: the sign-in page; None for Box's."""
        ...

    @property
    def redirect_uri(self) -> str | None:
        """Box OAuth: the app's redirect URI, when it has more than one (else None)."""
        ...

    @property
    def subject_type(self) -> str | None:
        """Box CCG: ``enterprise`` or ``user``."""
        ...

    @property
    def subject_id(self) -> str | None:
        """Box CCG: the enterprise or user id the app acts for."""
        ...

    @property
    def endpoint_url(self) -> str | None:
        """s3 only: the S3 endpoint; None means AWS for ``region``."""
        ...

    @property
    def region(self) -> str:
        """s3 only: the signing region."""
        ...

    @property
    def bucket(self) -> str | None:
        """s3 only: the bucket uploads go to."""
        ...

    @property
    def prefix(self) -> str:
        """s3 only: the prefix put before every object key."""
        ...

    @property
    def min_part_size(self) -> int | None:
        """s3 only: smallest part the store accepts, where it differs from 5 MiB."""
        ...

    @property
    def checksum(self) -> str:
        """s3 only: the checksum parts carry (``tui.core.checksums.SETTINGS``)."""
        ...

    @property
    def multipart_threshold(self) -> int:
        """s3 only: files smaller than this go up as one PutObject."""
        ...

    def token(self) -> str:
        """The API token (raises ConfigError when it cannot be found)."""
        ...

    def client_secret(self) -> str:
        """Box OAuth/CCG: the app's client secret (raises ConfigError when missing)."""
        ...

    @property
    def public_key_id(self) -> str | None:
        """Box JWT: the id Box gave the app's public key."""
        ...

    def private_key(self) -> bytes:
        """Box JWT: the app's private key, PEM (raises ConfigError when unreadable)."""
        ...

    def private_key_passphrase(self) -> str | None:
        """Box JWT: the private key's passphrase, None when it has none."""
        ...

    def s3_credentials(self) -> tuple[str, str]:
        """s3 only: (access key id, secret access key) (raises ConfigError when missing)."""
        ...

    def s3_credential_source(self) -> Credentials:
        """s3 only: botocore credentials to sign with, renewed by botocore where they can
        be (raises ConfigError when missing)."""
        ...
