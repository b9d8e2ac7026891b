"""Split a filter or order-by string into tokens, each with its character offset.

Keywords are not told apart here (``AND`` is a ``WORD``); the parser decides by context, so
that a key such as ``params.in`` stays usable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

from mltrail.exceptions import SearchSyntaxError

TokenType: TypeAlias = Literal[
    "WORD", "QUOTED_KEY", "STRING", "NUMBER", "OP", "LPAREN", "RPAREN", "COMMA", "EOF"
]


@dataclass(frozen=True, slots=True)
class Token:
    type: TokenType
    value: str  # unquoted text for strings and keys, canonical spelling for operators
    pos: int
    raw: str  # the text as written, for error messages


# A bare word: a keyword, an attribute, or ``prefix.key`` (keys may hold dots, dashes, colons
# and slashes, as MLflow names do). Ends with "." when a quoted key follows: tags."a b".
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/-]*")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_OPS = {"<=": "<=", ">=": ">=", "!=": "!=", "<>": "!=", "==": "=", "=": "=", "<": "<", ">": ">"}
_SINGLE = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ending with an ``EOF`` token at ``len(text)``."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in _SINGLE:
            tokens.append(Token(_SINGLE[ch], ch, i, ch))  # type: ignore[arg-type]
            i += 1
            continue
        two = text[i : i + 2]
        if two in _OPS or ch in _OPS:
            op = two if two in _OPS else ch
            tokens.append(Token("OP", _OPS[op], i, op))
            i += len(op)
            continue
        if ch in "'\"`":
            value, end = _read_quoted(text, i)
            kind: TokenType = "QUOTED_KEY" if ch == "`" else "STRING"
            tokens.append(Token(kind, value, i, text[i:end]))
            i = end
            continue
        match = _NUMBER.match(text, i)
        if match:
            end = match.end()
            if end < n and (text[end].isalnum() or text[end] in "_."):
                # "1abc" or "1.2.3" is neither a number nor a name: say so rather than split it.
                bad = re.match(r"[\w.+-]*", text[i:]).group()  # type: ignore[union-attr]
                raise SearchSyntaxError(
                    f"invalid number {bad!r} at position {i}; quote it if it is a string, or "
                    "wrap a key that starts with a digit in backticks",
                    position=i,
                    text=text,
                )
            tokens.append(Token("NUMBER", match.group(), i, match.group()))
            i = end
            continue
        match = _WORD.match(text, i)
        if match:
            tokens.append(Token("WORD", match.group(), i, match.group()))
            i = match.end()
            continue
        raise SearchSyntaxError(
            f"unexpected character {ch!r} at position {i}; a filter is made of comparisons "
            "such as metrics.acc > 0.9 joined by AND, OR and NOT",
            position=i,
            text=text,
        )
    tokens.append(Token("EOF", "", n, ""))
    return tokens


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read a quoted string or key starting at ``start``; return (content, end offset).

    The quote is escaped by doubling it (``'it''s'``) or by a backslash (``'it\\'s'``);
    ``\\\\`` is one backslash and any other backslash stays as written (LIKE patterns use it).
    """
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in (quote, "\\"):
            out.append(text[i + 1])
            i += 2
        elif ch == quote:
            if text[i + 1 : i + 2] == quote:
                out.append(quote)
                i += 2
            else:
                return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    what = "key" if quote == "`" else "string"
    raise SearchSyntaxError(
        f"unterminated quoted {what} starting at position {start}; add the closing {quote}",
        position=start,
        text=text,
    )
