"""Validate one ``[accounts.NAME]`` table into an :class:`~tui.config.schema.Account`: its
provider, the keys that provider takes, where its secret comes from, and the rules that
keep a token off the network in clear (https, or loopback for plain http and no TLS check).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from tui.config.checks import TableChecker, dotted, is_loopback, show
from tui.config.keys import (
    BOX_APP_KEYS,
    COMMON_KEYS,
    HTTP_KEYS,
    PROVIDER_KEYS,
    PROVIDERS,
    S3_KEYS,
    SECRET_KEYS,
)
from tui.config.schema import (
    BOX_AUTH_KINDS,
    DEFAULT_BASE_URLS,
    DEFAULT_BOX_AUTHORIZE_URL,
    DEFAULT_BOX_OAUTH_URL,
    DEFAULT_BOX_UPLOAD_URL,
    Account,
)
from tui.core.checksums import SETTINGS
from tui.core.plan import MULTIPART_THRESHOLD

__all__ = ["parse_account"]

_ACCOUNT_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")


def parse_account(
    check: TableChecker,
    name: str,
    table: object,
    source: Path | None,
    allow_inline: bool,
) -> Account:
    """The account ``[accounts.NAME]`` describes; ``source`` names the file in messages."""
    label = dotted("accounts", name)
    if not _ACCOUNT_NAME_RE.match(name):
        check.fail(
            f"{label}: account names may use only letters, digits, '.', '_' and '-'; "
            "rename the table"
        )
    if not isinstance(table, dict):
        check.fail(
            f"{label} must be a table (got {show(table)}); write [{label}] with "
            'provider = "..." under it'
        )
    choices = ", ".join(PROVIDERS)
    provider = table.get("provider")
    if provider is None:
        check.fail(f'{label}.provider is missing; add provider = "..." (one of {choices})')
    if not isinstance(provider, str) or provider not in PROVIDERS:
        check.fail(f"{label}.provider {show(provider)} is not supported; use one of {choices}")

    inline_token = _inline_secret(check, label, provider, table, allow_inline)
    allowed = COMMON_KEYS + (S3_KEYS if provider == "s3" else HTTP_KEYS)
    allowed += PROVIDER_KEYS.get(provider, ())
    for key in table:
        if key in allowed or (key == "token" and inline_token is not None):
            continue
        check.fail(f"{dotted('accounts', name, key)} {_misplaced(key, provider, allowed)}")

    path = ("accounts", name)
    verify_tls = check.flag(table, (*path, "verify_tls"), True)
    if provider == "s3":
        account = Account(
            name=name,
            provider=provider,
            endpoint_url=check.url(table, (*path, "endpoint_url"), "http://127.0.0.1:9000"),
            region=check.text(table, (*path, "region"), '"us-east-1"') or "us-east-1",
            bucket=check.bucket(table, (*path, "bucket")),
            prefix=check.text(table, (*path, "prefix"), '"backups/"', empty_ok=True) or "",
            access_key_env=check.env_name(table, (*path, "access_key_env"), "AWS_ACCESS_KEY_ID")
            or "AWS_ACCESS_KEY_ID",
            secret_key_env=check.env_name(table, (*path, "secret_key_env"), "AWS_SECRET_ACCESS_KEY")
            or "AWS_SECRET_ACCESS_KEY",
            min_part_size=check.setting(table, (*path, "min_part_size")),
            checksum=check.choice(table, (*path, "checksum"), SETTINGS, "auto"),
            multipart_threshold=check.setting(
                table, (*path, "multipart_threshold"), MULTIPART_THRESHOLD
            ),
            profile=check.text(table, (*path, "profile"), '"default"'),
            credentials_file=check.path(table, (*path, "credentials_file"), source),
            verify_tls=verify_tls,
            source=source,
        )
        hosts = {
            "endpoint_url": account.endpoint_url or f"https://s3.{account.region}.amazonaws.com"
        }
    else:
        default_url = DEFAULT_BASE_URLS[provider]
        base_url = check.url(table, (*path, "base_url"), default_url) or default_url
        upload_url = None
        if provider == "box":
            upload_url = (
                check.url(table, (*path, "upload_url"), DEFAULT_BOX_UPLOAD_URL)
                or DEFAULT_BOX_UPLOAD_URL
            )
        example_env = f"{provider.upper()}_TOKEN"
        token_env = check.env_name(table, (*path, "token_env"), example_env)
        token_command = check.text(table, (*path, "token_command"), f'"pass show {provider}"')
        token_file = check.path(table, (*path, "token_file"), source)
        given = [
            k
            for k, v in (
                ("token_env", token_env),
                ("token_command", token_command),
                ("token_file", token_file),
                ("token", inline_token),
            )
            if v is not None
        ]
        auth = "token"
        app: dict[str, object] = {}
        if provider == "box":
            auth = check.choice(table, (*path, "auth"), BOX_AUTH_KINDS, "token")
            app = _box_app(check, label, auth, table, path, source, given)
        if auth == "token":
            if not given:
                check.fail(
                    f"{label} needs token_env, token_command or token_file to find its token; "
                    f'e.g. token_env = "{example_env}"'
                )
            if len(given) > 1:
                check.fail(f"{label} sets {' and '.join(given)}; keep only one of them")
        account = Account(
            name=name,
            provider=provider,
            base_url=base_url,
            upload_url=upload_url,
            token_env=token_env,
            token_command=token_command,
            token_file=token_file,
            folder_id=check.text(table, (*path, "folder_id"), '"0"') or "0",
            organization_id=check.text(table, (*path, "organization_id"), '"<uuid>"'),
            client_id=check.text(table, (*path, "client_id"), '"<client id>"'),
            auth=auth,
            verify_tls=verify_tls,
            source=source,
            inline_token=inline_token,
            **app,  # type: ignore[arg-type]
        )
        if provider == "wunderlist" and account.client_id is None:
            check.fail(
                f"{label}.client_id is missing; wunderlist accounts send their app's client id, "
                'e.g. client_id = "abc123"'
            )
        hosts = {"base_url": base_url}
        if upload_url is not None:
            hosts["upload_url"] = upload_url
        if account.oauth_url is not None:  # the client secret goes there in the form
            hosts["oauth_url"] = account.oauth_url

    if provider != "s3":
        # A bearer token in every request: plain http would carry it in clear.
        for key, url in hosts.items():
            parts = urlsplit(url)
            if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
                check.fail(
                    f"{label}.{key} is plain http://, so the account's token would cross the "
                    f"network to {parts.hostname} in clear; use https:// (plain http is "
                    "allowed only for loopback hosts)"
                )
    if not verify_tls:
        for key, url in hosts.items():
            host = urlsplit(url).hostname or ""
            if not is_loopback(host):
                check.fail(
                    f"{label}.verify_tls = false is allowed only for loopback hosts "
                    f"(127.0.0.0/8, ::1, localhost), and {key} points at {host}; "
                    f"remove verify_tls or point {key} at a loopback host"
                )
    return account


def _box_app(
    check: TableChecker,
    label: str,
    auth: str,
    table: dict[str, object],
    path: tuple[str, ...],
    source: Path | None,
    given: list[str],
) -> dict[str, object]:
    """The OAuth or CCG settings of a Box account (``auth`` other than ``token``), as
    ``Account`` fields; a token account may set none of them."""
    if auth == "token":
        stray = [k for k in BOX_APP_KEYS if k in table and k != "auth"]
        if stray:
            check.fail(
                f'{label}.{stray[0]} applies only with auth = "oauth" or "ccg"; add '
                'auth = "oauth" (a sign-in) or auth = "ccg" (client credentials), or remove it'
            )
        return {}
    if given:
        check.fail(
            f"{label} uses auth = {auth!r}, which gets its tokens from Box's token endpoint; "
            f'remove {given[0]} (or set auth = "token" to use it)'
        )
    if not isinstance(table.get("client_id"), str) or not str(table["client_id"]).strip():
        check.fail(
            f"{label}.client_id is missing; auth = {auth!r} needs the app's client id from "
            'the Box developer console, e.g. client_id = "abc123"'
        )
    secret = _by_reference(check, label, table, path, source, "client_secret")
    if not any(v is not None for v in secret.values()):
        check.fail(
            f"{label} needs the app's client secret by reference; set client_secret_env, "
            "client_secret_command or client_secret_file, e.g. client_secret_env = "
            '"BOX_CLIENT_SECRET"'
        )
    fields: dict[str, object] = {
        **secret,
        "oauth_url": check.url(table, (*path, "oauth_url"), DEFAULT_BOX_OAUTH_URL)
        or DEFAULT_BOX_OAUTH_URL,
    }
    jwt_keys = [k for k in BOX_APP_KEYS if k.startswith(("public_key", "private_key"))]
    if auth != "jwt":
        for key in jwt_keys:
            if key in table:
                check.fail(f'{label}.{key} applies only with auth = "jwt"; remove it')
    if auth == "oauth":
        for key in ("subject_type", "subject_id"):
            if key in table:
                check.fail(f'{label}.{key} applies only with auth = "ccg" or "jwt"; remove it')
        fields["authorize_url"] = (
            check.url(table, (*path, "authorize_url"), DEFAULT_BOX_AUTHORIZE_URL)
            or DEFAULT_BOX_AUTHORIZE_URL
        )
        fields["redirect_uri"] = check.text(  # as registered: not normalised like a URL
            table, (*path, "redirect_uri"), '"http://127.0.0.1:8080/callback"'
        )
        return fields
    for key in ("authorize_url", "redirect_uri"):
        if key in table:
            check.fail(f'{label}.{key} applies only with auth = "oauth"; remove it')
    if "subject_type" not in table:
        check.fail(
            f"{label}.subject_type is missing; auth = {auth!r} acts for an enterprise or a "
            'user: subject_type = "enterprise" (or "user")'
        )
    fields["subject_type"] = check.choice(
        table, (*path, "subject_type"), ("enterprise", "user"), "enterprise"
    )
    subject_id = table.get("subject_id")
    if isinstance(subject_id, int) and not isinstance(subject_id, bool):
        subject_id = str(subject_id)  # Box's ids are numbers; TOML lets them be written so
    if not isinstance(subject_id, str) or not subject_id.strip():
        check.fail(
            f"{label}.subject_id is missing; give the enterprise id (or user id) the app acts "
            'for, from the Box admin console, e.g. subject_id = "1234567"'
        )
    fields["subject_id"] = subject_id.strip()
    if auth == "jwt":
        fields.update(_box_jwt_key(check, label, table, path, source))
    return fields


def _by_reference(
    check: TableChecker,
    label: str,
    table: dict[str, object],
    path: tuple[str, ...],
    source: Path | None,
    name: str,
) -> dict[str, object]:
    """``NAME_env``, ``NAME_command`` and ``NAME_file`` as ``Account`` fields: at most one
    of them set, none of them the secret itself."""
    upper = name.upper()
    found: dict[str, object] = {
        f"{name}_env": check.env_name(table, (*path, f"{name}_env"), f"BOX_{upper}"),
        f"{name}_command": check.text(
            table, (*path, f"{name}_command"), f'"pass show box-{name.replace("_", "-")}"'
        ),
        f"{name}_file": check.path(table, (*path, f"{name}_file"), source),
    }
    named = [k for k, v in found.items() if v is not None]
    if len(named) > 1:
        check.fail(f"{label} sets {' and '.join(named)}; keep only one of them")
    return found


def _box_jwt_key(
    check: TableChecker,
    label: str,
    table: dict[str, object],
    path: tuple[str, ...],
    source: Path | None,
) -> dict[str, object]:
    """A JWT account's key: its file, its id at Box, and its passphrase by reference."""
    key_id = check.text(table, (*path, "public_key_id"), '"abcd1234"')
    key_file = check.path(table, (*path, "private_key_file"), source)
    if key_id is None or key_file is None:
        missing = "public_key_id" if key_id is None else "private_key_file"
        check.fail(
            f'{label}.{missing} is missing; auth = "jwt" signs with the app\'s key pair: set '
            'private_key_file = "/path/private_key.pem" and public_key_id = "<its id at Box>"'
        )
    passphrase = _by_reference(check, label, table, path, source, "private_key_passphrase")
    return {"public_key_id": key_id, "private_key_file": key_file, **passphrase}


def _inline_secret(
    check: TableChecker,
    label: str,
    provider: str,
    table: Mapping[str, object],
    allow_inline: bool,
) -> str | None:
    """Refuse secrets written into an account table; return an allowed inline token."""
    inline_token: str | None = None
    for key in SECRET_KEYS:
        if key not in table:
            continue
        where = f"{label}.{key}"
        if key == "token" and provider != "s3" and allow_inline:
            value = table[key]
            if not isinstance(value, str) or not value.strip():
                check.fail(f"{where} must be a non-empty string; or set token_env instead")
            inline_token = value
            continue
        if provider == "s3":
            fix = 'set access_key_env = "VAR" and secret_key_env = "VAR"'
        elif key == "client_secret":
            fix = 'set client_secret_env = "VAR" (or client_secret_command, client_secret_file)'
        else:
            fix = 'set token_env = "VAR" or token_command = "..."'
        check.fail(f"{where}: secrets are not stored in the config; {fix}")
    return inline_token


def _misplaced(key: str, provider: str, allowed: tuple[str, ...]) -> str:
    """Say why ``key`` does not belong in an account of ``provider``, and what to do."""
    if key in S3_KEYS:
        return "applies only to s3 accounts; remove it"
    for owner, keys in PROVIDER_KEYS.items():
        if key in keys:
            return f"applies only to {owner} accounts; remove it"
    if key == "base_url" and provider == "s3":
        return "is not used by s3 accounts; set endpoint_url instead"
    if key in ("token_env", "token_command") and provider == "s3":
        return "is not used by s3 accounts; set access_key_env and secret_key_env instead"
    hint = TableChecker.suggest(key, allowed)
    return f"is not a known account setting{hint}; {provider} accounts take {', '.join(allowed)}"
