"""Text from outside (file names, server messages, account names, keys) made safe to show.

A file name may hold terminal escapes (``ESC ] 0 ; title BEL`` retitles the terminal,
``ESC [ 31 m`` recolours it), line breaks (one session split over two lines) or bidi
controls (``invoice-\\u202egnp.exe`` shows as ``invoice-exe.png``). Every human-readable
output passes such text through :func:`visible`; ``--json`` keeps it exact.
"""

from __future__ import annotations

import unicodedata

__all__ = ["is_hidden", "visible"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Marks, embeddings, overrides and isolates: they reorder what follows them."""
_KEPT_FORMAT = frozenset("\u200d")
"""Format characters shown as they are: the zero-width joiner builds emoji sequences."""
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
"""C0, DEL, C1; lone surrogates (undecodable bytes of a file name); line and paragraph
separators."""
_ESCAPE_LETTERS = frozenset("\\xuUnrt")
"""What may follow a backslash in an escape: a backslash before one of these is doubled,
so ``a\\x1b`` (four characters) and ``a`` + ESC never look the same."""


def is_hidden(char: str) -> bool:
    """True for a character :func:`visible` escapes: control, surrogate, line separator,
    bidi control or any other invisible format character but the zero-width joiner."""
    if char in _BIDI:
        return True
    category = unicodedata.category(char)
    if category in _HIDDEN_CATEGORIES:
        return True
    return category == "Cf" and char not in _KEPT_FORMAT


def _escape(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: object) -> str:
    """``text`` with every hidden character written as a visible escape.

    ``\\n``, ``\\r``, ``\\t``; ``\\x1b`` for other C0/C1 controls and DEL; ``\\u202e`` for
    bidi controls and other invisible format characters; ``\\udce9`` for an undecodable
    byte of a file name. A backslash that would read as the start of an escape is doubled,
    so two different texts never look the same. Plain text comes back unchanged.
    """
    raw = str(text)
    if raw.isascii() and raw.isprintable() and "\\" not in raw:
        return raw  # the common case, at C speed: printable ASCII hides nothing
    if not any(c == "\\" or is_hidden(c) for c in raw):
        return raw
    out: list[str] = []
    for index, char in enumerate(raw):
        if char == "\\":
            following = raw[index + 1 : index + 2]
            ambiguous = following and (following in _ESCAPE_LETTERS or is_hidden(following))
            out.append("\\\\" if ambiguous else "\\")
        elif is_hidden(char):
            out.append(_escape(char))
        else:
            out.append(char)
    return "".join(out)
