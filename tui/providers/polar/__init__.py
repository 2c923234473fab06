"""Polar's Files API: a multipart S3 upload that Polar opens, signs and closes.

``POST /v1/files/`` takes the client's part boundaries with every part's SHA-256 and
answers with one presigned S3 URL per part (600 s, no way to sign again); each part is
PUT there with exactly the headers Polar gives (the SHA-256 is signed in, so S3 refuses
other bytes); ``POST /v1/files/{id}/uploaded`` hands Polar the ETags and the same
checksums. Polar has no abort: ``DELETE /v1/files/{id}`` removes the record and the
object, and the parts already sent stay in Polar's bucket until its lifecycle rules
remove them.

The package's modules: answers.py (Polar's answers checked against the request),
errors.py (its error bodies mapped to RemoteErrors), api.py (calls with the token) and
provider.py (the adapter).
"""

from tui.providers.polar.answers import (
    CHECKSUM_HEADER,
    b64_of_hex,
    check_part_url,
    listed_uploaded,
    parse_file_read,
    parse_file_upload,
)
from tui.providers.polar.api import PolarApi
from tui.providers.polar.errors import MAX_TEXT, SCOPE_FIX, polar_error_text, raise_for_polar
from tui.providers.polar.provider import (
    ABORT_NOTE,
    LINK_LIFETIME,
    POLAR_LIMITS,
    SERVICE,
    PolarProvider,
    describe,
    from_account,
)

__all__ = [
    "ABORT_NOTE",
    "CHECKSUM_HEADER",
    "LINK_LIFETIME",
    "MAX_TEXT",
    "POLAR_LIMITS",
    "SCOPE_FIX",
    "SERVICE",
    "PolarApi",
    "PolarProvider",
    "b64_of_hex",
    "check_part_url",
    "describe",
    "from_account",
    "listed_uploaded",
    "parse_file_read",
    "parse_file_upload",
    "polar_error_text",
    "raise_for_polar",
]
