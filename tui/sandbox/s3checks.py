"""What S3 refuses, as the sandbox's S3 gateway answers it: the error S3 sends, its checks
of a request body's Content-MD5 and ``x-amz-checksum-*`` values, and of the full-object
checksum a CompleteMultipartUpload carries (moto checks none of them)."""

from __future__ import annotations

import base64
import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

from starlette.responses import Response

from tui.core import checksums


@dataclass
class Rejection(Exception):
    """A request S3 would refuse: status, S3 error code and message."""

    status: int
    code: str
    message: str

    def response(self) -> Response:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message>"
            "</Error>"
        )
        return Response(body, status_code=self.status, media_type="application/xml")


def check_digests(headers: Mapping[str, str], body: bytes, *, data: bool = True) -> dict[str, str]:
    """Content-MD5 and (on a request whose body is object ``data``) every
    ``x-amz-checksum-*`` value, checked as S3 checks them; the checksums found right, by
    name (S3 echoes them in its answer). A complete's checksum is the whole object's."""
    md5 = headers.get("content-md5")
    if md5 is not None:
        try:
            given = base64.b64decode(md5, validate=True)
        except ValueError:
            given = b""
        if len(given) != 16:
            raise Rejection(400, "InvalidDigest", "The Content-MD5 you specified was invalid.")
        if given != hashlib.md5(body).digest():
            raise Rejection(
                400, "BadDigest", "The Content-MD5 you specified did not match what we received."
            )
    found: dict[str, str] = {}
    for name, algo in checksums.ALGORITHMS.items() if data else ():
        value = headers.get(algo.header)
        if value is None:
            continue
        if value.strip() != checksums.checksum(name, body):
            raise Rejection(
                400,
                "BadDigest",
                f"The {algo.s3_name} you specified did not match the calculated checksum.",
            )
        found[name] = value.strip()
    return found


class FullObjectChecks:
    """What S3 does with full-object checksums: it remembers each part's CRC as it checked
    it, and at CompleteMultipartUpload combines the CRCs of the parts listed and refuses
    an object value that differs (BadDigest), or a part value that is not the one it
    stored (InvalidPart)."""

    def __init__(self) -> None:
        self._parts: dict[tuple[str, int], tuple[str, str, int]] = {}

    def took_part(self, upload_id: str, number: int, found: Mapping[str, str], size: int) -> None:
        """Remember the CRC a part upload carried (checked right)."""
        for name, value in found.items():
            if checksums.algorithm(name).full_object:
                self._parts[(upload_id, number)] = (name, value, size)

    def check_complete(self, upload_id: str, headers: Mapping[str, str], body: bytes) -> str | None:
        """Refuse a complete S3 would refuse; the object's value when it carries one."""
        listed = _listed_parts(body)
        for number, given in listed:
            held = self._parts.get((upload_id, number))
            if given is not None and held is not None and given != held[1]:
                raise Rejection(
                    400,
                    "InvalidPart",
                    "One or more of the specified parts could not be found. The part may not "
                    "have been uploaded, or the specified entity tag may not match the "
                    "part's entity tag.",
                )
        if headers.get("x-amz-checksum-type", "").upper() != "FULL_OBJECT":
            return None
        for name, algo in checksums.ALGORITHMS.items():
            claimed = headers.get(algo.header)
            if claimed is None or not algo.full_object:
                continue
            kept = [self._parts.get((upload_id, n)) for n, _ in listed]
            values = [(k[1], k[2]) for k in kept if k is not None and k[0] == name]
            if not listed or len(values) != len(listed):
                return None  # parts this gateway did not see: nothing to combine
            whole = checksums.whole_object(name, values)
            if claimed.strip() != whole:
                raise Rejection(
                    400,
                    "BadDigest",
                    f"The {algo.s3_name} you specified did not match the calculated checksum.",
                )
            return f"<Checksum{algo.s3_name}>{whole}</Checksum{algo.s3_name}>"
        return None

    def list_parts(self, upload_id: str, body: bytes) -> bytes:
        """A ListParts answer with each part's checksum in it, as S3 lists them (moto
        leaves them out)."""

        def with_value(match: re.Match[bytes]) -> bytes:
            entry = match.group(0)
            number = re.search(rb"<PartNumber>(\d+)</PartNumber>", entry)
            held = self._parts.get((upload_id, int(number.group(1)))) if number else None
            if held is None:
                return entry
            tag = f"Checksum{checksums.algorithm(held[0]).s3_name}"
            return entry.replace(b"</Part>", f"<{tag}>{held[1]}</{tag}></Part>".encode())

        return re.sub(rb"<Part>.*?</Part>", with_value, body, flags=re.S)

    def forget(self, upload_id: str) -> None:
        """Drop an upload's parts (completed or aborted)."""
        for key in [k for k in self._parts if k[0] == upload_id]:
            del self._parts[key]


def _listed_parts(body: bytes) -> list[tuple[int, str | None]]:
    """(part number, its checksum value or None) of each part a complete lists."""
    try:
        root = ET.fromstring(body) if body.strip() and b"<!DOCTYPE" not in body else None
    except ET.ParseError:
        return []
    listed: list[tuple[int, str | None]] = []
    for part in [] if root is None else root.iter():
        if part.tag.rsplit("}", 1)[-1] != "Part":
            continue
        fields = {c.tag.rsplit("}", 1)[-1]: (c.text or "").strip() for c in part}
        if not fields.get("PartNumber", "").isdigit():
            continue
        value = next((v for k, v in fields.items() if k.startswith("Checksum")), None)
        listed.append((int(fields["PartNumber"]), value))
    return listed
