"""Speaker mentions resolved to who they are, with rules over the parse and entities.

Steps, each a function: `mention_span` (the words that name the speaker), `name_in_mention`
(a proper name inside it), the `PersonRegistry` of everyone named in the article (full
names, surnames, roles, gender), then `SpeakerResolver` which maps a surname to the full name,
a pronoun to the nearest person before it that agrees with it in gender and number (none
agrees: the speaker stays unresolved), and a description ("the de facto speaker of the
parliament") to the person holding that role or the person named right after it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from spacy.tokens import Doc, Span, Token

from pipeline.extraction.cues import EPITHET_ROLE_NOUNS, ORGANISATION_NOUNS, ROLE_NOUNS
from pipeline.extraction.gender import (
    HONORIFICS,
    Gender,
    agrees,
    first_name_gender,
    is_first_name,
    pronoun_gender,
    word_gender,
)
from pipeline.extraction.nlp import sentence_of_token, tokens
from pipeline.extraction.quote_marks import QuoteSpan, paragraph_ranges

PERSON_PRONOUNS = frozenset({"he", "she", "him", "her"})
GROUP_PRONOUNS = frozenset({"they", "it", "them"})
UNRESOLVABLE_PRONOUNS = frozenset({"i", "we", "you", "one", "someone", "somebody", "anyone", "this", "that",
                                   "who", "which", "what", "some", "others", "many", "both", "all"})
MENTION_CUTS = ("relcl", "acl", "advcl", "parataxis", "prep_according")
NOT_PERSON_ENTITIES = frozenset({"GPE", "LOC", "NORP", "FAC", "DATE", "CARDINAL", "ORDINAL", "EVENT",
                                 "LAW", "LANGUAGE", "MONEY", "PERCENT", "QUANTITY", "TIME", "PRODUCT",
                                 "WORK_OF_ART"})
TITLES = frozenset({"mr.", "mrs.", "ms.", "dr.", "mr", "mrs", "ms", "dr", "sen.", "rep.", "gov.", "prof."})
PARAGRAPH_WINDOW_CHARS = 1500
NAME_CONNECTORS = frozenset({"for", "of", "the", "and", "&"})  # small words inside a name: 'Friends of the Earth'
# the last word of a name that is a place or an institution, never a person ('Sofia Airport', 'Victoria Station')
INSTITUTION_WORDS = frozenset("""
street road avenue square station airport port bridge park hall house palace tower building centre center
university college school academy institute hospital church cathedral court parliament assembly congress
senate council commission committee ministry department office agency service party union league movement
campaign group foundation association society company bank fund times post news press radio television
organisation organization coalition alliance body charity network
amendment act law bill treaty constitution charter convention declaration accord agreement
""".split())


def is_role_word(token: Token) -> bool:
    return token.lower_ in ROLE_NOUNS or token.lemma_.lower() in ROLE_NOUNS


def mention_span(head: Token) -> Span:
    """The speaker as written: the head's phrase without relative clauses and edge punctuation."""
    doc = head.doc
    start, end = head.left_edge.i, head.right_edge.i
    for child in head.children:
        when = child.dep_ in ("prep", "npadvmod") and any(t.ent_type_ in ("DATE", "TIME") for t in child.subtree)
        if child.dep_ in MENTION_CUTS or when or (child.dep_ == "punct" and child.i > head.i and child.text == "("):
            if child.i > head.i:
                end = min(end, child.left_edge.i - 1)
            else:
                start = max(start, child.right_edge.i + 1)
    # a relative clause on a word inside the phrase ends it too ('the ruling - K vs the State - which ...')
    for token in doc[head.i + 1:end + 1]:
        if token.dep_ == "relcl":
            end = min(end, token.left_edge.i - 1)
    while start < end and (doc[start].is_punct or doc[start].is_space) and doc[start].text not in "\"“":
        start += 1
    while end > start and (doc[end].is_punct or doc[end].is_space or doc[end].dep_ in ("cc", "case")):
        end -= 1  # also "Mr Marape's" (a possessive speaker) -> "Mr Marape"
    return doc[start:end + 1]


def is_name_word(token: Token) -> bool:
    """A proper noun, or a capitalised word inside a person entity that the tagger took for a noun ('O’Connor')."""
    return token.pos_ == "PROPN" or token.ent_type_ == "PERSON" and token.text[:1].isupper() and token.pos_ == "NOUN"


def name_chain(token: Token) -> Span | None:
    """The proper name ending at `token`: name words to its left, stopping at a role word."""
    if not is_name_word(token) or is_role_word(token):
        return None
    doc, start = token.doc, token.i
    while start > 0:
        left = doc[start - 1]
        if not is_name_word(left) or is_role_word(left) or left.head.i not in range(start - 1, token.i + 1) \
                or left.ent_type_ in ("GPE", "NORP") and token.ent_type_ == "PERSON":
            break
        start -= 1
    end = token.i
    while end + 1 < len(doc) and doc[end + 1].pos_ == "PROPN" and doc[end + 1].head.i == token.i \
            and doc[end + 1].dep_ == "flat":
        end += 1
    return doc[start:end + 1]


def ends_before_name(token: Token) -> bool:
    """'Helga' in 'Helga Brandt', however the parser attached the two: a name word followed by another."""
    return token.i + 1 < len(token.doc) and is_name_word(token.doc[token.i + 1])


def name_in_mention(mention: Span, head: Token) -> Span | None:
    """The name in a mention: a person's name in apposition ('Kherson: head of ..., Vladimir
    Saldo') or conjoined with a description ('former minister and athlete Tom Harlow') before
    the head's own name, which may be a place; else the head's name."""
    chain = name_chain(head)
    if chain is not None and looks_like_person(chain):
        return chain
    for token in mention:
        # 'the director of X, Marta Lagos' (apposition), 'former politician and athlete Tom Harlow' (conjunct)
        if token.dep_ in ("appos", "conj") and token.pos_ == "PROPN" and token.i != head.i:
            apposition = name_chain(token)
            if apposition is not None and looks_like_person(apposition):
                return apposition
    return chain


def clean_name(name: Span) -> str:
    words = [token.text for token in name if token.lower_ not in TITLES]
    return " ".join(words).replace(" 's", "'s").strip(" ,'’")


def place_names(doc: Doc) -> frozenset[str]:
    """Names the entity tagger takes for a place or nationality more often than for a person in this
    article, once per doc: its tags of one name vary from sentence to sentence, and the majority is
    the better guess ('X Ireland' tagged a place twice and a person once is a party, not a person)."""
    cached = doc.user_data.get("place_names")
    if cached is None:
        votes: dict[str, int] = {}
        for ent in doc.ents:
            if ent.label_ in ("GPE", "LOC", "NORP"):
                votes[ent.text] = votes.get(ent.text, 0) + 1
            elif ent.label_ == "PERSON":
                votes[ent.text] = votes.get(ent.text, 0) - 1
        cached = doc.user_data["place_names"] = frozenset(text for text, vote in votes.items() if vote > 0)
    return cached


def looks_like_person(name: Span) -> bool:
    """A known first name before a surname ('Sofia Berlin', whatever the entity tagger says) or
    alone and tagged a person ('Maria'), or two or more name words tagged a person, or not tagged as a place,
    nationality or the like (the small model tags many people as organisations). Never a name
    ending in a word like 'Court', 'Street' or 'Amendment'; without a known first name or a title ('Mr
    Hale'), never one the article tags a place more often than a person."""
    words = [token for token in name if token.lower_ not in TITLES]
    if not words or not all(token.is_alpha or "'" in token.text or "\u2019" in token.text for token in words):
        return False
    if words[-1].lower_ in INSTITUTION_WORDS or any(token.lower_ in ROLE_NOUNS for token in words):
        return False
    titled = name[0].lower_ in TITLES or name.start > 0 and name.doc[name.start - 1].lower_ in TITLES
    if titled and len(words) == 1 and words[0].is_title:
        return True  # 'Mr Hale', 'Dr. Okafor': a title is only written with a person's name
    if is_first_name(words[0].text):
        return len(words) > 1 or words[0].ent_type_ == "PERSON"
    if len(words) < 2 or words[-1].ent_type_ in ("GPE", "NORP", "LOC") \
            or name.doc[words[0].i:words[-1].i + 1].text in place_names(name.doc):
        return False  # 'Renua Ireland' is a party; a surname that is a place follows a first name
    if any(token.ent_type_ == "PERSON" for token in words):
        return True
    return not any(token.ent_type_ in NOT_PERSON_ENTITIES for token in words)


def organisation_names(doc: Doc) -> list[Span]:
    """Names the entity tagger missed that end in a word for an organisation: 'the Together for Change
    campaign', 'the Fair Rents Alliance' (capitalised words, with for/of/the/and between them)."""
    names = []
    for token in tokens(doc):
        if token.pos_ not in ("NOUN", "PROPN") or token.lower_ not in ORGANISATION_NOUNS or token.i == 0:
            continue
        start = token.i
        while start > 0 and (doc[start - 1].is_alpha and (doc[start - 1].is_title or doc[start - 1].is_upper)
                             or doc[start - 1].lower_ in NAME_CONNECTORS) and not doc[start - 1].is_sent_start:
            start -= 1
        while start < token.i and doc[start].lower_ in NAME_CONNECTORS:
            start += 1
        if start < token.i and any(word.pos_ == "PROPN" for word in doc[start:token.i]):
            names.append(doc[start:token.i + 1])
    return names


def trimmed(doc: Doc, start: int, end: int) -> Span | None:
    """doc[start:end] without edge punctuation, or None if nothing is left."""
    while start < end and (doc[start].is_punct or doc[start].is_space):
        start += 1
    while end > start and (doc[end - 1].is_punct or doc[end - 1].is_space):
        end -= 1
    return doc[start:end] if end > start else None


def role_span(mention: Span, name: Span | None) -> Span | None:
    """The mention minus the name, as written: 'Kremlin spokesman', 'The leader of ...'."""
    if name is None:
        return None
    doc = mention.doc
    role = trimmed(doc, mention.start, name.start) or trimmed(doc, name.end, mention.end)
    if role is None:
        appositions = [child for child in name[-1].children if child.dep_ == "appos"]
        role = mention_span(appositions[0]) if appositions else None
    if role is None or not any(is_role_word(token) or token.pos_ == "NOUN" for token in role) \
            or any(token.like_url or "@" in token.text for token in role):
        return None
    return role


@dataclass
class Person:
    """Someone named in the article: full name, roles as written, role words and gender (None: unknown)."""

    name: str
    first_at: int
    roles: list[str] = field(default_factory=list)
    role_words: set[str] = field(default_factory=set)
    described_as: Gender | None = None  # by a title or a word written with the name
    referred_to_as: Gender | None = None  # by a pronoun that can only mean this person
    first_name_as: Gender | None = None  # by the first-name lexicon

    @property
    def gender(self) -> Gender | None:
        """What the article says beats what the first name suggests ('Sam ... She said')."""
        return self.described_as or self.referred_to_as or self.first_name_as


@dataclass
class PersonMention:
    at: int
    name: str
    is_subject: bool


def described_gender(chain: Span, role: Span | None) -> Gender | None:
    """The gender that the words written with a name give: a title ('Ms Kennedy', 'Mr. Smith'),
    a role or apposition ('spokeswoman X', 'X, a mother of two', 'X - a Chilean woman -')."""
    doc = chain.doc
    titles = list(chain) + ([doc[chain.start - 1]] if chain.start > 0 else [])
    for token in titles:
        if token.lower_ in HONORIFICS and (gender := word_gender(token.text)):
            return gender
    words = list(role) if role is not None else []
    words += [child for child in chain[-1].children if child.dep_ == "appos"]
    after = chain.end
    if after < len(doc) and doc[after].text in (",", "-", "\u2013", "\u2014", "("):
        for token in doc[after + 1:min(len(doc), after + 6)]:
            if token.is_punct:
                break
            words.append(token)
    for token in words:
        if token.pos_ in ("NOUN", "PROPN") and (gender := word_gender(token.text)):
            return gender
    return None


def in_quotation(char: int, quotes: list[QuoteSpan]) -> bool:
    return any(span.start <= char < span.end for span in quotes)


class PersonRegistry:
    """Everyone the article names, in order of first mention, with every later mention and
    each person's gender as the article shows it; and the organisations it names."""

    def __init__(self, doc: Doc, quotes: list[QuoteSpan] | None = None):
        self.people: dict[str, Person] = {}
        self.by_surname: dict[str, str] = {}
        self.mentions: list[PersonMention] = []
        names = [ent for ent in doc.ents if ent.label_ == "PERSON"]
        # names the entity tagger missed: in a subject, object or apposition, or opening with a first name
        names += [chain for token in tokens(doc) if is_name_word(token) and not ends_before_name(token)
                  and (chain := name_chain(token))
                  and (token.dep_ in ("appos", "nsubj", "nsubjpass", "pobj", "dobj") or is_first_name(chain[0].text))]
        for name in sorted(names, key=lambda span: span.start):
            chain = name_chain(name[-1]) or name
            if looks_like_person(chain):
                self._add(chain)
        for token in tokens(doc):
            name_ends_here = not (token.dep_ == "compound" and is_name_word(token.head)) and not ends_before_name(token)
            if is_name_word(token) and name_ends_here and (person := self.full_name(token.text)):
                self.mentions.append(PersonMention(token.idx, person, token.dep_ in ("nsubj", "nsubjpass")))
                if self.people[person].described_as is None:
                    self.people[person].described_as = described_gender(doc[token.i:token.i + 1], None)
        self._genders_from_pronouns(doc, quotes or [])
        # organisations by name, for 'the ministry' and 'the commission' later on
        named = [ent for ent in doc.ents if ent.label_ == "ORG" and ent.root.pos_ == "PROPN"]
        self.organisations = sorted((name.start_char, name.text.removeprefix("the ").removeprefix("The "),
                                     {token.lower_ for token in name})
                                    for name in named + organisation_names(doc) if name.text not in self.people)

    def _add(self, chain: Span) -> None:
        name = clean_name(chain)
        if name not in self.people:
            canonical = self.by_surname.get(chain[-1].text)
            if canonical is None:
                self.people[name] = Person(name, chain.start_char)
                self.by_surname[chain[-1].text] = name
            name = canonical or name
        root = chain[-1]
        # climb from an apposition or prepositional object to the phrase it belongs to
        while root.dep_ in ("appos", "pobj", "prep", "compound", "poss") and root.head.i < root.i:
            root = root.head
        role = role_span(mention_span(root), chain)
        person = self.people[name]
        if role is not None:
            person.roles.append(role.text)
            person.role_words.update(token.lower_ for token in role if not token.is_punct)
        if person.described_as is None:
            person.described_as = described_gender(chain, role)
        words = [token for token in chain if token.lower_ not in TITLES and not is_role_word(token)]
        if person.first_name_as is None and words:
            person.first_name_as = first_name_gender(words[0].text)

    def _genders_from_pronouns(self, doc: Doc, quotes: list[QuoteSpan]) -> None:
        """'Sam Whitlock joined in May. She had been a teacher': a subject 'he' or 'she' outside
        quotations gives its gender to the one person named before it in its sentence, or else in
        the sentence before in the same paragraph; never when two people are named there."""
        for token in tokens(doc):
            gender = pronoun_gender(token.text)
            if gender is None or token.dep_ not in ("nsubj", "nsubjpass") or in_quotation(token.idx, quotes):
                continue
            sentence = sentence_of_token(token)
            named = [m for m in self.mentions if sentence.start_char <= m.at < token.idx]
            if not named and sentence.start > 0 and "\n" not in doc[sentence.start - 1].text_with_ws:
                sentence = sentence_of_token(doc[sentence.start - 1])
                named = [m for m in self.mentions if sentence.start_char <= m.at < token.idx]
            people = {m.name for m in named if not in_quotation(m.at, quotes)}
            if len(people) == 1 and self.people[(name := people.pop())].referred_to_as is None:
                self.people[name].referred_to_as = gender

    def organisation_named(self, head: Token) -> str | None:
        """'the ministry' -> 'the Ministry of Health', 'the commission' -> 'Referendum Commission': the
        last organisation named before a definite common noun that its name contains; 'the group', 'the
        main umbrella group' (a word news uses for any organisation): the last one named in the
        paragraphs before, when none has the word in its name."""
        if head.pos_ != "NOUN" or head.tag_ in ("NNS", "NNPS") or not any(
                child.dep_ in ("det", "poss") and child.lower_ in ("the", "its", "their") for child in head.children):
            return None
        word = head.lower_
        named = [(at, name) for at, name, words in self.organisations if at < head.idx and word in words]
        if not named and head.lemma_.lower() in ORGANISATION_NOUNS:
            named = [(at, name) for at, name, _ in self.organisations
                     if head.idx - PARAGRAPH_WINDOW_CHARS <= at < head.idx]
        return max(named)[1] if named else None

    def gender_of(self, name: str | None) -> Gender | None:
        person = self.people.get(name) if name else None
        return person.gender if person else None

    def full_name(self, word: str) -> str | None:
        """'Peskov' -> 'Dmitry Peskov' when the article named him in full."""
        if word in self.people:
            return word
        return self.by_surname.get(word)

    def role_of(self, name: str | None) -> str | None:
        person = self.people.get(name) if name else None
        return person.roles[0] if person and person.roles else None


def next_paragraph_end_after(text: str, char: int) -> int:
    """Where the paragraph after the one holding `char` ends."""
    ends = [end for start, end in paragraph_ranges(text) if end > char]
    return ends[1] if len(ends) > 1 else len(text)


@dataclass
class Speaker:
    """A resolved speaker: canonical name (or None), the mention as written, the role."""

    name: str | None
    mention: str
    role: str | None
    is_person: bool
    plural: bool = False  # 'officials', 'the bishops': a later 'it' cannot mean them


class SpeakerResolver:
    """Resolve speaker head tokens in document order (pronouns look back at earlier speakers)."""

    def __init__(self, doc: Doc, text: str, registry: PersonRegistry, quotes: list[QuoteSpan] | None = None):
        self.doc = doc
        self.text = text
        self.registry = registry
        self.quotes = quotes or []
        self.speakers: list[tuple[int, Speaker]] = []
        self.spoken_roles: dict[str, str] = {}  # the role a person last spoke in, as written

    def role_of(self, name: str) -> str | None:
        """A later "he" or "Peskov" speaks in the role last written with the name (else the first seen)."""
        return self.spoken_roles.get(name) or self.registry.role_of(name)

    def resolve(self, head: Token, mention: Span | None = None) -> Speaker:
        """Who `head` (or the given mention, when a pattern found it) refers to."""
        speaker = self._resolve(head, mention if mention is not None else mention_span(head))
        if not speaker.is_person and head.tag_ in ("NNS", "NNPS"):
            speaker = replace(speaker, plural=True)
        self.speakers.append((head.idx, speaker))
        return speaker

    def _resolve(self, head: Token, mention: Span) -> Speaker:
        lower = head.lower_
        if head.pos_ == "PRON" or lower in PERSON_PRONOUNS | GROUP_PRONOUNS | UNRESOLVABLE_PRONOUNS:
            return self.resolve_pronoun(head, mention.text)
        name = name_in_mention(mention, head)
        if name is not None:
            return self.resolve_name(name, mention)
        if is_role_word(head) and head.tag_ not in ("NNS", "NNPS"):
            return self.resolve_description(head, mention)
        organisation = self.registry.organisation_named(head)
        if organisation is not None:
            return Speaker(organisation, mention.text, None, False)
        return Speaker(mention.text, mention.text, None, False)

    def resolve_name(self, name: Span, mention: Span) -> Speaker:
        """A full name as is; a surname or 'Mr. X' to the full name given elsewhere."""
        words = [token.text for token in name if token.lower_ not in TITLES]
        full = self.registry.full_name(clean_name(name)) or (self.registry.full_name(words[-1]) if words else None)
        role = role_span(mention, name)
        role_text = role.text if role is not None else None
        if full is not None:
            if role_text:
                self.spoken_roles[full] = role_text
            return Speaker(full, mention.text, role_text or self.role_of(full), True)
        if looks_like_person(name):
            if role_text:
                self.spoken_roles[clean_name(name)] = role_text
            return Speaker(clean_name(name), mention.text, role_text, True)
        # an organisation or place keeps its article ("the Kremlin", not "Kremlin") and its small words
        # ('Together for Change', whose last word alone the parser took for the name)
        bare = mention.start == name.start - 1 and mention[0].dep_ == "det" and mention.end == name.end
        whole = all(token.is_title or token.is_upper or token.lower_ in NAME_CONNECTORS for token in mention)
        return Speaker(mention.text if bare or whole else clean_name(name), mention.text, role_text, False)

    def resolve_pronoun(self, head: Token, mention: str) -> Speaker:
        """'he'/'she' -> the nearest person before it who can be that gender (a subject of its sentence
        first, then subjects and speakers before, then any name), never one inside a quotation the
        pronoun is not in; 'they'/'it' -> the last group speaker."""
        lower = head.lower_
        if lower in PERSON_PRONOUNS:
            gender = pronoun_gender(lower)
            window = head.idx - PARAGRAPH_WINDOW_CHARS
            before = [m for m in self.registry.mentions if window <= m.at < head.idx]
            earlier_speakers = [(at, s.name) for at, s in self.speakers if s.is_person and s.name and at >= window]
            candidates = [(m.at, m.name, m.is_subject) for m in before] + [(at, n, True) for at, n in earlier_speakers]
            quoted_here = [span for span in self.quotes if span.start <= head.idx < span.end]
            candidates = [c for c in candidates if agrees(self.registry.gender_of(c[1]), gender)
                          and (not in_quotation(c[0], self.quotes) or in_quotation(c[0], quoted_here))]
            sentence_start = sentence_of_token(head).start_char
            subjects = [c for c in candidates if c[2]]
            in_sentence = [c for c in candidates if c[0] >= sentence_start]
            # 'Regarding his brother, Simon, he said': a subject before a name in a phrase of the pronoun's sentence
            pool = [c for c in in_sentence if c[2]] or subjects or in_sentence or candidates
            if pool:
                name = max(pool, key=lambda c: c[0])[1]
                return Speaker(name, mention, self.role_of(name), True)
        elif lower in GROUP_PRONOUNS:
            for at, speaker in reversed(self.speakers):
                if at < head.idx - PARAGRAPH_WINDOW_CHARS:
                    break
                if not speaker.is_person and speaker.name and (lower != "it" or not speaker.plural):
                    return Speaker(speaker.name, mention, speaker.role, False, speaker.plural)
        return Speaker(None, mention, None, lower in PERSON_PRONOUNS)

    def resolve_description(self, head: Token, mention: Span) -> Speaker:
        """'The de facto speaker of ...' -> the person with that role, or the next person named; a bare
        'the leader' refers back, to the last person who spoke; a gendered role word ('spokeswoman')
        only to someone who can be that gender."""
        role_word = head.lemma_.lower()
        gender = word_gender(head.text)
        holders = [person for person in self.registry.people.values()
                   if (role_word in person.role_words or head.lower_ in person.role_words)
                   and agrees(person.gender, gender)]
        if holders:
            mention_words = {token.lower_ for token in mention}
            best = max(holders, key=lambda person: (len(mention_words & person.role_words), -person.first_at))
            return Speaker(best.name, mention.text, mention.text, True)
        if refers_back(mention, head):
            for at, speaker in reversed(self.speakers):
                if at < head.idx - PARAGRAPH_WINDOW_CHARS:
                    break
                if speaker.is_person and speaker.name and agrees(self.registry.gender_of(speaker.name), gender):
                    return Speaker(speaker.name, mention.text, self.role_of(speaker.name), True)
        # news style: "The de facto speaker ... said ..." then, next paragraph, '"...," Valery Kvarchia said'
        next_paragraph_end = next_paragraph_end_after(self.text, mention.end_char)
        later = [person for person in self.registry.people.values()
                 if mention.end_char <= person.first_at < next_paragraph_end]
        if later:
            first = min(later, key=lambda person: person.first_at)
            return Speaker(first.name, mention.text, mention.text, True)
        return Speaker(None, mention.text, mention.text, True)


def refers_back(mention: Span, head: Token) -> bool:
    """'the leader', 'the senior official': a definite epithet with nothing after it points back to
    someone already speaking; 'the speaker of the parliament' or 'the mayor' (a role nobody
    named has) introduces someone."""
    return mention[-1].i == head.i and mention[0].lower_ == "the" and head.lemma_.lower() in EPITHET_ROLE_NOUNS
