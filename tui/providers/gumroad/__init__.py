"""Gumroad: the v2 files API (presign, complete, abort) over S3 multipart part links.

Gumroad picks the part size (100 MiB) and signs every part link when the upload opens,
for 15 minutes, with no way to sign them again: a link that dies ends its part as
``expired`` and the upload has to start over. Complete may be sent only once per upload
id, because a repeat after an unclear answer can make a second file. Abort is repeated
until Gumroad says the upload is ``already_gone``.

The package's modules: answers.py (JSON bodies, Gumroad's own words and presign's part
links, read without I/O), api.py (calls with the token and how their answers are judged)
and provider.py (the adapter). Pacing constants live, and are patched, in the module
that reads them.
"""

from tui.providers.gumroad.answers import MAX_TEXT, link_problem
from tui.providers.gumroad.api import GumroadApi
from tui.providers.gumroad.provider import (
    ABORT_SPACING,
    ABORT_TIMEOUT,
    ABORT_TRIES,
    DEFAULT_BASE_URL,
    GUMROAD_LIMITS,
    LINK_LIFETIME,
    MAX_SIZE,
    PART_SIZE,
    GumroadProvider,
    from_account,
)

__all__ = [
    "ABORT_SPACING",
    "ABORT_TIMEOUT",
    "ABORT_TRIES",
    "DEFAULT_BASE_URL",
    "GUMROAD_LIMITS",
    "LINK_LIFETIME",
    "MAX_SIZE",
    "MAX_TEXT",
    "PART_SIZE",
    "GumroadApi",
    "GumroadProvider",
    "from_account",
    "link_problem",
]
