"""Tests for tui.config: parsing, validation messages, secrets and path resolution."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import pytest
import tomlkit

from tui.config import (
    DEFAULT_BASE_URLS,
    DEFAULT_BOX_UPLOAD_URL,
    PROVIDERS,
    SERVICE_MODES,
    Account,
    Config,
    ServiceSettings,
    default_config_path,
    default_state_dir,
    inline_secret_warnings,
    load_config,
    parse_config,
    resolve_config_path,
    resolve_state_dir,
)
from tui.config import secrets as config_secrets
from tui.core.errors import ConfigError
from tui.core.settings import EngineSettings
from tui.core.units import MiB

SAMPLE = Path(__file__).resolve().parents[2] / "sample-config.toml"
SOURCE = Path("/x/config.toml")
SECRET = "s3cr3t-VALUE-do-not-show"

GUMROAD = """
[accounts.gumroad-main]
provider = "gumroad"
token_env = "GUMROAD_TOKEN"
"""

S3 = """
[accounts.my-s3]
provider = "s3"
endpoint_url = "http://127.0.0.1:9000"
bucket = "uploads"
"""

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell and file modes")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "PARTDECK_CONFIG",
        "PARTDECK_STATE_DIR",
        "PARTDECK_ALLOW_INLINE_SECRETS",
        "GUMROAD_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


def config_error(text: str, source: Path | None = SOURCE) -> str:
    """Parse ``text``, expect a ConfigError, check it is one line naming the file."""
    with pytest.raises(ConfigError) as info:
        parse_config(text, source=source)
    message = str(info.value)
    assert "\n" not in message
    if source is not None:
        assert message.startswith(f"{source}: ")
    return message


# --- the sample and the defaults -------------------------------------------------------


def test_sample_config_loads_with_one_account_per_provider() -> None:
    config = load_config(SAMPLE, must_exist=True)
    assert config.path == SAMPLE
    assert len(config.accounts) == 6
    assert sorted(a.provider for a in config.accounts.values()) == sorted(PROVIDERS)
    assert all(a.source == SAMPLE for a in config.accounts.values())
    assert config.engine.parts_in_flight == 8
    assert config.theme == "partdeck-dark"
    assert config.service.mode == "auto"


def test_sample_config_holds_no_inline_secret() -> None:
    data = tomlkit.parse(SAMPLE.read_text(encoding="utf-8")).unwrap()
    for table in data["accounts"].values():
        assert not {"token", "access_key", "secret_key", "password", "api_key"} & set(table)


def test_document_keeps_comments_for_write_back() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    config = parse_config(text, source=SAMPLE)
    assert config.document is not None
    assert tomlkit.dumps(config.document) == text
    assert "# Parts being sent at once" in tomlkit.dumps(config.document)


def test_empty_config_gives_defaults() -> None:
    config = parse_config("")
    assert config.engine == EngineSettings()
    assert config.accounts == {}
    assert config.keys == {}
    assert config.theme == "partdeck-dark"
    assert config.service == ServiceSettings(mode="auto")


@pytest.mark.parametrize("mode", SERVICE_MODES)
def test_service_mode_is_read(mode: str) -> None:
    assert parse_config(f'[service]\nmode = "{mode}"\n').service.mode == mode


def test_service_events_kept_is_read() -> None:
    assert parse_config("[service]\nevents_kept = 500\n").service.events_kept == 500
    assert parse_config("").service.events_kept == 20_000


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nope.toml")
    assert config.path is None
    assert config.accounts == {}
    assert config.engine == EngineSettings()


def test_missing_file_is_an_error_when_it_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_config(missing, must_exist=True)
    assert str(info.value) == (
        f"config file {missing} not found; create it (see sample-config.toml) or pass --config"
    )


def test_engine_values_are_parsed() -> None:
    config = parse_config(
        """
        [engine]
        parts_in_flight = 16
        parts_per_session = 2
        part_size = "16MiB"
        retries = 0
        auto_complete = false
        bandwidth_limit = "50MB"
        stall_after = "2m"
        """
    )
    assert config.engine == EngineSettings(
        parts_in_flight=16,
        parts_per_session=2,
        part_size=16 * MiB,
        retries=0,
        auto_complete=False,
        bandwidth_limit=50_000_000,
        stall_after=120.0,
    )


def test_sizes_may_be_plain_integers() -> None:
    config = parse_config("[engine]\npart_size = 5242880\nbandwidth_limit = 1000\n")
    assert config.engine.part_size == 5 * MiB
    assert config.engine.bandwidth_limit == 1000


def test_ui_theme_and_keys() -> None:
    config = parse_config('[ui]\ntheme = "solar"\n[keys]\nretry_part = "R"\nabort = "ctrl+x"\n')
    assert config.theme == "solar"
    assert config.keys == {"retry_part": "R", "abort": "ctrl+x"}


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if p != "s3"])
def test_base_url_defaults_per_provider(provider: str) -> None:
    extra = 'client_id = "c"\n' if provider == "wunderlist" else ""
    config = parse_config(f'[accounts.a]\nprovider = "{provider}"\ntoken_env = "T"\n{extra}')
    account = config.account("a")
    assert account.base_url == DEFAULT_BASE_URLS[provider]
    expected_upload = DEFAULT_BOX_UPLOAD_URL if provider == "box" else None
    assert account.upload_url == expected_upload


def test_s3_defaults() -> None:
    account = parse_config('[accounts.aws]\nprovider = "s3"\nbucket = "b"\n').account("aws")
    assert account.endpoint_url is None
    assert account.region == "us-east-1"
    assert account.prefix == ""
    assert account.access_key_env == "AWS_ACCESS_KEY_ID"
    assert account.secret_key_env == "AWS_SECRET_ACCESS_KEY"
    assert account.min_part_size is None
    assert account.checksum == "auto"
    assert account.multipart_threshold == 8 * MiB
    assert account.verify_tls is True
    assert account.base_url is None


def test_s3_values_are_parsed() -> None:
    account = parse_config(
        S3 + 'prefix = "p/"\nregion = "eu-west-1"\nmin_part_size = "1MiB"\nchecksum = "crc32c"\n'
        'multipart_threshold = "64MiB"\n'
        'access_key_env = "MY_KEY"\nsecret_key_env = "MY_SECRET"\nverify_tls = false\n'
    ).account("my-s3")
    assert account.prefix == "p/"
    assert account.region == "eu-west-1"
    assert account.min_part_size == MiB
    assert account.checksum == "crc32c"
    assert account.multipart_threshold == 64 * MiB
    assert (account.access_key_env, account.secret_key_env) == ("MY_KEY", "MY_SECRET")
    assert account.verify_tls is False


def test_trailing_slash_is_dropped_from_urls() -> None:
    text = '[accounts.a]\nprovider = "polar"\nbase_url = "https://x.test/api/"\ntoken_env = "T"\n'
    assert parse_config(text).account("a").base_url == "https://x.test/api"


# --- validation messages ----------------------------------------------------------------

ERRORS: list[tuple[str, str, list[str]]] = [
    (
        "parts_in_flight_word",
        '[engine]\nparts_in_flight = "eight"\n',
        [
            "engine.parts_in_flight must be a whole number >= 1 (got 'eight'); "
            "e.g. parts_in_flight = 8"
        ],
    ),
    ("parts_in_flight_zero", "[engine]\nparts_in_flight = 0\n", ["engine.parts_in_flight", "0"]),
    ("parts_in_flight_bool", "[engine]\nparts_in_flight = true\n", ["(got true)"]),
    ("parts_in_flight_float", "[engine]\nparts_in_flight = 8.0\n", ["(got 8.0)"]),
    ("parts_per_session", "[engine]\nparts_per_session = 0\n", ["engine.parts_per_session"]),
    ("retries_negative", "[engine]\nretries = -1\n", ["engine.retries", ">= 0", "(got -1)"]),
    ("auto_complete", '[engine]\nauto_complete = "yes"\n', ["engine.auto_complete", "true"]),
    ("part_size_text", '[engine]\npart_size = "16 megs"\n', ["engine.part_size", "'16 megs'"]),
    ("part_size_zero", "[engine]\npart_size = 0\n", ["engine.part_size", "above 0"]),
    ("bandwidth_zero", '[engine]\nbandwidth_limit = "0MB"\n', ["engine.bandwidth_limit"]),
    ("bandwidth_list", "[engine]\nbandwidth_limit = [1]\n", ["engine.bandwidth_limit"]),
    ("stall_after", '[engine]\nstall_after = "soon"\n', ["engine.stall_after", "'soon'"]),
    (
        "engine_unknown_key",
        "[engine]\nparts_in_fligt = 3\n",
        ["engine.parts_in_fligt is not a known setting", "did you mean parts_in_flight?"],
    ),
    ("unknown_table", "[engin]\nretries = 1\n", ["engin is not a known table", "[engine]"]),
    ("unknown_top_level_key", "colour = 1\n", ["colour is not a known table", "[accounts.NAME]"]),
    ("top_level_scalar", 'theme = "x"\n', ["theme belongs in the [ui] table; move it under [ui]"]),
    ("engine_not_table", "engine = 3\n", ["engine must be a table", "[engine]"]),
    ("ui_unknown_key", '[ui]\ncolour = "red"\n', ["ui.colour is not a known setting", "theme"]),
    ("ui_theme_type", "[ui]\ntheme = 3\n", ["ui.theme must be a non-empty string"]),
    (
        "service_mode_unknown",
        '[service]\nmode = "daemon"\n',
        ['service.mode must be "auto" or "inline" (got \'daemon\')', "--no-service"],
    ),
    ("service_mode_type", "[service]\nmode = 1\n", ['must be "auto" or "inline" (got 1)']),
    (
        "service_unknown_key",
        '[service]\nmdoe = "inline"\n',
        ["service.mdoe is not a known setting", "did you mean mode?", "[service] takes mode"],
    ),
    ("service_not_table", 'service = "inline"\n', ["service must be a table", "[service]"]),
    (
        "service_events_kept_too_few",
        "[service]\nevents_kept = 0\n",
        ["service.events_kept must be a whole number >= 10 (got 0); e.g. events_kept = 20000"],
    ),
    (
        "service_events_kept_type",
        '[service]\nevents_kept = "many"\n',
        ["service.events_kept must be a whole number >= 10 (got 'many')"],
    ),
    ("top_level_mode", 'mode = "inline"\n', ["mode belongs in the [service] table"]),
    ("keys_value_type", "[keys]\nretry_part = 1\n", ["keys.retry_part", 'retry_part = "r"']),
    (
        "provider_unsupported",
        '[accounts.foo]\nprovider = "dropbox"\n',
        [
            "accounts.foo.provider 'dropbox' is not supported; "
            "use one of s3, gumroad, polar, box, fileflare, wunderlist"
        ],
    ),
    ("provider_missing", '[accounts.foo]\ntoken_env = "T"\n', ["accounts.foo.provider is missing"]),
    ("provider_type", "[accounts.foo]\nprovider = 3\n", ["accounts.foo.provider 3"]),
    (
        "account_name",
        '[accounts."bad name"]\nprovider = "s3"\nbucket = "b"\n',
        ['accounts."bad name"', "letters, digits"],
    ),
    ("account_not_table", "[accounts]\nfoo = 1\n", ["accounts.foo must be a table"]),
    (
        "account_unknown_key",
        GUMROAD + 'base_ulr = "https://x.test"\n',
        ["accounts.gumroad-main.base_ulr is not a known", "did you mean base_url?"],
    ),
    ("s3_bucket_missing", '[accounts.a]\nprovider = "s3"\n', ["accounts.a.bucket is missing"]),
    ("s3_bucket_slash", S3.replace('"uploads"', '"a/b"'), ["accounts.my-s3.bucket", "'a/b'"]),
    (
        "s3_base_url",
        S3 + 'base_url = "https://x.test"\n',
        ["accounts.my-s3.base_url is not used by s3", "endpoint_url"],
    ),
    (
        "s3_token_env",
        S3 + 'token_env = "T"\n',
        ["accounts.my-s3.token_env is not used by s3", "access_key_env"],
    ),
    (
        "s3_key_elsewhere",
        GUMROAD + 'bucket = "b"\n',
        ["accounts.gumroad-main.bucket", "only to s3"],
    ),
    (
        "box_key_elsewhere",
        GUMROAD + 'upload_url = "https://x.test"\n',
        ["accounts.gumroad-main.upload_url applies only to box"],
    ),
    (
        "token_missing",
        '[accounts.g]\nprovider = "gumroad"\n',
        ["accounts.g needs token_env, token_command or token_file", 'token_env = "GUMROAD_TOKEN"'],
    ),
    (
        "token_both",
        GUMROAD + 'token_command = "printf x"\n',
        ["accounts.gumroad-main sets token_env and token_command; keep only one"],
    ),
    (
        "token_env_not_a_name",
        '[accounts.g]\nprovider = "gumroad"\ntoken_env = "has space"\n',
        ["accounts.g.token_env must be the name of an environment variable"],
    ),
    (
        "token_command_empty",
        GUMROAD.replace("token_env", "token_command").replace('"GUMROAD_TOKEN"', '""'),
        ["accounts.gumroad-main.token_command must be a non-empty string"],
    ),
    (
        "base_url_scheme",
        GUMROAD + 'base_url = "ftp://x.test"\n',
        ["accounts.gumroad-main.base_url must be an http:// or https:// URL", "'ftp://x.test'"],
    ),
    (
        "endpoint_url_garbage",
        S3.replace("http://127.0.0.1:9000", "not a url"),
        ["accounts.my-s3.endpoint_url must be an http:// or https:// URL"],
    ),
    ("endpoint_url_type", S3.replace('"http://127.0.0.1:9000"', "9000"), ["(got 9000)"]),
    ("min_part_size", S3 + 'min_part_size = "tiny"\n', ["accounts.my-s3.min_part_size"]),
    (
        "min_part_size_past_s3_max",
        S3 + 'min_part_size = "6GiB"\n',
        [
            "accounts.my-s3.min_part_size must be at most 5 GiB, the largest part S3 takes "
            '(got 6 GiB); e.g. min_part_size = "5MiB"'
        ],
    ),
    (
        "checksum_unknown",
        S3 + 'checksum = "sha1"\n',
        [
            'accounts.my-s3.checksum must be one of "auto", "crc64nvme", "crc32c", "crc32", '
            '"sha256", "md5" (got \'sha1\'); e.g. checksum = "auto"'
        ],
    ),
    (
        "multipart_threshold_past_put_max",
        S3 + 'multipart_threshold = "6GiB"\n',
        ["accounts.my-s3.multipart_threshold must be at most 5 GiB"],
    ),
    (
        "checksum_on_gumroad",
        GUMROAD + 'checksum = "md5"\n',
        ["accounts.gumroad-main.checksum applies only to s3 accounts; remove it"],
    ),
    ("verify_tls_type", S3 + 'verify_tls = "no"\n', ["accounts.my-s3.verify_tls", "true or false"]),
    (
        "verify_tls_remote",
        GUMROAD + "verify_tls = false\n",
        [
            "accounts.gumroad-main.verify_tls = false",
            "loopback",
            "base_url points at api.gumroad.com",
            "point base_url at a loopback host",
        ],
    ),
    (
        "verify_tls_aws",
        '[accounts.a]\nprovider = "s3"\nbucket = "b"\nverify_tls = false\n',
        ["accounts.a.verify_tls", "s3.us-east-1.amazonaws.com"],
    ),
    (
        "verify_tls_box_upload_host",
        '[accounts.b]\nprovider = "box"\nbase_url = "http://127.0.0.1:8080"\n'
        'token_env = "T"\nverify_tls = false\n',
        ["accounts.b.verify_tls", "upload_url points at upload.box.com"],
    ),
]


@pytest.mark.parametrize(("text", "fragments"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_invalid_config_is_one_line_naming_key(text: str, fragments: list[str]) -> None:
    message = config_error(text)
    for fragment in fragments:
        assert fragment in message


def test_error_without_source_still_names_a_place() -> None:
    message = config_error("[engine]\nretries = -1\n", source=None)
    assert message.startswith("<config>: engine.retries")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[engine]\nretries = 5\nparts_in_flight = = 3\n", 3),
        ('[ui]\ntheme = "unterminated\n', 2),
        ("[engine]\n[engine]\n", 2),
    ],
)
def test_toml_syntax_error_names_line_and_column(text: str, line: int) -> None:
    message = config_error(text)
    assert f"line {line}, column " in message
    assert "invalid TOML (" in message
    assert message.endswith("fix the syntax there")


def test_toml_syntax_column_is_one_based() -> None:
    message = config_error("[engine]\nretries = = 3\n")
    # The second "=" is the 11th character on the line.
    assert "line 2, column 11: invalid TOML (Unexpected character: '=')" in message


@pytest.mark.parametrize("key", ["token", "access_key", "secret_key", "password", "api_key"])
def test_inline_secret_is_refused(key: str) -> None:
    message = config_error(GUMROAD.replace("token_env = ", "#") + f'{key} = "{SECRET}"\n')
    assert f"accounts.gumroad-main.{key}: secrets are not stored in the config" in message
    assert 'set token_env = "VAR" or token_command = "..."' in message
    assert SECRET not in message


def test_inline_s3_secret_points_at_key_env_settings() -> None:
    message = config_error(S3 + f'secret_key = "{SECRET}"\n')
    assert "accounts.my-s3.secret_key: secrets are not stored" in message
    assert "access_key_env" in message
    assert SECRET not in message


def test_pasted_secret_in_token_env_is_not_echoed() -> None:
    message = config_error(f'[accounts.g]\nprovider = "gumroad"\ntoken_env = "{SECRET}"\n')
    assert "accounts.g.token_env" in message
    assert SECRET not in message


def test_credentials_in_url_are_refused_without_echo() -> None:
    message = config_error(GUMROAD + f'base_url = "https://me:{SECRET}@api.test"\n')
    assert "accounts.gumroad-main.base_url must not hold credentials" in message
    assert SECRET not in message


def test_syntax_error_does_not_echo_a_secret_line() -> None:
    message = config_error(GUMROAD + f'token = "{SECRET}\n')
    assert "line " in message
    assert SECRET not in message


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "[::1]", "localhost", "LOCALHOST"])
def test_verify_tls_false_is_allowed_on_loopback(host: str) -> None:
    text = S3.replace("127.0.0.1", host) + "verify_tls = false\n"
    assert parse_config(text).account("my-s3").verify_tls is False


def test_verify_tls_false_allowed_for_box_when_both_hosts_are_loopback() -> None:
    text = (
        '[accounts.b]\nprovider = "box"\nbase_url = "http://127.0.0.1:8080/2.0"\n'
        'upload_url = "http://localhost:8081/2.0"\ntoken_env = "T"\nverify_tls = false\n'
    )
    account = parse_config(text).account("b")
    assert (account.verify_tls, account.upload_url) == (False, "http://localhost:8081/2.0")


# --- load_config file errors ------------------------------------------------------------


def test_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory") as info:
        load_config(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_unreadable_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text("")

    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    # Simulated: the tests may run as root, who can read any file.
    monkeypatch.setattr(Path, "read_bytes", deny)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: permission denied")
    assert f"chmod 600 {path}" in message


def test_non_utf8_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[ui]\ntheme = "\xff"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: not UTF-8 text (bad byte at offset 14); save it as UTF-8"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes("\ufeff[ui]\ntheme = 'x'\n".encode())
    assert load_config(path).theme == "x"


def test_load_config_names_the_file_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[engine]\nretries = 'many'\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: engine.retries")


# --- Config.account ---------------------------------------------------------------------


def test_account_lookup() -> None:
    config = parse_config(GUMROAD + S3, source=SOURCE)
    assert config.account("my-s3").bucket == "uploads"
    with pytest.raises(ConfigError) as info:
        config.account("nope")
    assert str(info.value) == (
        f"unknown account 'nope'; accounts in {SOURCE}: gumroad-main, my-s3 "
        "(add [accounts.nope] to the config)"
    )


def test_account_lookup_with_no_accounts() -> None:
    config = parse_config("", source=SOURCE)
    with pytest.raises(ConfigError) as info:
        config.account("main")
    assert str(info.value) == f"no accounts configured; add [accounts.main] to {SOURCE}"


# --- secrets ----------------------------------------------------------------------------


def gumroad(**changes: object) -> Account:
    account = parse_config(GUMROAD, source=SOURCE).account("gumroad-main")
    return dataclasses.replace(account, **changes)  # type: ignore[arg-type]


def test_token_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    account = gumroad()
    assert account.secret_available() is False
    monkeypatch.setenv("GUMROAD_TOKEN", SECRET)
    assert account.secret_available() is True
    assert account.token() == SECRET


def test_token_env_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as info:
        gumroad().token()
    assert str(info.value) == (
        "accounts.gumroad-main: environment variable GUMROAD_TOKEN is not set; "
        f"export it or change token_env in {SOURCE}"
    )


def test_token_env_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUMROAD_TOKEN", "")
    assert gumroad().secret_available() is False
    with pytest.raises(ConfigError, match="GUMROAD_TOKEN is empty"):
        gumroad().token()


@posix_only
def test_token_from_command() -> None:
    account = gumroad(token_env=None, token_command=f"printf '  {SECRET}\\n'")
    assert account.token() == SECRET


@posix_only
def test_secret_available_does_not_run_the_command(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    account = gumroad(token_env=None, token_command=f"touch {marker}; printf x")
    assert account.secret_available() is True
    assert not marker.exists()
    assert account.token() == "x"
    assert marker.exists()


@posix_only
def test_failing_command_reports_status_but_not_its_output() -> None:
    account = gumroad(token_env=None, token_command=f"echo {SECRET}; echo {SECRET} >&2; exit 3")
    with pytest.raises(ConfigError) as info:
        account.token()
    message = str(info.value)
    assert "accounts.gumroad-main: token_command exited with status 3" in message
    assert f"change token_command in {SOURCE}" in message
    assert SECRET not in message


@posix_only
def test_command_that_prints_nothing() -> None:
    account = gumroad(token_env=None, token_command="true")
    with pytest.raises(ConfigError, match="token_command printed nothing"):
        account.token()


@posix_only
def test_command_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_secrets, "TOKEN_COMMAND_TIMEOUT", 0.3)
    account = gumroad(token_env=None, token_command="sleep 10; printf late")
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"token_command did not finish within 0\.3 s"):
        account.token()
    assert time.monotonic() - started < 5


def test_token_on_s3_account_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"accounts\.my-s3: s3 accounts"):
        parse_config(S3).account("my-s3").token()


def test_s3_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    account = parse_config(S3, source=SOURCE).account("my-s3")
    assert account.secret_available() is False
    with pytest.raises(ConfigError) as info:
        account.s3_credentials()
    assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set" in str(info.value)

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    assert account.secret_available() is False
    with pytest.raises(ConfigError) as info:
        account.s3_credentials()
    assert str(info.value) == (
        "accounts.my-s3: environment variable AWS_SECRET_ACCESS_KEY is not set; "
        f"export it or change secret_key_env in {SOURCE}"
    )
    assert "AKIDEXAMPLE" not in str(info.value)

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    assert account.secret_available() is True
    assert account.s3_credentials() == ("AKIDEXAMPLE", SECRET)


def test_s3_credentials_on_token_account_is_an_error() -> None:
    with pytest.raises(ConfigError, match="only s3 accounts have access keys"):
        gumroad().s3_credentials()


# --- inline secrets (opt-in) ------------------------------------------------------------

INLINE = f'[accounts.g]\nprovider = "gumroad"\ntoken = "{SECRET}"\n'


def test_inline_token_is_used_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTDECK_ALLOW_INLINE_SECRETS", "1")
    config = parse_config(INLINE, source=SOURCE)
    account = config.account("g")
    assert account.secret_available() is True
    assert account.token() == SECRET
    assert SECRET not in repr(account)
    assert SECRET not in repr(config)
    assert SECRET not in str(config)


def test_inline_token_still_refused_with_other_allowance_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARTDECK_ALLOW_INLINE_SECRETS", "0")
    assert "secrets are not stored" in config_error(INLINE)


def test_inline_token_with_token_env_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTDECK_ALLOW_INLINE_SECRETS", "1")
    message = config_error(INLINE + 'token_env = "T"\n')
    assert "accounts.g sets token_env and token; keep only one" in message
    assert SECRET not in message


def test_inline_secret_on_s3_is_refused_even_when_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARTDECK_ALLOW_INLINE_SECRETS", "1")
    message = config_error(S3 + f'token = "{SECRET}"\n')
    assert "accounts.my-s3.token: secrets are not stored" in message


@posix_only
@pytest.mark.parametrize(
    ("mode", "exposed"),
    [
        (0o644, "readable by other users"),
        (0o604, "readable by other users"),
        (0o640, "readable by its group"),
        (0o642, "readable by its group"),  # who can read it matters more
        (0o620, "writable by its group"),
        (0o602, "writable by other users"),
        (0o600, None),
        (0o400, None),
        (0o711, None),  # executable by others, yet nobody else can read or change it
    ],
)
def test_inline_secret_warning_names_who_can_read_or_change_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int, exposed: str | None
) -> None:
    monkeypatch.setenv("PARTDECK_ALLOW_INLINE_SECRETS", "1")
    path = tmp_path / "config.toml"
    path.write_text(INLINE)
    path.chmod(mode)
    warnings = inline_secret_warnings(load_config(path))
    if exposed is None:
        assert warnings == []
        return
    assert warnings == [
        f"config.toml holds an inline secret and is {exposed}; run chmod 600 {path}"
    ]
    assert SECRET not in warnings[0]


@posix_only
def test_no_warning_without_inline_secret(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GUMROAD)
    path.chmod(0o644)
    assert inline_secret_warnings(load_config(path)) == []


def test_token_env_value_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUMROAD_TOKEN", SECRET)
    config = parse_config(GUMROAD)
    assert config.account("gumroad-main").token() == SECRET
    assert SECRET not in repr(config)


# --- paths ------------------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG paths")
def test_default_paths_follow_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_config_path() == tmp_path / "cfg" / "partdeck" / "config.toml"
    assert default_state_dir() == tmp_path / "state" / "partdeck"


def test_resolve_config_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flag, env = tmp_path / "flag.toml", tmp_path / "env.toml"
    assert resolve_config_path(None) == default_config_path()
    monkeypatch.setenv("PARTDECK_CONFIG", "")
    assert resolve_config_path(None) == default_config_path()
    monkeypatch.setenv("PARTDECK_CONFIG", str(env))
    assert resolve_config_path(None) == env
    assert resolve_config_path(flag) == flag
    assert resolve_config_path(str(flag)) == flag


def test_resolve_state_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flag, env = tmp_path / "flag", tmp_path / "env"
    assert resolve_state_dir(None) == default_state_dir()
    monkeypatch.setenv("PARTDECK_STATE_DIR", str(env))
    assert resolve_state_dir(None) == env
    assert resolve_state_dir(str(flag)) == flag


def test_resolved_paths_expand_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_config_path("~/c.toml") == tmp_path / "c.toml"
    monkeypatch.setenv("PARTDECK_STATE_DIR", "~/state")
    assert resolve_state_dir(None) == tmp_path / "state"


def test_config_is_frozen() -> None:
    config = parse_config(GUMROAD)
    with pytest.raises(AttributeError):
        config.theme = "x"  # type: ignore[misc]
    assert isinstance(config, Config)


def test_token_file_is_read_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "tokens").mkdir()
    (tmp_path / "tokens" / "g").write_text("tok-123\n")
    source = tmp_path / "config.toml"
    config = parse_config(
        '[accounts.g]\nprovider = "gumroad"\ntoken_file = "tokens/g"\n', source=source
    )
    account = config.account("g")
    assert account.token_file == tmp_path / "tokens" / "g"
    assert account.secret_available() and account.token() == "tok-123"
    assert "tok-123" not in repr(account)


def test_token_file_missing_or_empty_is_one_line(tmp_path: Path) -> None:
    text = f'[accounts.g]\nprovider = "gumroad"\ntoken_file = "{tmp_path / "nope"}"\n'
    account = parse_config(text).account("g")
    assert not account.secret_available()
    with pytest.raises(ConfigError, match="does not exist; create it or change token_file"):
        account.token()
    (tmp_path / "nope").write_text("  \n")
    with pytest.raises(ConfigError, match="is empty"):
        account.token()


def test_s3_keys_from_a_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
    creds = tmp_path / "credentials"
    creds.write_text("[sandbox]\naws_access_key_id = AK1\naws_secret_access_key = SK1\n")
    text = (
        '[accounts.s]\nprovider = "s3"\nbucket = "b"\nprofile = "sandbox"\n'
        f'credentials_file = "{creds}"\n'
    )
    account = parse_config(text).account("s")
    assert account.secret_available()
    assert account.s3_credentials() == ("AK1", "SK1")
    missing = parse_config(text.replace('"sandbox"', '"other"')).account("s")
    assert not missing.secret_available()
    with pytest.raises(ConfigError, match="profile 'other'"):
        missing.s3_credentials()
