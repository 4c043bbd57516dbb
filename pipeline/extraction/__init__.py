"""Quote extraction as small named steps over one spaCy `Doc` (see extractor.py for the order)."""
from pipeline.extraction.extractor import extract_quotes
from pipeline.extraction.nlp import load_nlp

__all__ = ["extract_quotes", "load_nlp"]
