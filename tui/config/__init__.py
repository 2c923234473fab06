"""partdeck's TOML config: engine settings, UI options, the service, key remaps, accounts.

The file is parsed with tomlkit and the parsed document is kept on :class:`Config`, so a
later write-back keeps the user's comments and layout. Secrets are held by reference only
(an environment variable name or a command that prints the token); an inline ``token`` is
refused unless ``PARTDECK_ALLOW_INLINE_SECRETS=1`` is set. Every problem is a one-line
:class:`~tui.core.errors.ConfigError` naming the file, the key and the fix, and no message
or repr ever holds a secret value.

The package's modules: :mod:`~tui.core.paths` (where the file and the state dir are),
:mod:`~tui.config.schema` (the validated models), :mod:`~tui.config.load` (reading and
checking a file), :mod:`~tui.config.accounts` (one account table),
:mod:`~tui.config.checks` (typed reads of a table) and :mod:`~tui.config.secrets` (where
an account's secret comes from). Import from ``tui.config``: this is its public face.
"""

from __future__ import annotations

from tui.config.keys import (
    PROVIDERS,
)
from tui.config.load import MAX_CONFIG_FILE, inline_secret_warnings, load_config, parse_config
from tui.config.schema import (
    DEFAULT_BASE_URLS,
    DEFAULT_BOX_UPLOAD_URL,
    SERVICE_MODES,
    Account,
    Config,
    ServiceMode,
    ServiceSettings,
)
from tui.config.secrets import (
    ALLOW_INLINE_SECRETS_ENV,
    MAX_TOKEN_FILE,
    TOKEN_COMMAND_TIMEOUT,
)
from tui.core.paths import (
    CONFIG_ENV,
    STATE_DIR_ENV,
    default_config_path,
    default_state_dir,
    resolve_config_path,
    resolve_state_dir,
)

__all__ = [
    "ALLOW_INLINE_SECRETS_ENV",
    "CONFIG_ENV",
    "DEFAULT_BASE_URLS",
    "DEFAULT_BOX_UPLOAD_URL",
    "MAX_CONFIG_FILE",
    "MAX_TOKEN_FILE",
    "PROVIDERS",
    "SERVICE_MODES",
    "STATE_DIR_ENV",
    "TOKEN_COMMAND_TIMEOUT",
    "Account",
    "Config",
    "ServiceMode",
    "ServiceSettings",
    "default_config_path",
    "default_state_dir",
    "inline_secret_warnings",
    "load_config",
    "parse_config",
    "resolve_config_path",
    "resolve_state_dir",
]
