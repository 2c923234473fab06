"""Box accounts' ``auth`` kinds in the config: what each takes, and one line for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.config import parse_config
from tui.core.errors import ConfigError

SOURCE = Path("/etc/partdeck/config.toml")
OAUTH = """
[accounts.box-work]
provider = "box"
auth = "oauth"
client_id = "abc123"
client_secret_env = "BOX_CLIENT_SECRET"
"""
CCG = """
[accounts.box-ccg]
provider = "box"
auth = "ccg"
client_id = "abc123"
client_secret_command = "pass show box"
subject_type = "enterprise"
subject_id = 1234567
"""


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source=SOURCE)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{SOURCE}: ")
    return message


def test_oauth_account_takes_box_defaults_and_reads_its_secret_by_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = parse_config(OAUTH, source=SOURCE).account("box-work")
    assert account.auth == "oauth"
    assert account.oauth_url == "https://api.box.com/oauth2/token"
    assert account.authorize_url == "https://account.box.com/api/oauth2/authorize"
    assert account.subject_type is None and not account.token_refetchable
    assert account.secret_env_names() == ("BOX_CLIENT_SECRET",)
    monkeypatch.delenv("BOX_CLIENT_SECRET", raising=False)
    assert not account.secret_available()
    with pytest.raises(ConfigError, match="BOX_CLIENT_SECRET is not set; export it"):
        account.client_secret()
    monkeypatch.setenv("BOX_CLIENT_SECRET", "the-secret")
    assert account.secret_available() and account.client_secret() == "the-secret"
    with pytest.raises(ConfigError, match="sign in with partdeck auth box-work"):
        account.token()


def test_ccg_account_takes_a_numeric_subject_id() -> None:
    account = parse_config(CCG, source=SOURCE).account("box-ccg")
    assert (account.auth, account.subject_type, account.subject_id) == (
        "ccg",
        "enterprise",
        "1234567",
    )
    assert account.authorize_url is None


JWT = CCG.replace('auth = "ccg"', 'auth = "jwt"') + (
    'public_key_id = "k1"\nprivate_key_file = "keys/box.pem"\n'
    'private_key_passphrase_env = "BOX_KEY_PASSPHRASE"\n'
)


def test_jwt_account_takes_its_key_by_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    account = parse_config(JWT, source=SOURCE).account("box-ccg")
    assert account.auth == "jwt" and account.public_key_id == "k1"
    assert account.private_key_file == SOURCE.parent / "keys" / "box.pem"
    monkeypatch.setenv("BOX_KEY_PASSPHRASE", "pass phrase")
    assert account.private_key_passphrase() == "pass phrase"
    with pytest.raises(ConfigError, match=r"private_key_file .* cannot be read"):
        account.private_key()


def test_token_kinds_refetch_only_from_a_command_or_a_file() -> None:
    text = '[accounts.a]\nprovider = "gumroad"\ntoken_command = "pass show g"\n'
    text += '[accounts.b]\nprovider = "gumroad"\ntoken_env = "G"\n'
    config = parse_config(text, source=SOURCE)
    assert config.account("a").token_refetchable
    assert not config.account("b").token_refetchable


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (OAUTH.replace('auth = "oauth"', 'auth = "saml"'), "accounts.box-work.auth must be one of"),
        (OAUTH + 'token_env = "T"\n', "uses auth = 'oauth', which gets its tokens from Box's"),
        (OAUTH.replace('client_id = "abc123"\n', ""), "accounts.box-work.client_id is missing"),
        (
            OAUTH.replace('client_secret_env = "BOX_CLIENT_SECRET"\n', ""),
            "needs the app's client secret by reference; set client_secret_env",
        ),
        (
            OAUTH + 'client_secret_file = "/s"\n',
            "sets client_secret_env and client_secret_file; keep only one of them",
        ),
        (OAUTH + 'client_secret = "x"\n', "secrets are not stored in the config"),
        (
            OAUTH.replace("BOX_CLIENT_SECRET", "sk-live-123456"),
            "client_secret_env must be the name of an environment variable",
        ),
        (OAUTH + 'subject_id = "1"\n', 'subject_id applies only with auth = "ccg"'),
        (
            OAUTH + 'oauth_url = "http://box.example.com/oauth2/token"\n',
            "accounts.box-work.oauth_url is plain http://",
        ),
        (CCG.replace('subject_type = "enterprise"\n', ""), "subject_type is missing"),
        (CCG.replace('"enterprise"', '"team"'), "subject_type must be one of"),
        (CCG.replace("subject_id = 1234567\n", ""), "subject_id is missing"),
        (CCG + 'authorize_url = "https://x.example"\n', "authorize_url applies only with auth"),
        (CCG + 'public_key_id = "k"\n', 'public_key_id applies only with auth = "jwt"'),
        (JWT.replace('public_key_id = "k1"\n', ""), "public_key_id is missing"),
        (JWT + 'private_key_passphrase_file = "/p"\n', "keep only one of them"),
        (
            '[accounts.b]\nprovider = "box"\ntoken_env = "T"\nclient_id = "x"\n',
            'client_id applies only with auth = "oauth" or "ccg"',
        ),
        (
            '[accounts.g]\nprovider = "gumroad"\ntoken_env = "T"\nauth = "oauth"\n',
            "applies only to box accounts",
        ),
    ],
)
def test_box_auth_mistakes_are_one_line(text: str, fragment: str) -> None:
    message = _error(text)
    assert fragment in message
    assert "sk-live-123456" not in message
