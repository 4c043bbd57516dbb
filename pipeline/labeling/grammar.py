"""A general stance grammar over spaCy's parse: which side of the ballot the speaker says they are on.

It reads the quote inside its sentence (so the reporting verb is in the parse: "X called for a No
vote", "X backed the draft") and finds, for any referendum:
- stance predicates aimed at the proposal or at a side: verbs ("we back the proposal", "urged voters to
  reject it"), nouns ("our support for the plan", "opposition to the bill") and prepositions ("in
  favour of repeal", "against this proposal", "for the approval");
- votes for a side: "vote No", "a Yes vote", "voting in favour", "vote to repeal", with the ballot's
  side names from the target (`target.sides`, never hard-coded);
- evaluations of what a side's win would bring: "a No vote would be a disaster", "if Leave wins, it
  will be a great day" (the side times the sign of the evaluative words).
A negated support predicate opposes ("will not back it"); negated opposition, a hedge ("may back"),
an if-clause and a question say nothing; a speaker who says they are undecided is neutral. Stances of
third parties (poll figures, "voters rejected it") are not the speaker's and are skipped; "people
should vote No" and "she hopes people will vote yes" are the speaker's wish and count.

The words are general (conf/labeling/weak.yaml `stance_words`); a side word that is also a function
word (a "No" tagged determiner, interjection or adverb) counts only next to a vote or a camp noun.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spacy.tokens import Doc, Token

from pipeline.config import StanceWords, TargetConfig
from pipeline.records import Label, Quote

FIRST_PERSON = frozenset({"i", "we", "me", "us", "my", "our"})
THIRD_PERSON = frozenset({"he", "she", "they", "it", "his", "her", "their", "its", "him", "them"})
NO_ONE = frozenset({"nobody", "none", "noone"})
DEMONSTRATIVES = frozenset({"it", "this", "that"})
CONDITION_MARKS = frozenset({"if", "unless", "whether"})
FUNCTION_WORD_TAGS = frozenset({"DET", "INTJ", "ADV", "PART", "PRON", "AUX", "CCONJ", "SCONJ"})
SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj", "expl"})
INHERITS_SUBJECT = frozenset({"xcomp", "conj", "acl", "advcl", "pcomp", "ccomp"})


def inflections(word: str) -> frozenset[str]:
    """A lemma's regular forms (back, backs, backed, backing; oppose, opposed, opposing), so a wrong
    lemma from the small model ('hopes' -> 'hop') still matches."""
    word = word.lower()
    stem = word[:-1] if word.endswith("e") else word
    forms = {word, word + "s", word + "es", word + "d", word + "ed", stem + "ed", stem + "ing", word + "ing"}
    if word.endswith("y"):
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    return frozenset(forms)


def word_set(words: Iterable[str]) -> frozenset[str]:
    return frozenset(form for word in words for form in inflections(word))


@dataclass(frozen=True)
class Vocabulary:
    """The grammar's word sets: the general stance words in all their forms, and the target's sides
    (lower-cased word sequences -> +1 for the support side, -1 for the oppose side)."""

    support_verbs: frozenset[str]
    oppose_verbs: frozenset[str]
    wish_verbs: frozenset[str]
    support_nouns: frozenset[str]
    oppose_nouns: frozenset[str]
    proposal_nouns: frozenset[str]
    camp_nouns: frozenset[str]
    hedges: frozenset[str]
    undecided: frozenset[str]
    positive: frozenset[str]
    negative: frozenset[str]
    sides: tuple[tuple[tuple[str, ...], int], ...]
    topic_words: frozenset[str]

    @classmethod
    def build(cls, words: StanceWords, target: TargetConfig) -> Vocabulary:
        named = [(tuple(name.lower().split()), +1) for name in target.sides.support]
        named += [(tuple(name.lower().split()), -1) for name in target.sides.oppose]
        topic = frozenset(word for phrase in (*target.terms, *target.subject) for word in phrase.lower().split()
                          if len(word) > 3)
        return cls(word_set(words.support_verbs), word_set(words.oppose_verbs), word_set(words.wish_verbs),
                   word_set(words.support_nouns), word_set(words.oppose_nouns), word_set(words.proposal_nouns),
                   word_set(words.camp_nouns), frozenset(w.lower() for w in words.hedges),
                   word_set(words.undecided), word_set(words.positive), word_set(words.negative),
                   tuple(sorted(named, key=lambda item: -len(item[0]))), topic)


def matches(token: Token, words: frozenset[str]) -> bool:
    return token.lower_ in words or token.lemma_.lower() in words


@dataclass(frozen=True)
class Evidence:
    """One stance the grammar read: +1 support / -1 oppose / 0 undecided, the rule and its words."""

    polarity: int
    rule: str
    words: str


class StanceReader:
    """Reads one parsed sentence: the quote is the tokens inside [start, end); `cue` is the reporting
    verb (its subject is the speaker); `direct` tells whether 'he/she' can be the speaker."""

    def __init__(self, vocabulary: Vocabulary, doc: Doc, start: int, end: int, cue: Token | None, direct: bool,
                 speaker_words: frozenset[str]):
        self.v, self.doc, self.cue, self.direct, self.speaker_words = vocabulary, doc, cue, direct, speaker_words
        self.quote = [token for token in doc if start <= token.idx < end]
        self._side_spans, self._named_options = self._find_sides()

    # --- what a phrase is aimed at ---------------------------------------------------------------
    def _find_sides(self) -> tuple[dict[int, int], frozenset[int]]:
        """Token index -> side polarity, for every mention of a side name (longest names first); and the
        tokens of several-word names ('I Approve'), which name an option and are never a predicate."""
        found: dict[int, int] = {}
        several: set[int] = set()
        lower = [token.lower_ for token in self.doc]
        lemmas = [token.lemma_.lower() for token in self.doc]
        for name, polarity in self.v.sides:
            for i in range(len(self.doc) - len(name) + 1):
                if any(j in found for j in range(i, i + len(name))):
                    continue
                if all(lower[i + k] == part or lemmas[i + k] == part or lower[i + k] in inflections(part)
                       for k, part in enumerate(name)) and self._side_in_context(self.doc[i + len(name) - 1]):
                    found.update({j: polarity for j in range(i, i + len(name))})
                    several.update(range(i, i + len(name)) if len(name) > 1 else ())
        return found, frozenset(several)

    def _side_in_context(self, token: Token) -> bool:
        """A side word that is also a function word ('No', 'Yes') is a side only beside a vote or camp noun,
        as a vote verb's complement, or after 'for' / 'pro-'."""
        if token.pos_ not in FUNCTION_WORD_TAGS:
            return True
        head = token.head
        near = [t for t in (head, *token.children) if t.i != token.i]
        if any(self.is_vote(t) or matches(t, self.v.camp_nouns) for t in near):
            return True
        previous = self.doc[token.i - 1].lower_ if token.i > 0 else ""
        return previous in {"for", "pro", "-"} or (token.i + 1 < len(self.doc) and (
            self.is_vote(self.doc[token.i + 1]) or matches(self.doc[token.i + 1], self.v.camp_nouns)))

    def is_vote(self, token: Token) -> bool:
        return token.lemma_.lower() == "vote" or token.lower_ in {"vote", "votes", "voted", "voting", "ballot"}

    def side(self, token: Token) -> int:
        return self._side_spans.get(token.i, 0)

    def aimed_at(self, token: Token | None, depth: int = 0) -> int:
        """+1 if the phrase headed by `token` names the proposal or the support side, -1 the oppose
        side, 0 neither ('a No vote' -1, 'the government's plans' +1, 'the Yes campaign' +1)."""
        if token is None or depth > 3:
            return 0
        if self.side(token):
            return self.side(token)
        for child in token.children:
            if (child.dep_ in {"compound", "amod", "det", "nmod", "poss", "nummod", "intj", "advmod"}
                    and self.side(child)):
                return self.side(child)
        pro_anti = self._pro_anti(token)
        if pro_anti:
            return pro_anti
        if matches(token, self.v.proposal_nouns) or (token.lower_ in DEMONSTRATIVES and token.dep_ in {"dobj", "pobj"}):
            return +1
        if any(child.dep_ == "compound" and matches(child, self.v.proposal_nouns) for child in token.children):
            return +1       # 'the draft law', 'the reform plan'
        for child in token.children:
            if child.dep_ == "prep" and child.lower_ in {"for", "of", "to"}:
                aim = self.aimed_at(self.object_of(child), depth + 1)
                if aim:
                    return aim
            if child.dep_ == "prep" and child.lower_ == "against":
                aim = self.aimed_at(self.object_of(child), depth + 1)
                if aim:
                    return -aim
            if child.dep_ in {"acl", "relcl"} and self.side(child):
                return self.side(child)
        return 0

    def _pro_anti(self, token: Token) -> int:
        """'pro-repeal' / 'anti-Remain' in a noun phrase (spaCy splits them into 'pro', '-', side)."""
        for child in token.subtree:
            if child.i + 2 < len(self.doc) and child.lower_ in {"pro", "anti"} and self.doc[child.i + 1].text == "-":
                polarity = self.side(self.doc[child.i + 2])
                if polarity:
                    return polarity if child.lower_ == "pro" else -polarity
        return 0

    @staticmethod
    def object_of(token: Token) -> Token | None:
        return next((child for child in token.children if child.dep_ in {"dobj", "pobj", "attr", "oprd", "pcomp"}),
                    None)

    # --- whose stance, and how firm ---------------------------------------------------------------
    def subject_of(self, token: Token) -> Token | None:
        return next((child for child in token.children if child.dep_ in SUBJECTS), None)

    def is_speaker(self, subject: Token) -> bool:
        word = subject.lower_
        if word in FIRST_PERSON:
            return True
        if word in THIRD_PERSON and not self.direct:
            return True
        return any(part.lower_ in self.speaker_words for part in subject.subtree)

    def deontic(self, token: Token) -> bool:
        """'should vote', 'must reject', 'need to back': an exhortation, whoever the subject is."""
        return (any(child.dep_ == "aux" and child.lower_ in {"should", "must", "ought", "shall"}
                    for child in token.children)
                or (token.dep_ == "xcomp" and token.head.lemma_ in {"need", "have"}))

    def licensed(self, token: Token, depth: int = 0) -> bool:
        """Whether a predicate states the speaker's own stance or wish (not a poll's or a third party's)."""
        if token == self.cue or depth > 4:
            return True
        subject = self.subject_of(token)
        if subject is not None:
            if subject.lower_ in NO_ONE or subject.lower_ == "no":
                return True
            if self.is_speaker(subject) or self.deontic(token):
                return True
            return self._wished(token, depth)
        if token.dep_ in INHERITS_SUBJECT | {"prep", "pobj"} and token.head != token:
            return self.licensed(token.head, depth + 1)
        if token.pos_ in {"NOUN", "PROPN"}:
            # a nominal ('my decision to vote Yes', 'the intention to vote for X'): the speaker's if theirs
            return any(child.dep_ == "poss" and self.is_speaker(child) for child in token.children)
        return True

    def _wished(self, token: Token, depth: int) -> bool:
        """Under a wish verb of the speaker ('she hopes people will vote yes', 'urged voters to reject')."""
        head = token.head
        while head != head.head and token.dep_ in INHERITS_SUBJECT | {"dobj"}:
            if matches(head, self.v.wish_verbs):
                return self.licensed(head, depth + 1)
            token, head = head, head.head
        return matches(head, self.v.wish_verbs) and head != token and self.licensed(head, depth + 1)

    def negated(self, token: Token) -> bool:
        chain = [token]
        if token.dep_ in {"xcomp", "ccomp"} and matches(token.head, self.v.wish_verbs):
            chain.append(token.head)
        for item in chain:
            if any(child.dep_ == "neg" or child.lower_ in {"never", "not", "n't"} for child in item.children):
                return True
            subject = self.subject_of(item)
            if subject is not None and (subject.lower_ in NO_ONE or any(
                    c.lower_ == "no" and c.dep_ == "det" and not self.side(c) for c in subject.children)):
                return True
        return False

    def hedged(self, token: Token) -> bool:
        return any(child.lower_ in self.v.hedges and child.dep_ in {"aux", "advmod"} for child in token.children)

    def conditional(self, token: Token) -> bool:
        """Inside an if / unless / whether clause, or a question."""
        node = token
        while True:
            if any(child.dep_ == "mark" and child.lower_ in CONDITION_MARKS for child in node.children):
                return True
            if node.head == node:
                break
            node = node.head
        return token.sent.text.rstrip().rstrip("\"'\u201d\u2019").endswith("?")

    # --- the rules ------------------------------------------------------------------------------------
    def predicate_polarity(self, token: Token) -> tuple[int, str]:
        """The stance a predicate takes toward what it is aimed at, before negation (0: none)."""
        ballot_verb = token.pos_ in {"VERB", "AUX"} and (self.is_vote(token) or matches(token, self.v.wish_verbs))
        if ballot_verb:
            for child in token.children:
                if self.side(child) and self.is_vote(token):
                    return self.side(child), "vote side"
                if child.dep_ == "prep" and child.lower_ in {"for", "against"}:
                    aim = self.aimed_at(self.object_of(child))
                    if aim:
                        return (aim if child.lower_ == "for" else -aim), f"{token.lemma_} {child.lower_}"
                if child.dep_ == "prep" and child.lower_ == "in":
                    favour = self.object_of(child)
                    if favour is not None and favour.lower_ in {"favour", "favor"}:
                        of = next((c for c in favour.children if c.lower_ == "of"), None)
                        aim = self.aimed_at(self.object_of(of)) if of is not None else 1
                        return aim, "vote in favour"
                if child.dep_ == "xcomp" and self.is_vote(token):
                    polarity, rule = self.predicate_polarity(child)
                    if polarity:
                        return polarity, f"vote to: {rule}"
            if self.is_vote(token):
                return 0, ""
        if (token.pos_ in {"VERB", "AUX"} and self.side(token) and token.i not in self._named_options
                and self._ballot_object(token)):
            return self.side(token), "side verb"
        for words, sign, rule in ((self.v.support_verbs, +1, "support verb"), (self.v.oppose_verbs, -1, "oppose verb")):
            if token.pos_ in {"VERB", "AUX"} and matches(token, words):
                aim = (self.aimed_at(self.object_of(token)) or self._aim_through_prep(token)
                       or next((self.side(child) for child in token.children if self.side(child)), 0))
                if not aim and token.dep_ == "xcomp" and self.is_vote(token.head):
                    aim = 1     # 'vote to reject': the object is the ballot's proposal
                if not aim and token == self.cue:
                    aim = self._aim_in_quote()
                return sign * aim, rule
        for words, sign, rule in ((self.v.support_nouns, +1, "support noun"), (self.v.oppose_nouns, -1, "oppose noun")):
            if token.pos_ in {"NOUN", "PROPN"} and matches(token, words) and not self.side(token):
                aim = self._aim_through_prep(token)
                return sign * aim, rule
        if token.lower_ in {"favour", "favor"} and token.head.lower_ == "in":
            of = next((c for c in token.children if c.lower_ == "of"), None)
            return (self.aimed_at(self.object_of(of)) if of is not None else 0), "in favour of"
        if token.dep_ == "prep" and token.lower_ in {"against", "for"} and token.head.lemma_ == "be":
            aim = self.aimed_at(self.object_of(token))
            return (aim if token.lower_ == "for" else -aim), f"be {token.lower_}"
        return 0, ""

    def _ballot_object(self, token: Token) -> bool:
        """A side used as a verb ('we will reject it', 'repeal the amendment') takes the ballot's question as
        its object, or none; 'we remain hopeful' or 'reject the claims' are not votes."""
        complements = [child for child in token.children if child.dep_ in {"dobj", "attr", "acomp", "oprd"}]
        return all(self.aimed_at(child) or any(t.lower_ in self.v.topic_words for t in child.subtree)
                   for child in complements)

    def _aim_through_prep(self, token: Token) -> int:
        for child in token.children:
            if child.dep_ == "prep" and child.lower_ in {"for", "of", "to", "behind"}:
                aim = self.aimed_at(self.object_of(child))
                if aim:
                    return aim
        return 0

    def _aim_in_quote(self) -> int:
        """A reporting verb's object is the quote itself ('X backed the draft'): what it names."""
        heads = [token for token in self.quote if token.head not in self.quote or token.head == token]
        return next((aim for aim in (self.aimed_at(head) for head in heads) if aim), 0)

    def wish_frame(self) -> list[Evidence]:
        """The cue is a call ('called for', 'urged'): a side named in the quote is what the speaker wants."""
        if self.cue is None or not matches(self.cue, self.v.wish_verbs) or self.conditional(self.cue):
            return []
        aims = [self.side(token) for token in self.quote if self.side(token)]
        if not aims or len(set(aims)) > 1:
            return []
        sign = -1 if self.negated(self.cue) else 1
        return [Evidence(sign * aims[0], "wish frame", f"{self.cue.text} ... {self.quote[0].sent.text[:60]}")]

    def evaluations(self) -> list[Evidence]:
        """A side (or voting for it) as the subject of an evaluated clause: 'a No vote would be a disaster'."""
        found = []
        for token in self.quote:
            if token.dep_ not in {"nsubj", "nsubjpass", "csubj"}:
                continue
            aim = self.side(token) or next((self.side(c) for c in token.subtree if self.side(c)), 0)
            if not aim or (token.dep_ == "csubj" and not self.is_vote(token)):
                continue
            clause = token.head
            if any(c.dep_ == "mark" and c.lower_ in {"if", "when", "once"} for c in clause.children):
                clause = clause.head
            if self.negated(clause):
                continue
            excluded = {t.i for t in token.subtree}
            tone = sum(self._tone(t) for t in clause.subtree if t.i not in excluded)
            if tone:
                found.append(Evidence(aim * (1 if tone > 0 else -1), "evaluation", token.sent.text[:80]))
        return found

    def _tone(self, token: Token) -> int:
        tone = 1 if matches(token, self.v.positive) else -1 if matches(token, self.v.negative) else 0
        if tone and (any(c.dep_ == "neg" or (c.dep_ == "det" and c.lower_ == "no" and not self.side(c))
                         for c in token.children)
                     or (token.head.dep_ == "prep" and token.head.lower_ == "without")
                     or (token.dep_ == "pobj" and token.head.lower_ == "without")):
            tone = -tone
        return tone

    def undecided(self) -> list[Evidence]:
        """'I am undecided', 'we have not decided how to vote': the speaker says they take no side."""
        for token in self.quote:
            undecided = matches(token, self.v.undecided) or (token.lemma_.lower() == "decide" and self.negated(token))
            clause = token.head if token.dep_ == "acomp" else token
            subject = self.subject_of(clause)
            if undecided and subject is not None and self.is_speaker(subject):
                return [Evidence(0, "undecided", token.sent.text[:60])]
        return []

    def read(self) -> list[Evidence]:
        found = []
        candidates = [*self.quote, *([self.cue] if self.cue is not None and self.cue not in self.quote else [])]
        for token in candidates:
            polarity, rule = self.predicate_polarity(token)
            if not polarity or not self.licensed(token) or self.hedged(token) or self.conditional(token):
                continue
            if self.negated(token):
                if polarity < 0:
                    continue            # negated criticism takes no side (docs/annotation.md)
                polarity, rule = -polarity, f"not {rule}"
            found.append(Evidence(polarity, rule, token.sent.text[:80]))
        found += self.evaluations()
        return (found or self.wish_frame()) + self.undecided()


def quote_span(quote: Quote) -> tuple[int, int]:
    start = quote.sentence.find(quote.text)
    return (start, start + len(quote.text)) if start >= 0 else (0, len(quote.sentence))


def cue_token(doc: Doc, quote: Quote, start: int, end: int) -> Token | None:
    """The reporting verb: the token spelled like the quote's cue nearest to the quote, outside it."""
    if not quote.cue:
        return None
    cue = quote.cue.lower()
    outside = [token for token in doc if token.lower_ == cue and not start <= token.idx < end]
    return min(outside, key=lambda token: min(abs(token.idx - start), abs(token.idx - end)), default=None)


def speaker_words(quote: Quote) -> frozenset[str]:
    names = " ".join(part for part in (quote.speaker, quote.speaker_mention) if part)
    return frozenset(word.lower() for word in names.split() if len(word) > 2)


def read_stance(doc: Doc, quote: Quote, vocabulary: Vocabulary) -> list[Evidence]:
    """Every stance the grammar reads in a quote, given the parse of its sentence."""
    start, end = quote_span(quote)
    reader = StanceReader(vocabulary, doc, start, end, cue_token(doc, quote, start, end), quote.kind == "direct",
                          speaker_words(quote))
    return reader.read()


def decide(evidence: Sequence[Evidence]) -> Label | None:
    """Support or oppose by the sum of polarities; neutral if the only thing read is indecision."""
    total = sum(item.polarity for item in evidence)
    if total:
        return "support" if total > 0 else "oppose"
    if evidence and all(item.rule == "undecided" for item in evidence):
        return "neutral"
    return None


@functools.lru_cache(maxsize=20000)
def _parse(model: str, sentence: str) -> Doc:
    from pipeline.extraction import load_nlp

    return load_nlp(model)(sentence)


def parse_sentences(model: str, sentences: Sequence[str]) -> list[Doc]:
    """The parse of each sentence, cached across calls (the bench labels the same quotes many times)."""
    return [_parse(model, sentence) for sentence in sentences]
