"""extract_quotes(doc) -> quotes: the named steps in order.

1. quotation-mark spans in the raw text (quote_marks.find_quote_spans)
2. cue frames (frames.py): reporting verbs from the parse, "according to", report nouns,
   speaker labels ("Pence: ...", 'Anna Berg, mayor: "..."'), names after a quotation ('"..."
   - Name', '"...," Name, role.'), embedded posts ('... — Name (@handle) date'); a frame
   inside a quotation belongs to the quoted speaker
3. each frame's content becomes a quote: direct when quotation marks cover the clause,
   partial when they cover part of it, question when it is asked of someone, indirect
   otherwise; a report nested inside another report's content or a quotation is part of
   it, and also a quote of its own when it names its own speaker
4. quotation-mark spans no frame claimed: attributed to a cue in the same, next or
   colon-ended previous sentence, to the person the sentence before is about, or
   continuing the quote before it; then paragraphs without quotation marks that are
   someone's words (after 'She said:', or inside a quotation running over paragraphs)
5. speakers resolved (resolution.SpeakerResolver) in document order
"""
from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Doc, Span

from pipeline.extraction.cues import SPEECH_VERBS
from pipeline.extraction.frames import (
    CueFrame,
    colon_introduced_frame,
    find_cue_frames,
    name_after_quotation_frames,
    post_signature_frames,
    speaker_label_frames,
    subject_of,
)
from pipeline.extraction.nlp import sentence_of_token
from pipeline.extraction.quote_marks import QuoteSpan, find_quote_spans, paragraph_ranges
from pipeline.extraction.resolution import PersonRegistry, Speaker, SpeakerResolver
from pipeline.records import Quote, quote_id

TRAILING = " \t\n,;:."
QUOTE_CHARS = "\"\u201c\u201d\u201e\u00ab\u00bb"
DIRECT_COVERAGE = 0.85
MIN_UNCUED_QUOTE_WORDS = 4


@dataclass
class Candidate:
    """A quote before its speaker is resolved."""

    start: int
    end: int
    kind: str
    frame: CueFrame


def _alnum(text: str) -> int:
    return sum(char.isalnum() for char in text)


def quote_coverage(text: str, start: int, end: int, spans: list[QuoteSpan]) -> float:
    """Share of the letters and digits in text[start:end] that sit inside quotation marks."""
    total = _alnum(text[start:end])
    if total == 0:
        return 0.0
    inside = sum(_alnum(text[max(start, span.start):min(end, span.end)]) for span in spans)
    return inside / total


def overlapping(spans: list[QuoteSpan], start: int, end: int) -> list[QuoteSpan]:
    return [span for span in spans if span.start < end and span.end > start]


def quoted_report(frame: CueFrame, spans: list[QuoteSpan]) -> bool:
    """A report inside a quotation is part of what the quoted speaker said: its cue is inside
    a closed quotation, or cue and speaker both are inside one left open."""
    for span in spans:
        if span.start <= frame.cue.idx < span.end:
            if span.closed or frame.speaker is None or span.start <= frame.speaker.idx < span.end:
                return True
    return False


def cut_nested_frames(text: str, frame: CueFrame, frames: list[CueFrame]) -> tuple[int, int] | None:
    """End the content before a set-off report with its own speaker ('..., a move Tbilisi called');
    None when the content before the cue is itself a report with its own speaker ('X said Y, he said')."""
    start, end = frame.content

    def inside(token) -> bool:
        return start <= token.idx < end

    def is_content_root(token) -> bool:
        return token.head.i == token.i or not inside(token.head)

    for other in frames:
        if other is frame or other.speaker is None or other.speaker_inherited or not start < other.cue.idx < end:
            continue
        if is_content_root(other.cue) and frame.cue.idx >= end and other.cue.lemma_.lower() in SPEECH_VERBS:
            return None
        top = other.cue
        while not is_content_root(top) and not is_content_root(top.head):
            top = top.head
        clause_start = top.left_edge.idx
        if clause_start > start and text[start:clause_start].rstrip().endswith((",", "\u2014", "--", ";")):
            end = min(end, clause_start)
    return start, end


FIRST_AND_SECOND_PERSON = frozenset({"i", "we", "you", "me", "us"})  # the quoted speaker's own words
HYPOTHETICAL = frozenset({"would", "could", "might", "should", "may", "must", "can", "ca"})


def reports_on_its_own(frame: CueFrame, within: tuple[int, int]) -> bool:
    """A report nested in another's content or quotation (`within`) that is a quote of its own: a
    reporting verb whose speaker is named or described inside it ('the Supreme Court has clarified
    that ...', 'Ms Kennedy is correct to say that ...'), not a pronoun, neither negated nor hypothetical."""
    speaker, cue = frame.speaker, frame.cue
    if speaker is None or frame.content is None or frame.shape not in ("clause", "according") \
            or not within[0] <= speaker.idx < within[1]:
        return False
    if speaker.pos_ not in ("PROPN", "NOUN") or cue.lemma_.lower() not in SPEECH_VERBS | {"according"}:
        return False
    return not any(child.dep_ == "neg" or child.dep_ == "aux" and child.lower_ in HYPOTHETICAL
                   for child in cue.children)


def says_that(frame: CueFrame) -> bool:
    """The cue's complement opens with 'that'."""
    return any(child.dep_ == "ccomp"
               and any(grand.dep_ == "mark" and grand.lower_ == "that" for grand in child.children)
               for child in frame.cue.children)


def enclosing_quotation(char: int, spans: list[QuoteSpan]) -> tuple[int, int]:
    return next(((span.start, span.end) for span in spans if span.start <= char < span.end), (char, char))


def nested_candidate(frame: CueFrame, start: int, end: int, spans: list[QuoteSpan]) -> Candidate:
    """A nested report's content, partial when quotation marks inside it (not around it) quote some of it."""
    inner = [span for span in overlapping(spans, start, end) if not span.start <= frame.cue.idx < span.end]
    if inner:
        start = min(start, min(span.start for span in inner))
        end = max(end, max(span.end + (1 if span.closed else 0) for span in inner))
    return Candidate(start, end, "partial" if inner else "indirect", frame)


def frame_candidates(text: str, frames: list[CueFrame], spans: list[QuoteSpan],
                     used: set[QuoteSpan]) -> list[Candidate]:
    """Step 3: the content each frame governs, with its kind."""
    contents = {}
    shapes = {id(frame): frame.shape for frame in frames}
    for frame in frames:
        if frame.content is not None and (content := cut_nested_frames(text, frame, frames)) is not None:
            contents[id(frame)] = content
    candidates = []
    for frame in frames:
        if id(frame) not in contents:
            continue
        start, end = contents[id(frame)]
        outer = [(shapes[key], (other_start, other_end)) for key, (other_start, other_end) in contents.items()
                 if key != id(frame) and other_start <= frame.cue.idx < other_end]
        if outer:
            # a report inside another report's content is part of what was said; one with a speaker
            # of its own ('X said the court has ruled that ...') is also that speaker's quote
            shape, within = outer[0]
            if shape != "question" and reports_on_its_own(frame, within):
                candidates.append(nested_candidate(frame, start, end, spans))
            continue
        marked = overlapping(spans, start, end)
        if frame.shape == "post":  # a post's own words, with or without quotation marks inside
            used.update(marked)
            candidates.append(Candidate(start, end, "direct", frame))
            continue
        if marked and frame.shape in ("clause", "label", "question") \
                and quote_coverage(text, start, end, marked) >= DIRECT_COVERAGE:
            for span in marked:
                if span not in used:
                    used.add(span)
                    candidates.append(Candidate(span.start, span.end, "direct", frame))
            continue
        if marked:
            used.update(marked)
            start = min(start, min(span.start for span in marked))
            end = max(end, max(span.end + (1 if span.closed else 0) for span in marked))
        kind = "question" if frame.shape == "question" else "partial" if marked else "indirect"
        candidates.append(Candidate(start, end, kind, frame))
    return candidates


def sentence_of(doc: Doc, char: int) -> Span | None:
    span = doc.char_span(char, char + 1, alignment_mode="expand")
    return sentence_of_token(span[0]) if span is not None and len(span) else None


def cue_for_span(doc: Doc, text: str, span: QuoteSpan, frames: list[CueFrame],
                 quoting: set[int]) -> CueFrame | None:
    """A speaking frame outside the quotation, in a sentence it touches, the one right after, or
    the one before when that ends in a colon or comma, that governs no other content or already
    introduced a direct quote ('"A," he said, "B."')."""
    first, last = sentence_of(doc, span.start), sentence_of(doc, max(span.start, span.end - 1))
    if first is None or last is None:
        return None
    sentence_starts = {first.start, last.start}
    if last.end < len(doc):
        following = sentence_of_token(doc[last.end])
        between = text[span.end:following.start_char]
        if "\n" not in between:
            sentence_starts.add(following.start)
    if first.start > 0 and not text[first.start_char:span.start].strip(QUOTE_CHARS + " \n"):
        # 'She continued, | "..."' and 'Trump said: "..."', even across a paragraph break
        preceding = sentence_of_token(doc[first.start - 1])
        if text[preceding.start_char:span.start].rstrip(QUOTE_CHARS + " \n").endswith((":", ",")):
            sentence_starts.add(preceding.start)
    nearby = [frame for frame in frames
              if frame.speaker is not None and sentence_of_token(frame.cue).start in sentence_starts
              and not (span.start <= frame.cue.idx < span.end)
              and (frame.content is None or id(frame) in quoting or overlapping([span], *frame.content))]
    if not nearby:
        return None
    return min(nearby, key=lambda frame: min(abs(frame.cue.idx - span.end), abs(frame.cue.idx - span.start)))


def paragraph_index(paragraphs: list[tuple[int, int]], char: int) -> int:
    return next((index for index, (start, end) in enumerate(paragraphs) if start <= char < end), -1)


def span_candidates(doc: Doc, text: str, spans: list[QuoteSpan], frames: list[CueFrame], used: set[QuoteSpan],
                    claimed: list[Candidate]) -> list[Candidate]:
    """Step 4: quotations no frame claimed, attributed by position."""
    paragraphs = paragraph_ranges(text)
    candidates: list[Candidate] = []
    quoting = {id(candidate.frame) for candidate in claimed if candidate.kind == "direct"}
    for span in spans:
        if span in used or len(text[span.start:span.end].split()) < MIN_UNCUED_QUOTE_WORDS:
            continue
        frame = (cue_for_span(doc, text, span, frames, quoting) or colon_introduced_frame(doc, text, span.start)
                 or previous_sentence_frame(doc, text, span))
        if frame is None:
            frame = continued_frame(span, claimed + candidates, paragraphs, text)
        if frame is not None:
            used.add(span)
            candidates.append(Candidate(span.start, span.end, "direct", frame))
    return candidates


def unmarked_paragraph_candidates(text: str, spans: list[QuoteSpan], frames: list[CueFrame],
                                  claimed: list[Candidate]) -> list[Candidate]:
    """Paragraphs of someone's words with no quotation marks of their own: after a paragraph that
    ends 'She said:', and between a quotation left open at a paragraph's end and a paragraph that
    opens with a quotation mark (the continuing paragraph lost its opening mark). Neither may hold a
    report with a speaker of its own ('I', 'we' and 'you' are the speaker's own words)."""
    paragraphs = paragraph_ranges(text)
    candidates = []
    for number, (start, end) in enumerate(paragraphs[:-1]):
        next_start, next_end = paragraphs[number + 1]
        if overlapping(spans, next_start, next_end) or any(
                next_start <= frame.cue.idx < next_end and frame.speaker is not None
                and frame.speaker.lower_ not in FIRST_AND_SECOND_PERSON for frame in frames):
            continue
        frame = None
        if text[start:end].rstrip().endswith(":"):
            frame = next((frame for frame in reversed(frames) if start <= frame.cue.idx < end
                          and frame.speaker is not None and frame.content is None), None)
        else:
            left_open = [candidate for candidate in claimed if candidate.kind == "direct"
                         and start <= candidate.start < end and candidate.end >= end]
            after = paragraphs[number + 2][0] if number + 2 < len(paragraphs) else None
            if left_open and after is not None and text[after] in QUOTE_CHARS:
                frame = left_open[-1].frame
        if frame is not None:
            candidates.append(Candidate(next_start, next_end, "direct", frame))
    return candidates


def previous_sentence_frame(doc: Doc, text: str, span: QuoteSpan) -> CueFrame | None:
    """'He referred to the 1983 vote. "Back then ..."', 'Ms Ruiz voted early and made a statement.
    "We must ..."': a quotation opening a sentence, with no cue, speaks for the person who is the
    subject of the sentence before it in the same paragraph."""
    first = sentence_of(doc, span.start)
    if first is None or first.start == 0 or text[first.start_char:span.start].strip(QUOTE_CHARS + " "):
        return None
    before = doc[first.start - 1]
    if "\n" in before.text_with_ws or before.is_space:
        return None
    root = sentence_of_token(before).root
    speaker, inherited = subject_of(root)
    if speaker is None or not (speaker.lower_ in ("he", "she") or speaker.ent_type_ == "PERSON"):
        return None
    return CueFrame(root, root.text, speaker, inherited, None, "none")


def continued_frame(span: QuoteSpan, earlier: list[Candidate], paragraphs: list[tuple[int, int]],
                    text: str) -> CueFrame | None:
    """A quotation with no cue of its own continues the nearest quote before it: within a
    paragraph a direct one, and a paragraph that opens with it continues any report of the
    paragraph before ('Carter said that ... || "That's because ...'")."""
    before = [candidate for candidate in earlier if candidate.end <= span.start]
    if not before:
        return None
    previous = max(before, key=lambda candidate: candidate.end)
    here, there = paragraph_index(paragraphs, span.start), paragraph_index(paragraphs, previous.start)
    if here - there > 1 or (here == there and previous.kind != "direct"):
        return None
    # only whole-sentence quotations continue a speaker ("... ," he said. "Second sentence.")
    opening = text[max(0, span.start - 3):span.start]
    if here != there and not text[paragraphs[here][0]:span.start].strip(QUOTE_CHARS + " "):
        return previous.frame
    if here == there and any(mark in opening for mark in ". \u201c\"") and text[span.start:span.start + 1].isupper():
        return previous.frame
    return None


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop surrounding white space and trailing commas/periods, keeping `body[start:end] == text`."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1] in TRAILING:
        end -= 1
    return start, end


def context_sentence(doc: Doc, text: str, start: int, end: int, frame: CueFrame) -> str:
    """The sentences from the quote and its cue, as one string (`text` is doc.text, built once:
    spaCy rebuilds it on every access)."""
    first = min(start, frame.cue.idx)
    last = max(end, frame.cue.idx + len(frame.cue.text))
    begin, finish = sentence_of(doc, first), sentence_of(doc, max(first, last - 1))
    if begin is None or finish is None:
        return text[start:end]
    end_char = finish.end_char
    while end_char < len(text) and text[end_char] in QUOTE_CHARS:
        end_char += 1  # spaCy can leave a closing mark after the final period on its own
    return text[begin.start_char:end_char].strip()


def extract_quotes(doc: Doc, article_id: str, *, extra_cues: frozenset[str] = frozenset(),
                   max_quote_chars: int = 20000) -> list[Quote]:
    """All reported statements in a parsed article body, in text order, one per id."""
    text = doc.text
    spans = find_quote_spans(text, max_quote_chars)
    paragraphs = paragraph_ranges(text)
    closed = [(span.start, span.end) for span in spans if span.closed]
    frames = sorted(find_cue_frames(doc, extra_cues) + speaker_label_frames(doc, paragraphs)
                    + name_after_quotation_frames(doc, text, closed) + post_signature_frames(doc, text, paragraphs),
                    key=lambda frame: frame.cue.i)
    quoted = [frame for frame in frames if quoted_report(frame, spans)]
    frames = [frame for frame in frames if not quoted_report(frame, spans)]
    used: set[QuoteSpan] = set()
    candidates = frame_candidates(text, frames, spans, used)
    # inside a quotation only a named speaker's 'that' clause: the quoted speaker reporting someone
    # ('"Judge Ruiz has confirmed that ..."'), not their turns of phrase ('"... say it's a hoax"')
    candidates += [nested_candidate(frame, *frame.content, spans) for frame in quoted
                   if reports_on_its_own(frame, enclosing_quotation(frame.cue.idx, spans))
                   and frame.speaker.pos_ == "PROPN" and says_that(frame)]
    candidates += span_candidates(doc, text, spans, frames, used, candidates)
    unmarked = unmarked_paragraph_candidates(text, spans, frames, candidates)
    candidates += unmarked
    if unmarked:  # a quotation after an unmarked paragraph can now continue it
        candidates += span_candidates(doc, text, spans, frames, used, candidates)
    candidates.sort(key=lambda candidate: (candidate.start, candidate.end))
    resolver = SpeakerResolver(doc, text, PersonRegistry(doc, spans), spans)
    quotes: dict[str, Quote] = {}
    for candidate in candidates:
        start, end = trim(text, candidate.start, candidate.end)
        if _alnum(text[start:end]) == 0:
            continue
        speaker = (resolver.resolve(candidate.frame.speaker, candidate.frame.speaker_span)
                   if candidate.frame.speaker is not None else Speaker(None, None, None, False))
        quote_text = text[start:end]
        identifier = quote_id(article_id, quote_text)
        if identifier in quotes:
            continue
        quotes[identifier] = Quote(
            id=identifier, article_id=article_id, text=quote_text, kind=candidate.kind,
            cue=candidate.frame.cue_text, speaker=speaker.name, speaker_mention=speaker.mention,
            speaker_role=speaker.role, start=start, end=end,
            sentence=context_sentence(doc, text, start, end, candidate.frame))
    return list(quotes.values())
