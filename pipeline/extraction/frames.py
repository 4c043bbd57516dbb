"""Cue frames: a reporting verb, the token heading its speaker, and its content clause.

All rules read the dependency parse: the speaker is the verb's subject (inherited by
"..., saying/adding that ..." from the verb they hang on, and taken from the noun a
relative "which"/"who" stands for), the content is the clausal complement, the
object-and-predicate of a naming verb ("called X 'Y'"), the infinitive of an intention
verb, or the rest of the sentence around "according to X".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from spacy.tokens import Doc, Token

from pipeline.extraction.cues import INTENTION_VERBS, NAMING_VERBS, is_cue_lemma

ContentShape = Literal["clause", "naming", "intention", "according", "none"]
SUBJECTS = ("nsubj", "nsubjpass", "csubj")
INHERITS_SUBJECT = ("advcl", "xcomp", "conj", "pcomp", "acl")
QUOTE_MARKS = frozenset('"\u201c\u201d\u201e\u00ab\u00bb')
RELATIVE_PRONOUNS = frozenset({"which", "who", "that", "whom"})


@dataclass
class CueFrame:
    """One reporting event. `content` is a (start, end) character range into the body."""

    cue: Token
    cue_text: str
    speaker: Token | None
    speaker_inherited: bool
    content: tuple[int, int] | None
    shape: ContentShape


def antecedent_of_relative(token: Token) -> Token:
    """'Russia, which is ... saying' -> 'Russia': the noun a relative pronoun stands for."""
    if token.lower_ in RELATIVE_PRONOUNS:
        for ancestor in token.ancestors:
            if ancestor.dep_ == "relcl":
                return ancestor.head
    return token


def subject_of(verb: Token, depth: int = 0) -> tuple[Token | None, bool]:
    """The token heading the verb's speaker, and whether it was inherited from a governing verb."""
    for child in verb.children:
        if child.dep_ in ("nsubj", "csubj"):
            return antecedent_of_relative(child), depth > 0
        if child.dep_ == "agent":
            for pobj in child.children:
                if pobj.dep_ == "pobj":
                    return pobj, depth > 0
    if verb.dep_ in INHERITS_SUBJECT and verb.head is not verb and depth < 3:
        return subject_of(verb.head, depth + 1)
    if verb.dep_ == "relcl" and depth < 3:
        return verb.head, True
    return None, False


def token_range(first: Token, last: Token) -> tuple[int, int]:
    return first.idx, last.idx + len(last.text)


def content_of(cue: Token) -> tuple[tuple[int, int] | None, ContentShape]:
    """The content range a cue governs, and its shape."""
    lemma = cue.lemma_.lower()
    children = list(cue.children)
    clauses = [child for child in children if child.dep_ == "ccomp"]
    if clauses:
        clause = clauses[0]
        first = clause.left_edge
        # "said that ...": the complementiser is not part of what was said
        while first.i < clause.i and (first.dep_ == "mark" or first.is_punct or first.is_space):
            first = first.nbor()
        return token_range(first, clause.right_edge), "clause"
    if lemma in NAMING_VERBS:
        predicates = [child for child in children if child.dep_ in ("oprd", "xcomp")
                      or (child.dep_ == "prep" and child.lower_ == "as")]
        if predicates:
            objects = [child for child in children if child.dep_ == "dobj" and child.i < predicates[0].i]
            first = objects[0].left_edge if objects else predicates[0].left_edge
            return token_range(first, predicates[0].right_edge), "naming"
        # 'called the talk of a referendum "unacceptable"': the quoted word parses inside the object
        for child in children:
            if child.dep_ == "dobj" and any(token.text in QUOTE_MARKS for token in child.subtree):
                last = child.right_edge
                return token_range(child.left_edge, last), "naming"
    if lemma in INTENTION_VERBS:
        for child in children:
            if child.dep_ == "xcomp" and child.pos_ in ("VERB", "AUX"):
                return token_range(child.left_edge, child.right_edge), "intention"
    if cue.dep_ == "parataxis" and cue.head.i != cue.i:
        head = cue.head
        inside = {token.i for token in cue.subtree}
        before = [token for token in head.subtree if token.i < cue.left_edge.i and token.i not in inside]
        if before and before[-1].i < cue.i:
            return token_range(before[0], before[-1]), "clause"
    return None, "none"


def according_to_frames(doc: Doc) -> list[CueFrame]:
    """'X, according to Y.' -> content X, speaker Y."""
    frames = []
    for token in doc:
        if token.lower_ != "according":
            continue
        to = next((child for child in token.children if child.lower_ == "to"), None)
        source = next((child for child in to.children if child.dep_ == "pobj"), None) if to else None
        if source is None:
            continue
        sentence = token.sent
        phrase_start, phrase_end = token.left_edge.i, max(token.right_edge.i, source.right_edge.i)
        before = [t for t in sentence if t.i < phrase_start and not (t.is_punct or t.is_space)]
        after = [t for t in sentence if t.i > phrase_end and not (t.is_punct or t.is_space)]
        part = before if len(before) >= len(after) else after
        if len(part) < 3:
            continue
        frames.append(CueFrame(token, "according to", source, False, token_range(part[0], part[-1]),
                               "according"))
    return frames


def find_cue_frames(doc: Doc, extra_cues: frozenset[str] = frozenset()) -> list[CueFrame]:
    """Every reporting verb with its speaker and content, in document order."""
    frames = []
    for token in doc:
        if token.pos_ not in ("VERB", "PROPN", "NOUN") or not is_cue_lemma(token.lemma_, extra_cues):
            continue
        if token.pos_ != "VERB" and not (token.dep_ == "ROOT" and token.is_title):
            continue  # headline-case "Says" is sometimes tagged a noun
        speaker, inherited = subject_of(token)
        content, shape = content_of(token)
        cue_text = token.text
        particle = next((child for child in token.children if child.dep_ == "prt"), None)
        if particle is not None:
            cue_text = f"{token.text} {particle.text}"
        frames.append(CueFrame(token, cue_text, speaker, inherited, content, shape))
    frames.extend(according_to_frames(doc))
    frames.sort(key=lambda frame: frame.cue.i)
    return frames
