"""Grammatical gender of the people an article names, so a pronoun only goes to someone it agrees with.

Evidence, strongest first: a title ("Mr", "Ms", "Mrs"), a gendered word written with the name
("spokeswoman", "a mother of three", "the man"), and the first name. First names come from the
person providers of Faker (PyPI `faker`, MIT licence, maintained): the male and female first-name
lists of its 80-odd locales. A name listed as male in more than twice as many locales as female
is male, and the reverse; in between (Kim, Taylor) it is a first name of unknown gender, which
still tells that the words name a person. Pronouns that can only mean one person are evidence
too: the registry (resolution.py) applies that once every name is known.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import Literal

Gender = Literal["male", "female"]

HONORIFICS = frozenset("mr mr. ms ms. mrs mrs. miss sir dame lady lord".split())  # always written with a name
MALE_TITLES = frozenset("mr mr. sir lord king prince father fr. monsignor brother".split())
FEMALE_TITLES = frozenset("ms ms. mrs mrs. miss madam madame dame lady queen princess sister mother".split())
MALE_WORDS = frozenset("""
man men's gentleman boy father dad husband son brother uncle grandfather grandson nephew widower
spokesman chairman congressman businessman statesman councilman alderman countryman sportsman
king prince duke emperor monk priest actor widower boyfriend fiance
""".split())
FEMALE_WORDS = frozenset("""
woman women's lady girl mother mum mom wife daughter sister aunt grandmother granddaughter niece widow
spokeswoman chairwoman congresswoman businesswoman stateswoman councilwoman alderwoman countrywoman
sportswoman queen princess duchess empress nun actress girlfriend fiancee
""".split())
MALE_PRONOUNS = frozenset({"he", "him", "his", "himself"})
FEMALE_PRONOUNS = frozenset({"she", "her", "hers", "herself"})
MAJORITY = 2  # a first name is gendered when one list holds it in more than twice as many locales


def pronoun_gender(word: str) -> Gender | None:
    lower = word.lower()
    return "male" if lower in MALE_PRONOUNS else "female" if lower in FEMALE_PRONOUNS else None


def agrees(gender: Gender | None, other: Gender | None) -> bool:
    """Unknown agrees with anything; otherwise the two must be the same."""
    return gender is None or other is None or gender == other


def word_gender(word: str) -> Gender | None:
    """The gender a title or a descriptive word carries ('Mrs', 'spokeswoman', 'mother'), if any."""
    lower = word.lower()
    if lower in MALE_TITLES or lower in MALE_WORDS:
        return "male"
    if lower in FEMALE_TITLES or lower in FEMALE_WORDS:
        return "female"
    return None


@functools.cache
def first_names() -> dict[str, Gender | None]:
    """Lower-case first name -> its gender (None: used for both), from Faker's person providers."""
    import faker.providers.person as providers

    male: dict[str, int] = {}
    female: dict[str, int] = {}
    for module in pkgutil.iter_modules(providers.__path__):
        provider = importlib.import_module(f"{providers.__name__}.{module.name}").Provider
        for attribute, counts in (("first_names_male", male), ("first_names_female", female)):
            for name in {name.lower() for name in getattr(provider, attribute, ())}:
                counts[name] = counts.get(name, 0) + 1
    genders: dict[str, Gender | None] = {}
    for name in male.keys() | female.keys():
        as_male, as_female = male.get(name, 0), female.get(name, 0)
        genders[name] = ("male" if as_male > MAJORITY * as_female
                         else "female" if as_female > MAJORITY * as_male else None)
    return genders


def is_first_name(word: str) -> bool:
    return word.lower() in first_names()


def first_name_gender(word: str) -> Gender | None:
    return first_names().get(word.lower())
