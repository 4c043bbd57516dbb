"""The words that report speech or thought, and the words that name a speaker's role.

Lemmas, lower-case. PolNeAR counts beliefs and intentions as attributions, so thinking
verbs are cues too; verbs that report acts rather than words ("declare independence",
"rule") only count when they govern a clause, which the extractor checks.
"""
from __future__ import annotations

SPEECH_VERBS = frozenset("""
say tell add state claim argue insist warn note explain announce declare write report ask reply respond
suggest acknowledge admit allege assert concede confirm contend deny emphasize emphasise maintain predict
promise recall remark reveal stress tweet urge vow complain indicate testify observe propose recommend
joke quip boast charge accuse pledge threaten caution conclude estimate agree disagree mention hint imply
speculate reiterate repeat counter retort shout post signal demand answer lament concur brag muse
tout insinuate clarify elaborate swear guarantee assure inform remind advise recount describe call label
continue reason exclaim yell scream highlight outline
brand dub term
""".split())

THOUGHT_VERBS = frozenset("""
believe think feel expect fear hope know worry doubt wonder suspect consider assume understand realize
realise recognize recognise acknowledge predict anticipate figure guess imagine reckon sense trust
""".split())

# Polls, studies and documents "show" and "find" things: PolNeAR counts them as sources.
EVIDENCE_VERBS = frozenset("show find learn".split())

# "X called the talk of a referendum 'unacceptable'": the content is the object and its predicate.
NAMING_VERBS = frozenset("call describe label brand dub term".split())

# Verbs of criticism: their bare object is who or what is criticised, not words anyone said
# ("condemned the vocal 'no' voters"); what they were criticised for or as is ("criticised the
# plan for ignoring farmers", "blasted it as 'a disgrace'"), and so are the critic's own words in
# quotation marks ('attacked "the politics of fear"').
CRITICISM_VERBS = frozenset("""
condemn criticize criticise blast slam attack denounce decry deride lambaste ridicule mock dismiss blame pan
berate castigate scold rebuke chastise assail excoriate vilify disparage belittle scorn
""".split())

# Verbs of judging, citing and proposing: their object (with its "as ..." predicate) is the
# content ("blasted Clinton as a 'disgrace'", "proposed a carbon tax"); PolNeAR counts these.
ATTITUDE_VERBS = frozenset("""
blast slam attack criticize criticise praise cite reference chant exhort encourage liken compare dismiss mock
accuse condemn denounce defend endorse back support oppose reject welcome applaud hail question challenge
demand seek want refer quote recite sing read decry deride lambaste ridicule tout laud blame propose mention
echo discuss document disclose
""".split()) | CRITICISM_VERBS

# Verbs that report only with a particle or an adjective: 'pointed out that ...', 'made it clear that ...'.
PHRASAL_CUES = frozenset({("point", "out"), ("spell", "out"), ("make", "clear"), ("make", "plain")})

# Nouns that carry a report in their "that" clause: "his claim that ...", "warnings from X that ...".
REPORT_NOUNS = frozenset("""
claim warning statement assertion argument belief promise pledge insistence suggestion accusation allegation
charge contention view fear hope remark comment announcement prediction assurance admission denial notion
position message report conclusion finding estimate concern complaint threat vow
""".split())

# Adjectives of conviction: "came away convinced that ...".
CONVICTION_ADJECTIVES = frozenset("convinced sure confident certain worried concerned afraid hopeful aware".split())

# Verbs whose infinitive complement is the content: "vowed to build a wall".
INTENTION_VERBS = frozenset("""
vow promise pledge threaten urge ask refuse want plan intend seek decide hope expect aim decline agree offer
""".split())

# Verbs that put a question or a request to someone: the asker is the speaker, and the addressee
# with what they are asked is the content ("asked the minister whether ...", "urged voters to ...",
# "called on the parties to ...", "asked that her name not be used").
REQUEST_VERBS = frozenset(
    "ask urge press implore beg exhort encourage invite appeal call request demand petition".split())

# Nouns that name what someone is, not who: "spokesman", "the leader of ...". A mention
# headed by one of these (and no name) is a description to resolve to a person.
ROLE_NOUNS = frozenset("""
spokesman spokeswoman spokesperson leader president minister secretary chief head speaker official aide
adviser advisor director governor senator sen. rep. representative mayor chairman chairwoman chair
prime premier chancellor king queen prince ambassador envoy diplomat commissioner commander general
candidate nominee manager strategist lawyer attorney judge professor analyst expert economist source
ceo founder officer deputy lawmaker congressman congresswoman legislator politician campaign_manager
pope president-elect vice-president mr. mrs. ms. dr. gov. pres. sec. lt. col. gen. rev. sir dame lord
""".split())

# Nouns that news uses for an organisation already named, whatever its name: 'the group', 'the campaign'.
ORGANISATION_NOUNS = frozenset("""
group campaign organisation organization movement coalition alliance body charity network party union
""".split())

# Role nouns that news uses as an epithet for someone already speaking ('..., said the leader').
EPITHET_ROLE_NOUNS = frozenset("leader official head chief politician".split())

CUE_VERBS = SPEECH_VERBS | THOUGHT_VERBS | EVIDENCE_VERBS


def is_cue_lemma(lemma: str, extra: frozenset[str] = frozenset()) -> bool:
    """True for a reporting verb (speech or thought), our lexicon plus any configured extras."""
    lemma = lemma.lower()
    return lemma in CUE_VERBS or lemma in extra
