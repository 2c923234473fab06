"""Direct S3: any S3-compatible endpoint, signed with botocore's SigV4 signer.

Control calls (create, list, complete, abort) are header-signed; part uploads go to
presigned URLs with Content-MD5 signed in, so the server checks every part and the URL
can be minted again whenever one expires.

The package's modules: bucket.py (URLs, signed requests and presigned URLs for one
bucket), parse.py (values read out of S3's answers), listing.py (ListParts and
ListMultipartUploads, every page), finish.py (complete and abort, repeated until the
store is clear) and provider.py (the adapter). S3's XML and error codes, shared with the
providers that sit on S3, are in ``tui.providers.s3xml``. Pacing constants live, and are
patched, in the module that reads them.
"""

from tui.providers.s3.bucket import S3Bucket
from tui.providers.s3.finish import ABORT_SPACING, ABORT_TRIES, COMPLETE_BACKOFF, COMPLETE_TRIES
from tui.providers.s3.listing import LIST_UPLOADS_PAGES
from tui.providers.s3.parse import (
    MAX_PART_NUMBER,
    is_completion,
    iso_time,
    multipart_etag,
    parts_page,
    whole_number,
)
from tui.providers.s3.provider import PART_URL_LIFETIME, S3Provider, describe

__all__ = [
    "ABORT_SPACING",
    "ABORT_TRIES",
    "COMPLETE_BACKOFF",
    "COMPLETE_TRIES",
    "LIST_UPLOADS_PAGES",
    "MAX_PART_NUMBER",
    "PART_URL_LIFETIME",
    "S3Bucket",
    "S3Provider",
    "describe",
    "is_completion",
    "iso_time",
    "multipart_etag",
    "parts_page",
    "whole_number",
]
