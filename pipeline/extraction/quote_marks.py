"""Quotation-mark spans found in the raw text, paragraph by paragraph.

Pairing never raises: a mark left open at the end of its paragraph quotes to the end of
that paragraph (news style for a quote that continues), capped at `max_chars`; a stray
closing mark is ignored. Offsets are those of the text between the marks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

OPENING = "\u201c\u201e\u00ab"
CLOSING = "\u201d\u00bb"
STRAIGHT = '"'
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class QuoteSpan:
    """The text between a pair of quotation marks: body[start:end]."""

    start: int
    end: int
    closed: bool


def paragraph_ranges(text: str) -> list[tuple[int, int]]:
    """(start, end) of each blank-line-separated paragraph."""
    ranges, start = [], 0
    for match in PARAGRAPH_BREAK.finditer(text):
        if match.start() > start:
            ranges.append((start, match.start()))
        start = match.end()
    if start < len(text):
        ranges.append((start, len(text)))
    return ranges


def _opens_here(text: str, index: int) -> bool:
    """A straight mark opens when it follows a space, a line start or an opening bracket/dash."""
    return index == 0 or text[index - 1].isspace() or text[index - 1] in "([{\u2014\u2013-/"


def find_quote_spans(text: str, max_chars: int = 20000) -> list[QuoteSpan]:
    """Every quoted span in `text`, in order, never crossing a paragraph break. Curly marks
    nest ('"... what he calls "hell" than ..."' is one span); straight marks cannot."""
    spans: list[QuoteSpan] = []
    for para_start, para_end in paragraph_ranges(text):
        open_at: int | None = None
        depth = 0
        for index in range(para_start, para_end):
            char = text[index]
            if char in OPENING and open_at is not None and _opens_here(text, index):
                depth += 1
                continue
            # a closing curly mark where a quotation starts (paragraph start, before a word) opens one
            misused = char in CLOSING and index == para_start and index + 1 < para_end and text[index + 1].isalnum()
            if char in OPENING or misused or (char == STRAIGHT and open_at is None and _opens_here(text, index)):
                if open_at is None:
                    open_at = index + 1
                continue
            if char in CLOSING and depth > 0:
                depth -= 1
                continue
            if (char in CLOSING or char == STRAIGHT) and open_at is not None:
                if index > open_at:
                    spans.append(QuoteSpan(open_at, index, True))
                open_at, depth = None, 0
        if open_at is not None and 0 < para_end - open_at <= max_chars:
            spans.append(QuoteSpan(open_at, para_end, False))
    return spans
