"""The spaCy pipeline, loaded once per process and model name.

Paragraph breaks are hard sentence boundaries: spaCy's small model otherwise runs a
headline into the next paragraph, and every rule here works sentence by sentence.
"""
from __future__ import annotations

import functools
import importlib
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from pipeline.errors import PipelineError


@Language.component("paragraph_sentences")
def paragraph_sentences(doc: Doc) -> Doc:
    """Start a sentence at the first token after a line break (set before the parser runs)."""
    for token in doc[1:]:
        if "\n" in doc[token.i - 1].text_with_ws and not token.is_space:
            token.is_sent_start = True
    return doc


@functools.lru_cache(maxsize=4)
def load_nlp(model: str) -> Language:
    """Load `model` (an installed package name or a model folder) with paragraph sentence starts."""
    try:
        if Path(model).is_dir():
            nlp = spacy.load(model)
        else:
            nlp = importlib.import_module(model).load()
    except (ImportError, OSError) as error:
        raise PipelineError(f"cannot load the spaCy model: {error}", field="extract.spacy_model") from None
    if "parser" in nlp.pipe_names and "paragraph_sentences" not in nlp.pipe_names:
        nlp.add_pipe("paragraph_sentences", before="parser")
    nlp.max_length = max(nlp.max_length, 5_000_000)
    return nlp


def sentences(doc: Doc) -> tuple[list[Span], list[int]]:
    """The doc's sentences and, per token, its sentence number; computed once per doc
    (`Token.sent` walks the whole doc on every call)."""
    cached = doc.user_data.get("sentence_index")
    if cached is None:
        spans = list(doc.sents)
        of_token = [0] * len(doc)
        for number, sentence in enumerate(spans):
            for index in range(sentence.start, sentence.end):
                of_token[index] = number
        cached = doc.user_data["sentence_index"] = (spans, of_token)
    return cached


def tokens(doc: Doc) -> list[Token]:
    """The doc's tokens as one list, built once per doc: every step walks them, and iterating a
    Doc makes a new Token object for each token on every pass."""
    cached = doc.user_data.get("tokens")
    if cached is None:
        cached = doc.user_data["tokens"] = list(doc)
    return cached


def sentence_of_token(token: Token) -> Span:
    spans, of_token = sentences(token.doc)
    return spans[of_token[token.i]]
