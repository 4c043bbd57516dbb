"""Labeling functions: small, named voters that say support / oppose / neutral about a quote, or abstain.

Each is built from the target config (what a person knows about the question) and the labeling
config (general cues), so nothing here is wired to one referendum. They are deliberately noisy and
overlapping; the label model (label_model.py) learns how far to trust each.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.config import Actor, Affiliation, LabelingConfig, TargetConfig
from pipeline.labeling.cues import find_cues, mentions, phrase_tokens, tokens, word_matches
from pipeline.records import LABELS, Label, Quote

Vote = Label | None


@dataclass(frozen=True)
class LabelingFunction:
    """A named voter; `vote_all` sees every quote at once so embedding functions can batch."""

    name: str
    vote_all: Callable[[Sequence[Quote]], list[Vote]]

    def vote(self, quote: Quote) -> Vote:
        return self.vote_all([quote])[0]


def per_quote(name: str, vote: Callable[[Quote], Vote]) -> LabelingFunction:
    return LabelingFunction(name, lambda quotes: [vote(quote) for quote in quotes])


def _polarity(text: str, target: TargetConfig, cfg: LabelingConfig) -> Vote:
    """Support or oppose from the cues in `text`: a negated support cue counts as opposition."""
    text_tokens = tokens(text)
    support = find_cues(text_tokens, [*cfg.lexicon.support, *target.lexicon.support],
                        cfg.negators, cfg.negation_scope)
    oppose = find_cues(text_tokens, [*cfg.lexicon.oppose, *target.lexicon.oppose],
                       cfg.negators, cfg.negation_scope)
    for_it = sum(not match.negated for match in support)
    against = sum(match.negated for match in support) + sum(not match.negated for match in oppose)
    if for_it > against:
        return "support"
    if against > for_it:
        return "oppose"
    return None


def cue_support(target: TargetConfig, cfg: LabelingConfig) -> LabelingFunction:
    """Support cues in the quote; one under negation ("will not recognize") votes oppose."""
    phrases = [*cfg.lexicon.support, *target.lexicon.support]

    def vote(quote: Quote) -> Vote:
        found = find_cues(tokens(quote.text), phrases, cfg.negators, cfg.negation_scope)
        affirmed = sum(not match.negated for match in found)
        negated = len(found) - affirmed
        if affirmed > negated:
            return "support"
        return "oppose" if negated > affirmed else None

    return per_quote("cue_support", vote)


def cue_oppose(target: TargetConfig, cfg: LabelingConfig) -> LabelingFunction:
    """Oppose cues in the quote; a negated one ("not illegal") abstains rather than guess."""
    phrases = [*cfg.lexicon.oppose, *target.lexicon.oppose]

    def vote(quote: Quote) -> Vote:
        found = find_cues(tokens(quote.text), phrases, cfg.negators, cfg.negation_scope)
        return "oppose" if any(not match.negated for match in found) else None

    return per_quote("cue_oppose", vote)


def cue_procedure(target: TargetConfig, cfg: LabelingConfig) -> LabelingFunction:
    """Talk of procedure or timing with no support or oppose cue takes no side."""
    phrases = [*cfg.lexicon.neutral, *target.lexicon.neutral]

    def vote(quote: Quote) -> Vote:
        if not mentions(quote.text, phrases):
            return None
        return "neutral" if _polarity(quote.text, target, cfg) is None else None

    return per_quote("cue_procedure", vote)


_CALLED_FRAME = re.compile(r"\b(called|calling|calls|deemed|branded|labell?ed|described\s+\S+\s+as)\b"
                           r"(\W+\w+){0,6}\W*$", re.IGNORECASE)
_DENOUNCE_FRAME = re.compile(r"\b(denounc|condemn|dismiss|reject|decr[iy]|slamm?)\w*\b[^.;]*$", re.IGNORECASE)
_PRAISE_FRAME = re.compile(r"\b(prais|welcom|hail|applaud|endors)\w*\b[^.;]*$", re.IGNORECASE)
_REFUSAL_FRAME = re.compile(r"\b(refus|declin|fail)\w*\s+(to\s+)?$", re.IGNORECASE)
_NOT_RECOGNIZE_FRAME = re.compile(r"\b(will|would|shall|can|could|do|does|did)\s+(not|never)\s+(\w+\s+)?recogni[sz]",
                                  re.IGNORECASE)


def _lead_in(quote: Quote, chars: int) -> str:
    """The reporter's words just before the quote in its sentence ("a move Tbilisi called ")."""
    position = quote.sentence.find(quote.text)
    if position < 0:
        position = quote.sentence.lower().find(quote.text.lower())
    return quote.sentence[max(0, position - chars):position] if position >= 0 else ""


def reporting_frame(target: TargetConfig, cfg: LabelingConfig) -> LabelingFunction:
    """How the reporter frames the quote: 'called it "illegal"', 'denounced', 'praised',
    'would not recognize', 'refused to recognize'. Reads only the lead-in, so a neighbour's frame
    is not borrowed. A refusal ('refused to', 'declined to') turns what the quote endorses into
    opposition, and abstains on what it criticises, as negation does in cue_support / cue_oppose."""

    def vote(quote: Quote) -> Vote:
        lead_in = _lead_in(quote, cfg.frame_window_chars)
        plain = lead_in.replace("\u201c", '"').replace("\u201d", '"')
        if _NOT_RECOGNIZE_FRAME.search(f"{plain} {quote.text}"):
            return "oppose"
        if _REFUSAL_FRAME.search(plain):
            return "oppose" if _polarity(quote.text, target, cfg) == "support" else None
        if _CALLED_FRAME.search(plain.rstrip('"\' ')):
            return _polarity(quote.text, target, cfg)
        if _DENOUNCE_FRAME.search(plain):
            return "oppose"
        if _PRAISE_FRAME.search(plain):
            return "support"
        return None

    return per_quote("reporting_frame", vote)


def stance_grammar(target: TargetConfig, cfg: LabelingConfig) -> LabelingFunction:
    """What the speaker says they are for or against, read from the parse of the quote's sentence
    (grammar.py): stance verbs and nouns aimed at the proposal, votes for the ballot's sides
    (`target.sides`), evaluations of what a side's win would bring; negation, hedges, conditions."""
    from pipeline.labeling.grammar import Vocabulary, decide, parse_sentences, read_stance

    vocabulary = Vocabulary.build(cfg.stance_words, target)

    def vote_all(quotes: Sequence[Quote]) -> list[Vote]:
        docs = parse_sentences(cfg.spacy_model, [quote.sentence for quote in quotes])
        return [decide(read_stance(doc, quote, vocabulary)) for doc, quote in zip(docs, quotes)]

    return LabelingFunction("stance_grammar", vote_all)


def target_relevance(target: TargetConfig, cfg: LabelingConfig) -> LabelingFunction:
    """A quote about another question (Abkhazia's own status, another war) takes no side on this one."""

    def vote(quote: Quote) -> Vote:
        if mentions(quote.text, target.other_questions) and not mentions(quote.text, target.subject):
            return "neutral"
        if (mentions(quote.sentence, target.other_questions)
                and not mentions(quote.sentence, target.subject) and not mentions(quote.text, target.subject)):
            return "neutral"
        return None

    return per_quote("target_relevance", vote)


def _same_name(name: str, actor: Actor) -> bool:
    wanted = name.casefold().strip()
    return any(wanted == candidate.casefold() for candidate in (actor.name, *actor.aliases))


def find_actor(target: TargetConfig, speaker: str | None) -> Actor | None:
    """The configured actor this speaker is, by canonical name or alias."""
    if not speaker:
        return None
    return next((actor for actor in target.actors if _same_name(speaker, actor)), None)


def speaker_prior(target: TargetConfig, cfg: LabelingConfig) -> LabelingFunction:
    """The speaker's known stance, from the target's list of actors."""

    def vote(quote: Quote) -> Vote:
        actor = find_actor(target, quote.speaker)
        return actor.stance if actor else None

    return per_quote("speaker_prior", vote)


def description(speaker: str | None, *descriptions: str | None) -> str:
    """Who the article says a speaker is, as one string: name, mention, role ("spokeswoman for the Yes campaign")."""
    return " ; ".join(part for part in (speaker, *descriptions) if part)


def speaker_affiliations(target: TargetConfig, quote: Quote) -> list[Affiliation]:
    """The camps a quote's speaker belongs to (see `camps_of`)."""
    return camps_of(target, quote.speaker, quote.speaker_mention, quote.speaker_role)


def camps_of(target: TargetConfig, speaker: str | None, *descriptions: str | None) -> list[Affiliation]:
    """The camps a speaker belongs to: the actor's own, else those named in the speaker's name and
    descriptions (mention, role)."""
    by_name = {affiliation.name: affiliation for affiliation in target.affiliations}
    actor = find_actor(target, speaker)
    if actor and actor.affiliation:
        return [by_name[actor.affiliation]]
    described = description(speaker, *descriptions)
    return [affiliation for affiliation in target.affiliations
            if mentions(described, [affiliation.name, *affiliation.aliases])]


def side_camps(described: str, target: TargetConfig, camp_nouns: Sequence[str]) -> set[Label]:
    """The sides a description places the speaker in by the ballot's side names: a side beside a camp
    noun ("the No campaign", "approval camp spokesman"), after "for" ("Together for Yes") or in
    "pro-"/"anti-" ("pro-repeal group" -> for repeal, "anti-Remain" -> against Remain)."""
    words = tokens(described)
    camps = [f"{noun}*" for noun in camp_nouns]
    found: set[Label] = set()
    for label, other, names in (("support", "oppose", target.sides.support),
                                ("oppose", "support", target.sides.oppose)):
        for name in names:
            pattern = list(phrase_tokens(name))
            for start in range(len(words) - len(pattern) + 1):
                first, rest = words[start], words[start + 1:start + len(pattern)]
                prefix, _, side_word = first.partition("-")
                if prefix in {"pro", "anti"} and [side_word, *rest] == pattern:
                    found.add(label if prefix == "pro" else other)
                elif [first, *rest] == pattern:
                    near = words[max(0, start - 2):start] + words[start + len(pattern):start + len(pattern) + 2]
                    if words[start - 1:start] == ["for"] or any(word_matches(camp, word)
                                                                for camp in camps for word in near):
                        found.add(label)
    return found


def affiliation_prior(target: TargetConfig, cfg: LabelingConfig) -> LabelingFunction:
    """The usual stance of the speaker's camp, from who the article says the speaker is: a configured camp
    ("Georgian Foreign Minister ..." -> Georgian government), a side of the ballot ("director of the Yes
    campaign", `target.sides`) or a role that takes no side (`labeling.neutral_roles`: returning officer,
    pollster). Abstains when the camps named disagree or take no known side."""

    def vote(quote: Quote) -> Vote:
        stances = {affiliation.stance for affiliation in speaker_affiliations(target, quote)} - {None}
        described = description(quote.speaker, quote.speaker_mention, quote.speaker_role)
        stances |= side_camps(described, target, cfg.stance_words.camp_nouns)
        if not stances and mentions(described, cfg.neutral_roles):
            stances = {"neutral"}
        return stances.pop() if len(stances) == 1 else None

    return per_quote("affiliation_prior", vote)


def example_similarity(target: TargetConfig, cfg: LabelingConfig) -> LabelingFunction:
    """The label of the nearest guideline example by MiniLM embedding, when it is near enough
    and clearly nearer than any example of another label."""
    from pipeline.labeling.embeddings import encode, shared_encoder

    example_labels = [label for label in LABELS for _ in target.examples.get(label, [])]
    example_texts = [text for label in LABELS for text in target.examples.get(label, [])]
    if not example_texts:
        return LabelingFunction("example_similarity", lambda quotes: [None] * len(quotes))
    encoder = shared_encoder(cfg.embedding_model)
    examples = encode(encoder, example_texts)
    label_rows = {label: [i for i, name in enumerate(example_labels) if name == label]
                  for label in LABELS if label in example_labels}

    def vote_all(quotes: Sequence[Quote]) -> list[Vote]:
        if not quotes:
            return []
        similarity = encode(encoder, [quote.text for quote in quotes]) @ examples.T
        votes: list[Vote] = []
        for row in similarity:
            best = sorted(((float(np.max(row[rows])), label) for label, rows in label_rows.items()), reverse=True)
            top, runner_up = best[0], best[1] if len(best) > 1 else (-1.0, None)
            near = top[0] >= cfg.similarity_threshold and top[0] - runner_up[0] >= cfg.similarity_margin
            votes.append(top[1] if near else None)
        return votes

    return LabelingFunction("example_similarity", vote_all)


BUILDERS: dict[str, Callable[[TargetConfig, LabelingConfig], LabelingFunction]] = {
    builder.__name__: builder
    for builder in (cue_support, cue_oppose, cue_procedure, reporting_frame, stance_grammar, target_relevance,
                    speaker_prior, affiliation_prior, example_similarity)
}


def build_labeling_functions(target: TargetConfig, cfg: LabelingConfig) -> list[LabelingFunction]:
    """The functions named in `cfg.functions`, in that order."""
    return [BUILDERS[name](target, cfg) for name in cfg.functions]
