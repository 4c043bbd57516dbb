"""Cue frames: a report's cue, the token heading its speaker, and its content range.

From the dependency parse: the speaker is the verb's subject (inherited by "..., saying/
adding that ..." from the verb they hang on, and taken from the noun a relative "which"/
"who" stands for); the content is the clausal complement, the object-and-predicate of a
naming or judging verb ("called X 'Y'", "blasted X as ..."), the infinitive of an
intention verb, the clause around a parenthetical cue ("X, he noted, Y"), or the rest of
the sentence around "according to X", the addressee and request of a question ("asked the
minister whether ..."). From patterns: speaker labels ("Pence: ...", "WALLACE: ...",
'Anna Berg, mayor of Eastport: "..."'), a name after a quotation ('"..." - Name', '"...,"
Name, role.'), the signature of an embedded post, and any verb with a subject right before a
colon that opens a quotation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from spacy.tokens import Doc, Span, Token

from pipeline.extraction.cues import (
    ATTITUDE_VERBS,
    CONVICTION_ADJECTIVES,
    CRITICISM_VERBS,
    INTENTION_VERBS,
    NAMING_VERBS,
    PHRASAL_CUES,
    REPORT_NOUNS,
    REQUEST_VERBS,
    ROLE_NOUNS,
    SPEECH_VERBS,
    is_cue_lemma,
)
from pipeline.extraction.nlp import sentence_of_token, tokens

ContentShape = Literal["clause", "naming", "intention", "question", "according", "label", "post", "none"]
SPEAKER_LABEL_WORDS = 5
ROLE_LABEL_WORDS = 12
DASHES = "\u2015\u2014\u2013"
NAME_AFTER_QUOTE = re.compile(r"[\s,]*(?:[\u2015\u2014\u2013]\s*)?")
POST_SIGNATURE = re.compile(r"[\u2014\u2013-]\s*(?P<name>[^\n()\u2014\u2013]{2,60}?)\s*\(@\w{1,30}\)")
POST_LINK = re.compile(r"\s*(?:pic\.twitter\.com/\S+|https?://\S+)\s*$")
INHERITS_SUBJECT = ("advcl", "xcomp", "conj", "pcomp", "acl", "acomp")  # acomp: "X is right to say"
QUOTE_MARKS = frozenset('"\u201c\u201d\u201e\u00ab\u00bb')
RELATIVE_PRONOUNS = frozenset({"which", "who", "that", "whom"})
COMPLEMENTISERS = frozenset({"that", "whether", "if"})
NOT_A_SUBJECT = frozenset({"SCONJ", "CCONJ", "ADP"})  # 'While' parsed as the subject of a name the parser broke
NOUN_PHRASE_POS = frozenset({"DET", "ADJ", "NOUN", "PROPN", "CCONJ", "NUM"})


@dataclass
class CueFrame:
    """One reporting event. `content` is a (start, end) character range into the body."""

    cue: Token
    cue_text: str | None  # None: attributed by position ('"...," Ana Reyes, a nurse.'), no cue word
    speaker: Token | None
    speaker_inherited: bool
    content: tuple[int, int] | None
    shape: ContentShape
    speaker_span: Span | None = None  # set when a pattern, not the parse, found the speaker's words


def names_a_person(noun: Token) -> bool:
    from pipeline.extraction.resolution import looks_like_person, name_chain

    name = name_chain(noun)
    return name is not None and looks_like_person(name)


def antecedent_of_relative(token: Token) -> Token:
    """'Russia, which is ... saying' -> 'Russia': the noun a relative pronoun stands for. A noun in
    apposition to another stands for that one when neither is a person's name: 'the court's decision
    - K vs the State - which confirmed' speaks for the decision, not for a case name."""
    if token.lower_ not in RELATIVE_PRONOUNS:
        return token
    for ancestor in token.ancestors:
        if ancestor.dep_ == "relcl":
            noun = ancestor.head
            if noun.dep_ == "appos" and noun.head.pos_ in ("NOUN", "PROPN") \
                    and not names_a_person(noun) and not names_a_person(noun.head):
                noun = noun.head
            return noun
    return token


def names_a_speaker(noun: Token) -> bool:
    """A noun that can say things: a name, a pronoun, a role, a person or organisation entity."""
    return (noun.pos_ in ("PROPN", "PRON") or noun.ent_type_ in ("PERSON", "ORG", "NORP")
            or noun.lemma_.lower() in ROLE_NOUNS)


def subject_of(verb: Token, depth: int = 0, controlled: bool = False) -> tuple[Token | None, bool]:
    """The token heading the verb's speaker, and whether it was inherited from a governing verb:
    '..., saying that' and 'responded by saying' take the governing verb's subject, 'X was forced
    to explain' its passive subject, 'prompted X to announce' its object, 'Ana Reyes, noting that' the
    name, and 'held an event urging' or 'shared a post reading' the subject of the verb whose object the thing is."""
    controller = next((child for child in verb.children if child.dep_ == "dobj"), None) if controlled else None
    if controller is not None:
        return controller, True  # 'prompted the office to announce': the object does the announcing
    for child in verb.children:
        if child.pos_ in NOT_A_SUBJECT:
            continue
        if child.dep_ in ("nsubj", "csubj") or controlled and child.dep_ == "nsubjpass":
            return antecedent_of_relative(child), depth > 0
        if child.dep_ == "agent":
            for pobj in child.children:
                if pobj.dep_ == "pobj":
                    return pobj, depth > 0
    if depth >= 3 or verb.head is verb:
        return None, False
    if verb.dep_ == "acl" and verb.head.pos_ in ("NOUN", "PROPN", "PRON"):
        noun = verb.head
        if names_a_speaker(noun) or noun.dep_ not in ("dobj", "pobj", "attr", "oprd"):
            return noun, True
        governing = noun.head.head if noun.dep_ == "pobj" else noun.head
        return subject_of(governing, depth + 1)
    if verb.dep_ in INHERITS_SUBJECT or verb.pos_ == "ADP" and verb.dep_ == "prep":
        return subject_of(verb.head, depth + 1, controlled=verb.dep_ == "xcomp")
    if verb.dep_ == "relcl":
        return verb.head, True
    return None, False


def quotation_between(first: Token, last: Token) -> bool:
    """An odd number of quotation marks between two tokens: a subject found before the cue is
    inside the quotation ('"We won," said ...'), not after one ('X, who wants a "Yes", said')."""
    marks = sum(token.text in QUOTE_MARKS for token in first.doc[min(first.i, last.i):max(first.i, last.i)])
    return marks % 2 == 1


def inverted_subject(cue: Token) -> Span | None:
    """'"...," said former politician and athlete Tom Harlow', '..., says commission': the speaker
    written right after a reporting verb that follows its quotation (when the parse found no subject):
    the words up to the first punctuation or clause, headed by the last name in them, else the last noun."""
    doc = cue.doc
    if cue.i == 0 or not (doc[cue.i - 1].text in QUOTE_MARKS or doc[cue.i - 1].text == ","):
        return None
    end = cue.i + 1
    while end < len(doc) and doc[end].pos_ in NOUN_PHRASE_POS and not doc[end].is_punct:
        end += 1
    while end > cue.i + 1 and doc[end - 1].pos_ not in ("NOUN", "PROPN"):
        end -= 1
    words = doc[cue.i + 1:end]
    if not len(words):
        return None
    names = [token for token in words if token.pos_ == "PROPN"]
    head = names[-1] if names else words[-1]
    return doc[words.start:head.i + 1]


def untagged_subject(cue: Token) -> Span | None:
    """'While Together for Change held an event urging ...': an organisation's name that the parser
    did not take for a subject (its words tagged an adverb, a preposition, an interjection), written
    right before the verb of the cue's clause when that verb has no subject. The name is the run of
    capitalised words, with 'for', 'of', 'the', 'and' between them, that opens the clause."""
    from pipeline.extraction.resolution import NAME_CONNECTORS

    clause = next((token for token in (cue, *cue.ancestors) if token.pos_ in ("VERB", "AUX")
                   and token.dep_ in ("ROOT", "ccomp")), None)  # participles and conjuncts share its subject
    if clause is None or any(child.dep_ in ("nsubj", "nsubjpass", "csubj", "expl") and child.pos_ not in NOT_A_SUBJECT
                             for child in clause.children):
        return None
    doc, sentence = cue.doc, sentence_of_token(clause)
    end = clause.i
    while end > sentence.start and doc[end - 1].head.i == clause.i and doc[end - 1].dep_ in ("aux", "neg"):
        end -= 1
    start = end
    while start > sentence.start and (doc[start - 1].is_alpha and (doc[start - 1].is_title or doc[start - 1].is_upper)
                                      or doc[start - 1].lower_ in NAME_CONNECTORS):
        start -= 1
    while start < end and (doc[start].lower_ in NAME_CONNECTORS or doc[start].dep_ in ("mark", "cc")
                           or doc[start].pos_ in ("SCONJ", "CCONJ", "DET", "PRON")):
        start += 1
    while end > start and doc[end - 1].lower_ in NAME_CONNECTORS:
        end -= 1
    opens_clause = start == sentence.start or doc[start - 1].is_punct or doc[start - 1].pos_ in ("SCONJ", "CCONJ")
    return doc[start:end] if end - start >= 2 and opens_clause else None


def name_after_quotation(cue: Token) -> Span | None:
    """'"...," Ana Reyes, a professor, noting that ...': a participle whose parse subject is inside the
    quotation speaks for the name written between the closing mark and it."""
    doc = cue.doc
    sentence = sentence_of_token(cue)
    marks = [token for token in doc[sentence.start:cue.i] if token.text in QUOTE_MARKS]
    if cue.tag_ != "VBG" or not marks:
        return None
    start = marks[-1].i + 1
    while start < cue.i and doc[start].is_punct:
        start += 1
    end = start
    while end < cue.i and doc[end].pos_ == "PROPN":
        end += 1
    return doc[start:end] if end > start else None


def token_range(first: Token, last: Token) -> tuple[int, int]:
    return first.idx, last.idx + len(last.text)


def marked_by(clause: Token, words: tuple[str, ...]) -> bool:
    return any(child.dep_ == "mark" and child.lower_ in words for child in clause.children)


def request_content(cue: Token) -> tuple[int, int] | None:
    """What a question or request puts to whom: 'asked [the minister if she would resign]', 'urged
    [citizens to keep working]', 'called on [the parties to meet]', 'called on [leaders for a
    meeting]', 'asked [that her name not be used]'. None when nobody is asked anything."""
    if cue.lemma_.lower() not in REQUEST_VERBS:
        return None
    children = list(cue.children)
    addressee = next((child for child in children if child.dep_ == "dobj"), None)
    if addressee is None:
        to = next((child for child in children if child.dep_ == "prep" and child.lower_ in ("on", "to", "of")), None)
        addressee = next((child for child in to.children if child.dep_ == "pobj"), None) if to is not None else None
    for child in children:
        if child.i < cue.i:
            continue
        asked = (child.dep_ in ("xcomp", "ccomp") and child.pos_ in ("VERB", "AUX")
                 or child.dep_ == "advcl" and marked_by(child, ("if", "whether"))
                 or child.dep_ == "prep" and child.lower_ == "for" and addressee is not None and child.i > addressee.i)
        if not asked:
            continue
        if addressee is None and (cue.lemma_.lower() not in ("ask", "request", "demand") or child.dep_ == "xcomp"):
            return None  # 'called for ...', 'tried to ask' are not put to anyone
        first = addressee.left_edge if addressee is not None and addressee.i < child.i else child.left_edge
        while first.i < child.i and (first.dep_ == "mark" and first.lower_ == "that" or first.is_punct):
            first = first.nbor()
        last = max((other.right_edge for other in children if other.i >= child.i and other.dep_ == "npadvmod"),
                   key=lambda token: token.i, default=child.right_edge)
        return token_range(first, max(last, child.right_edge, key=lambda token: token.i))
    return None


def quoted_words(phrase: Span) -> bool:
    """Quotation marks around most of a phrase (the speaker's own words), not a label inside it ('"no" voters')."""
    inside, depth = 0, 0
    for token in phrase:
        if token.text in QUOTE_MARKS:
            depth = 1 - depth
        elif depth and not token.is_punct:
            inside += 1
    words = sum(1 for token in phrase if not token.is_punct)
    return words > 0 and inside / words >= 0.5


def phrasal_word(verb: Token) -> Token | None:
    """The particle or adjective that makes a verb report ('pointed [out] that', 'made it [clear] that')."""
    lemma = verb.lemma_.lower()
    return next((child for child in verb.children if (lemma, child.lower_) in PHRASAL_CUES
                 and child.dep_ in ("prt", "ccomp", "oprd", "acomp", "xcomp")), None)


def cut_off(token: Token) -> bool:
    """The token's sentence ends the body with no closing punctuation: the page was cut mid-sentence."""
    sentence = sentence_of_token(token)
    last = sentence[-1]
    while last.is_space and last.i > sentence.start:
        last = last.nbor(-1)
    return sentence.end == len(token.doc) and not (last.is_punct and last.text in ".!?\"'\u201d\u2019")


def content_of(cue: Token) -> tuple[tuple[int, int] | None, ContentShape]:
    """The content range a cue governs, and its shape."""
    lemma = cue.lemma_.lower()
    children = list(cue.children)
    request = request_content(cue)
    if request is not None:
        return request, "question"
    phrasal = phrasal_word(cue)
    clauses = [child for child in children if child.dep_ == "ccomp" and (phrasal is None or child.i != phrasal.i)]
    if phrasal is not None and phrasal.dep_ != "prt":
        # 'made it clear [the plan would ...]': what follows the adjective, up to the end of the clauses
        # on the verb or the adjective (the parser splits them between the two)
        ends = [child.right_edge.i for child in clauses + [child for child in phrasal.children
                if child.dep_ in ("ccomp", "advcl", "dobj")] if child.i > phrasal.i]
        first = phrasal.i + 1
        while ends and first < max(ends) and (cue.doc[first].lower_ == "that" or cue.doc[first].is_punct):
            first += 1
        if ends and first <= max(ends):
            return token_range(cue.doc[first], cue.doc[max(ends)]), "clause"
    if clauses:
        # 'When X spoke, she revealed [the total came in at ...]': the complement after the cue, unless
        # the one before it is a quotation ('"...," she said')
        after = [clause for clause in clauses if clause.i > cue.i]
        quoted_before = any(token.text in QUOTE_MARKS for clause in clauses if clause.i < cue.i
                            for token in clause.subtree)
        clause = after[0] if after and not quoted_before else clauses[0]
        return clause_range(clause), "clause"
    if lemma in NAMING_VERBS:
        predicates = [child for child in children if child.dep_ in ("oprd", "xcomp")
                      or (child.dep_ == "prep" and child.lower_ == "as")]
        if predicates:
            objects = [child for child in children if child.dep_ == "dobj" and child.i < predicates[0].i]
            first = objects[0].left_edge if objects else predicates[0].left_edge
            return token_range(first, predicates[0].right_edge), "naming"
    # 'called the talk of a referendum "unacceptable"', 'blasted Clinton as a "disgrace"': the
    # object and its predicate are what was said, when quoted or after a verb of judging
    for child in children:
        if child.dep_ not in ("dobj", "attr"):
            continue
        last = child.right_edge
        for other in children:
            if other.i > last.i and (other.dep_ == "oprd" or other.lower_ in ("as", "to", "of", "for")):
                last = max(last, other.right_edge, key=lambda token: token.i)
        quoted = any(token.text in QUOTE_MARKS for token in cue.doc[child.left_edge.i:last.i + 1])
        if lemma in CRITICISM_VERBS and lemma not in SPEECH_VERBS and last.i == child.right_edge.i \
                and not quoted_words(cue.doc[child.left_edge.i:last.i + 1]):
            break  # 'condemned the vocal "no" voters': who was criticised, not what was said
        if lemma in ATTITUDE_VERBS or quoted:
            return token_range(child.left_edge, last), "naming"
    if lemma in SPEECH_VERBS and cut_off(cue):
        # 'The mayor said the cost of the new bridge and th': a body stored up to a length ends mid-clause
        # and the parser takes the clause's first words for an object
        obj = next((child for child in children if child.dep_ == "dobj" and child.i > cue.i), None)
        if obj is not None:
            return token_range(obj.left_edge, sentence_of_token(cue)[-1]), "clause"
    if lemma == "call":  # "called for a ban"
        for child in children:
            if child.dep_ == "prep" and child.lower_ == "for" and any(g.dep_ == "pobj" for g in child.children):
                pobj = next(g for g in child.children if g.dep_ == "pobj")
                return token_range(pobj.left_edge, pobj.right_edge), "intention"
    if lemma in INTENTION_VERBS:
        for child in children:
            if child.dep_ == "xcomp" and child.pos_ in ("VERB", "AUX"):
                return token_range(child.left_edge, child.right_edge), "intention"
    if cue.dep_ == "parataxis" and cue.head.i != cue.i:
        # 'X, Mr. Obama noted, Y' and 'X, he said': the clause around the cue, its longer side
        head = cue.head
        inside = {token.i for token in cue.subtree}
        words = [token for token in head.subtree if token.i not in inside and not token.is_space]
        before = [token for token in words if token.i < cue.left_edge.i]
        after = [token for token in words if token.i > cue.right_edge.i]
        side = before if len(before) >= len(after) else after
        while side and side[-1].is_punct and side[-1].text not in QUOTE_MARKS:
            side.pop()
        while side and side[0].is_punct and side[0].text not in QUOTE_MARKS:
            side.pop(0)
        if len(side) >= 3:
            return token_range(side[0], side[-1]), "clause"
    return None, "none"


def according_to_frames(doc: Doc) -> list[CueFrame]:
    """'X, according to Y.' -> content X, speaker Y."""
    frames = []
    for token in tokens(doc):
        if token.lower_ != "according":
            continue
        to = next((child for child in token.children if child.lower_ == "to"), None)
        source = next((child for child in to.children if child.dep_ == "pobj"), None) if to else None
        if source is None:
            continue
        sentence = sentence_of_token(token)
        phrase_start, phrase_end = token.left_edge.i, max(token.right_edge.i, source.right_edge.i)
        before = [t for t in sentence if t.i < phrase_start and not (t.is_punct or t.is_space)]
        after = [t for t in sentence if t.i > phrase_end and not (t.is_punct or t.is_space)]
        part = before if len(before) >= len(after) else after
        if len(part) < 3:
            continue
        frames.append(CueFrame(token, "according to", source, False, token_range(part[0], part[-1]),
                               "according"))
    return frames


def name_words(doc: Doc, start: int, limit: int) -> Span | None:
    """The run of capitalised words starting at token `start` (at most `limit`), if any."""
    end = start
    while end < len(doc) and end - start < limit and (doc[end].pos_ == "PROPN" or doc[end].is_title
                                                       or doc[end].is_upper) and doc[end].is_alpha:
        end += 1
    return doc[start:end] if end > start else None


def label_colon(doc: Doc, name: Span, limit: int) -> Token | None:
    """The colon closing a speaker label: right after the name ('Pence:'), after a role set off by a
    comma ('Anna Berg, mayor of Eastport:') or in brackets ('Karl Weiss (Green Party):'); a role
    has no verb and no quotation mark."""
    if name.end >= limit:
        return None
    first = doc[name.end]
    if first.is_punct and first.text.endswith(":"):
        return first
    if first.text not in (",", "(", "\u2013", "\u2014"):
        return None
    for token in doc[name.end + 1:min(limit, name.end + 1 + ROLE_LABEL_WORDS)]:
        if token.is_punct and token.text.endswith(":"):
            return token if token.i > name.end + 1 else None
        if token.pos_ in ("VERB", "AUX") or token.text in QUOTE_MARKS or "\n" in token.text:
            return None
    return None


def speaker_label_frames(doc: Doc, paragraphs: list[tuple[int, int]]) -> list[CueFrame]:
    """A speaker's name opening a paragraph, a colon, then what they said: a headline 'Pence:
    Gennifer Flowers Won't Be at Debate', transcript lines 'WALLACE: ...' (upper case), and in
    the body a person's name with or without a role ('Anna Berg, mayor of Eastport: "..."',
    'Karl Weiss (Green Party): ...'). A place or section name ('Kherson:') is not a speaker."""
    from pipeline.extraction.resolution import looks_like_person

    frames = []
    for number, (start, end) in enumerate(paragraphs):
        first = doc.char_span(start, end, alignment_mode="expand")
        if first is None or len(first) < 4:
            continue
        index = first.start
        while index < first.end and doc[index].is_punct and doc[index].text in QUOTE_MARKS:
            index += 1
        label = name_words(doc, index, SPEAKER_LABEL_WORDS)
        colon = label_colon(doc, label, first.end) if label is not None else None
        if colon is None:
            continue
        if number > 0 and not (all(token.is_upper for token in label) or looks_like_person(label)):
            continue  # in the body only transcript labels ("WALLACE:") and people; "Kherson:" heads a section
        words = [token for token in doc[colon.i + 1:first.end] if not token.is_punct]
        if len(words) < 3:
            continue
        content = (doc[colon.i + 1].idx, end)
        frames.append(CueFrame(colon, ":", label[-1], False, content, "label", doc[label.start:colon.i]))
    return frames


def name_after_quotation_frames(doc: Doc, text: str, quotes: list[tuple[int, int]]) -> list[CueFrame]:
    """A speaker named right after a quotation with no reporting verb: '"... our greatest shame."
    ― Sonya Herridge' (a dash), and '"...," Ana Reyes, a nurse from the north.' or '"...," Ana
    Reyes, a nurse, noting that ...' (a comma, then a person's name and no verb of theirs)."""
    from pipeline.extraction.resolution import looks_like_person

    frames = []
    for start, end in quotes:
        separator = NAME_AFTER_QUOTE.match(text, end + 1)
        if separator is None:
            continue
        dashed = any(char in separator.group() for char in DASHES)
        if not dashed and not (text[start:end].rstrip().endswith(",") or "," in separator.group()):
            continue
        after = doc.char_span(separator.end(), min(len(text), separator.end() + 1), alignment_mode="expand")
        name = name_words(doc, after.start, SPEAKER_LABEL_WORDS) if after is not None and len(after) else None
        if name is None:
            continue
        if not dashed:
            following = doc[name.end] if name.end < len(doc) else None
            if not looks_like_person(name) or (following is not None and following.text not in (",", ".", ";")):
                continue  # '"...," Anna Berg said' has a verb of its own
        mark = doc.char_span(end, separator.end(), alignment_mode="expand")
        dash = next((token for token in mark if token.text in DASHES), None) if mark else None
        cue = dash or name[0]
        frames.append(CueFrame(cue, dash.text if dash else None, name[-1], False, (start, end), "clause", name))
    return frames


def post_signature_frames(doc: Doc, text: str, paragraphs: list[tuple[int, int]]) -> list[CueFrame]:
    """An embedded social-media post: its text, a link, then '— Name (@handle) Month D, YYYY'."""
    frames = []
    for start, end in paragraphs:
        signature = POST_SIGNATURE.search(text, start, end)
        if signature is None:
            continue
        body_end = signature.start()
        link = POST_LINK.search(text, start, body_end)
        body_end = link.start() if link is not None else body_end
        name = doc.char_span(signature.start("name"), signature.end("name"), alignment_mode="expand")
        while name is not None and len(name) and not name[-1].is_alpha:  # a flag or emoji after the name
            name = name[:-1]
        words = text[start:body_end].split()
        if name is None or not len(name) or len(words) < 2:
            continue
        dash = doc.char_span(signature.start(), signature.start() + 1, alignment_mode="expand")
        cue = dash[0] if dash is not None and len(dash) else name[0]
        frames.append(CueFrame(cue, "posted", name[-1], False, (start, body_end), "post", name))
    return frames


def clause_range(clause: Token) -> tuple[int, int]:
    """A complement clause without its complementiser ('said [that] ...'); a conjunction that opens a
    clause inside it stays ('said that [if the bill passes, ...]', and 'said [since the law passed, ...]'
    when the parser took 'since' for the complement's own): the condition or reason is part of what was said."""
    first = clause.left_edge
    while first.i < clause.i and (first.is_punct or first.is_space or first.dep_ == "mark" and (
            first.lower_ == "that" or first.head.i == clause.i and first.lower_ in COMPLEMENTISERS)):
        first = first.nbor()
    return token_range(first, clause.right_edge)


def noun_and_adjective_frames(doc: Doc) -> list[CueFrame]:
    """'his claim that ...', 'warnings from his attorney that ...', 'said in a statement that ...',
    'X is convinced that ...'."""
    frames = []
    for token in tokens(doc):
        if token.pos_ not in ("NOUN", "ADJ"):
            continue
        lemma = token.lemma_.lower()
        if lemma not in REPORT_NOUNS and lemma not in CONVICTION_ADJECTIVES:
            continue
        clause = next((child for child in token.children if child.dep_ in ("acl", "ccomp")
                       and any(grand.dep_ == "mark" and grand.lower_ == "that" for grand in child.children)), None)
        if clause is None:
            continue
        if token.pos_ == "NOUN" and lemma in REPORT_NOUNS:
            speaker = next((child for child in token.children if child.dep_ == "poss"), None)
            if speaker is None:
                by = next((child for child in token.children
                           if child.dep_ == "prep" and child.lower_ in ("from", "by")), None)
                speaker = next((child for child in by.children if child.dep_ == "pobj"), None) if by else None
            inherited = False
            if speaker is None and token.dep_ == "pobj" and token.head.head.pos_ == "VERB":
                # 'said in a statement that ...', 'wrote in a letter that ...': the verb's subject
                speaker, inherited = subject_of(token.head.head)
            frames.append(CueFrame(token, token.text, speaker, inherited, clause_range(clause), "clause"))
        elif token.pos_ == "ADJ" and lemma in CONVICTION_ADJECTIVES:
            speaker, inherited = subject_of(token.head) if token.dep_ in ("acomp", "oprd") else (None, False)
            frames.append(CueFrame(token, token.text, speaker, inherited, clause_range(clause), "clause"))
    return frames


def find_cue_frames(doc: Doc, extra_cues: frozenset[str] = frozenset()) -> list[CueFrame]:
    """Every reporting verb with its speaker and content, in document order."""
    frames = []
    for token in tokens(doc):
        attitude = token.pos_ == "VERB" and (token.lemma_.lower() in ATTITUDE_VERBS | INTENTION_VERBS | REQUEST_VERBS
                                             or phrasal_word(token) is not None)
        if token.pos_ not in ("VERB", "PROPN", "NOUN") or not (is_cue_lemma(token.lemma_, extra_cues) or attitude):
            continue
        if token.pos_ != "VERB" and not (token.dep_ == "ROOT" and token.is_title):
            continue  # headline-case "Says" is sometimes tagged a noun
        content, shape = content_of(token)
        if attitude and shape == "none" and not is_cue_lemma(token.lemma_, extra_cues):
            continue
        speaker, inherited = subject_of(token)
        speaker_span = None
        if speaker is None or quotation_between(speaker, token):
            speaker_span = inverted_subject(token) or name_after_quotation(token) or untagged_subject(token)
            speaker, inherited = (speaker_span[-1], False) if speaker_span is not None else (None, False)
        cue_text = token.text
        particle = phrasal_word(token) or next((child for child in token.children if child.dep_ == "prt"), None)
        if particle is not None:
            cue_text = f"{token.text} {particle.text}"
        frames.append(CueFrame(token, cue_text, speaker, inherited, content, shape, speaker_span))
    frames.extend(according_to_frames(doc))
    frames.extend(noun_and_adjective_frames(doc))
    frames.sort(key=lambda frame: frame.cue.i)
    return frames


def colon_introduced_frame(doc: Doc, text: str, quote_start: int) -> CueFrame | None:
    """'... then leaned in and boomed: "Let's defeat her."': the verb with a subject right
    before a colon that opens the quotation speaks it, whatever the verb."""
    before = text[:quote_start].rstrip(''.join(QUOTE_MARKS) + " \n")
    if not before.endswith(":"):
        return None
    colon = doc.char_span(len(before) - 1, len(before), alignment_mode="expand")
    if colon is None or not len(colon):
        return None
    sentence = sentence_of_token(colon[0])
    for token in reversed(doc[sentence.start:colon[0].i]):
        if token.pos_ == "VERB" and token.dep_ not in ("amod", "compound"):  # not "the following statement:"
            speaker, inherited = subject_of(token)
            if speaker is not None:
                return CueFrame(token, token.text, speaker, inherited, None, "none")
            return None
    return None
