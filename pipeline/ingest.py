"""Ingest stage: a folder of articles (.txt, .md, .html, .jsonl) -> data/interim/articles.jsonl.

One cleaned Article per article: the headline first, then the paragraphs, with photo
captions, datelines and credit lines removed (and recorded in `stripped`), because those
lines would otherwise become fake quotes or speakers downstream. Exact duplicates
(same cleaned body) are dropped and listed in reports/ingest.json.
"""
from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from pipeline.catalog import ARTICLES, INGEST_REPORT, Catalog
from pipeline.config import DEFAULT_MAX_ARTICLE_CHARS, load_params, project_root
from pipeline.errors import PipelineError, run_cli
from pipeline.files import ARTICLE_FORMATS, NotARegularFile, find_article_files, read_regular_file
from pipeline.records import Article, StrippedText

# A caption: a short paragraph ending in a photo credit, e.g. "Anatoly Bibilov (file photo)".
CAPTION = re.compile(r"(?:\((?:file |archive )?(?:photo|picture|image)[^)]*\)|©\s*\S.{0,40}|\b(?:photo|picture|image)"
                     r"(?: credit)?:\s*\S.{0,60})\s*$"
                     r"|\b(?:file|handout|undated|archive)\b(?:\s+\w+){0,3}\s+(?:photo|picture|image)s?\s+of\b",
                     re.IGNORECASE)
# A dateline opening the first paragraph: "TBILISI --", "KYIV, Ukraine —", "MOSCOW (Reuters) -".
DATELINE = re.compile(r"^(?P<dateline>[A-Z][A-Z.'\- ]{2,40}(?:,\s*[A-Z][A-Za-z.]+(?:\s+[A-Z]?[A-Za-z.]+)?"
                      r"(?:\s+\d{1,2})?)?\s*(?:\([A-Za-z.&/ ]{2,30}\))?\s*(?:--|—|–|-)\s+)(?=\S)")
# A credit line near the end: "With reporting by Kommersant, TASS, ...", "(Editing by ...)".
CREDIT = re.compile(r"^[(\[]?\s*(?:with\s+|additional\s+)?(?:reporting|writing|editing|compiled|"
                    r"contributing|research)\b[^.]{0,30}?\bby\b", re.IGNORECASE)
EDITOR_NOTE = re.compile(r"^\[[^\]]*\]\s*")  # "[title from URL slug] ..." in scraped copies
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+Z?)?")
URL = re.compile(r"^https?://\S+$")
MAX_CAPTION_WORDS = 60
MAX_CREDIT_WORDS = 40
CREDIT_WINDOW = 3  # credit lines are looked for among the last paragraphs only
MAX_FILE_BYTES_PER_CHAR = 20  # room for HTML markup: a single-article file larger than this is refused unread


@dataclass
class RawArticle:
    """What a reader found in a file, before cleaning."""

    id: str
    title: str
    paragraphs: list[str]
    date: str | None = None
    source: str | None = None
    stripped: list[StrippedText] = field(default_factory=list)


def decode_text(data: bytes, path: Path) -> str:
    """Bytes -> text, refusing empty, binary and non-UTF-8 files with a message naming the file."""
    if not data.strip():
        raise PipelineError("empty file: no article text", path=path)
    if b"\x00" in data[:65536]:
        raise PipelineError("binary file, not article text", path=path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PipelineError(f"not UTF-8 text: byte 0x{data[error.start]:02x} at offset {error.start} "
                            "(re-save the file as UTF-8)", path=path) from None


def normalise_whitespace(text: str) -> str:
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()


def split_paragraphs(text: str) -> list[str]:
    """One paragraph per non-empty line: scraped news puts each paragraph on its own line."""
    return [line for line in (normalise_whitespace(raw) for raw in text.splitlines()) if line]


def parse_header_line(line: str, raw: RawArticle) -> bool:
    """Take a source URL or a date from a header line; True if the line was one of those."""
    if URL.match(line):
        raw.source = line
        return True
    head = line.split()[0] if line.split() else ""
    if ISO_DATE.match(head):
        raw.date = head
        return True
    if head.lower() == "unknown":
        return True
    return False


def parse_plain_text(article_id: str, text: str) -> RawArticle:
    """Plain text: the first line is the headline; URL/date lines right after it are header."""
    lines = text.splitlines()
    title = EDITOR_NOTE.sub("", normalise_whitespace(lines[0]))
    raw = RawArticle(id=article_id, title=title, paragraphs=[])
    rest = 1
    while rest < len(lines) and lines[rest].strip() and parse_header_line(lines[rest].strip(), raw):
        rest += 1
    raw.paragraphs = split_paragraphs("\n".join(lines[rest:]))
    return raw


def parse_markdown(article_id: str, text: str) -> RawArticle:
    """Markdown: optional front matter (title/date/source), else the first line (a `# heading`)."""
    meta: dict[str, str] = {}
    front = re.match(r"^---\s*\n(.*?)\n---\s*\n", text, re.DOTALL)
    if front:
        for line in front.group(1).splitlines():
            key, _, value = line.partition(":")
            if value.strip():
                meta[key.strip().lower()] = value.strip().strip("'\"")
        text = text[front.end():]
    text = re.sub(r"^#{1,6}\s+", "", text, flags=re.MULTILINE)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    if "title" in meta:
        raw = RawArticle(id=article_id, title=meta["title"], paragraphs=split_paragraphs(text))
    else:
        raw = parse_plain_text(article_id, text.lstrip("\n"))
    raw.date = meta.get("date", raw.date)
    raw.source = meta.get("source", raw.source)
    return raw


class ArticleHTMLParser(HTMLParser):
    """Collects title, meta date/source, paragraph text and figure captions from a news page."""

    SKIP = {"script", "style", "nav", "footer", "header", "aside", "noscript", "form"}
    BLOCKS = {"p", "h1", "h2", "h3", "h4", "li", "blockquote", "figcaption", "div", "br"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.h1 = ""
        self.meta: dict[str, str] = {}
        self.blocks: list[tuple[str, str]] = []
        self.stack: list[str] = []
        self.skip_depth = 0
        self.buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            values = {k: v or "" for k, v in attrs}
            key = (values.get("property") or values.get("name") or "").lower()
            if key and values.get("content"):
                self.meta[key] = values["content"]
            return
        if tag in self.SKIP:
            self.skip_depth += 1
        if tag in self.BLOCKS:
            self.flush()
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.flush()
        if tag in self.SKIP and self.skip_depth:
            self.skip_depth -= 1
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.stack and self.stack[-1] == "title":
            self.title += data
            return
        self.buffer.append(data)

    def flush(self) -> None:
        text = normalise_whitespace(" ".join(self.buffer))
        self.buffer = []
        if not text:
            return
        kind = "caption" if "figcaption" in self.stack else "h1" if "h1" in self.stack else "text"
        if kind == "h1" and not self.h1:
            self.h1 = text
        else:
            self.blocks.append((kind, text))


def parse_html(article_id: str, text: str) -> RawArticle:
    """HTML: headline from og:title, <h1> or <title>; text from block elements; <figcaption> stripped."""
    parser = ArticleHTMLParser()
    parser.feed(text)
    parser.close()
    parser.flush()
    meta = parser.meta
    title = meta.get("og:title") or parser.h1 or normalise_whitespace(html.unescape(parser.title))
    raw = RawArticle(id=article_id, title=title, paragraphs=[],
                     date=(meta.get("article:published_time") or meta.get("date") or meta.get("pubdate")),
                     source=meta.get("og:site_name") or meta.get("og:url"))
    for kind, block in parser.blocks:
        if kind == "caption":
            raw.stripped.append(StrippedText(kind="caption", text=block))
        elif block != title:
            raw.paragraphs.append(block)
    return raw


def check_length(chars: int, max_chars: int, path: Path, line: int | None = None) -> None:
    """Refuse an article longer than corpus.max_article_chars, before more work is spent on it."""
    if chars > max_chars:
        raise PipelineError(f"article is {chars:,} characters, over corpus.max_article_chars ({max_chars:,}): "
                            "split it into articles or raise the limit", path=path, line=line)


def parse_jsonl_line(path: Path, number: int, data: object,
                     max_chars: int = DEFAULT_MAX_ARTICLE_CHARS) -> RawArticle:
    """One JSON object per article: body (or text) required; id, title, date, source optional."""
    if not isinstance(data, dict):
        raise PipelineError("expected a JSON object per line", path=path, line=number)
    body = data.get("body", data.get("text"))
    if not isinstance(body, str) or not body.strip():
        raise PipelineError("missing article text", path=path, line=number, field="body")
    check_length(len(body), max_chars, path, number)
    for key in ("id", "title", "date", "source"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise PipelineError(f"must be a string, got {type(data[key]).__name__}", path=path, line=number,
                                field=key)
    article_id = data.get("id") or f"{path.stem}-{number}"
    if isinstance(data.get("title"), str) and data["title"].strip():
        raw = RawArticle(id=article_id, title=normalise_whitespace(data["title"]), paragraphs=split_paragraphs(body))
    else:
        raw = parse_plain_text(article_id, body.strip())
    raw.date = data.get("date") or raw.date
    raw.source = data.get("source") or raw.source
    return raw


def strip_boilerplate(raw: RawArticle) -> RawArticle:
    """Remove captions, the dateline and credit lines, recording each in `stripped`."""
    kept: list[str] = []
    last = len(raw.paragraphs) - 1
    for index, paragraph in enumerate(raw.paragraphs):
        words = len(paragraph.split())
        if words <= MAX_CAPTION_WORDS and CAPTION.search(paragraph):
            raw.stripped.append(StrippedText(kind="caption", text=paragraph))
            continue
        if index > last - CREDIT_WINDOW and words <= MAX_CREDIT_WORDS and CREDIT.match(paragraph):
            raw.stripped.append(StrippedText(kind="credit", text=paragraph))
            continue
        if paragraph == raw.title:  # the headline repeated inside the scraped body
            continue
        if not kept:
            match = DATELINE.match(paragraph)
            if match:
                raw.stripped.append(StrippedText(kind="dateline", text=match.group("dateline").strip()))
                paragraph = paragraph[match.end():]
        kept.append(paragraph)
    raw.paragraphs = kept
    return raw


def to_article(raw: RawArticle, path: Path, max_chars: int = DEFAULT_MAX_ARTICLE_CHARS,
               line: int | None = None) -> Article:
    """The cleaned record: body = headline, blank line, paragraphs separated by blank lines."""
    raw = strip_boilerplate(raw)
    if not raw.paragraphs and not raw.title:
        raise PipelineError("no article text left after cleaning", path=path, line=line)
    body = "\n\n".join(([raw.title] if raw.title else []) + raw.paragraphs)
    check_length(len(body), max_chars, path, line)
    return Article(id=raw.id, title=raw.title, date=raw.date, source=raw.source, body=body,
                   sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(), path=path.as_posix(),
                   stripped=list(raw.stripped))


def read_article_file(path: Path, max_chars: int = DEFAULT_MAX_ARTICLE_CHARS) -> list[Article]:
    """Read one article file (a .jsonl file may hold many articles); longer than `max_chars` is an error,
    and so is a path that is not a regular file (files.NotARegularFile), refused unread."""
    path = Path(path)
    fmt = ARTICLE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise PipelineError(f"unsupported file type {path.suffix!r} (use .txt, .md, .html or .jsonl)", path=path)
    data = read_regular_file(path, None if fmt == "jsonl" else MAX_FILE_BYTES_PER_CHAR * max_chars,
                             f"{MAX_FILE_BYTES_PER_CHAR} x corpus.max_article_chars ({max_chars:,}) can hold: "
                             "split it into articles or raise the limit")
    text = decode_text(data, path)
    if fmt == "jsonl":
        articles = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                raise PipelineError(f"malformed JSON: {error.msg} at column {error.colno}", path=path,
                                    line=number) from None
            except RecursionError:
                raise PipelineError("JSON nested too deeply", path=path, line=number) from None
            articles.append(to_article(parse_jsonl_line(path, number, value, max_chars), path, max_chars, number))
        return articles
    parse = {"txt": parse_plain_text, "md": parse_markdown, "html": parse_html}[fmt]
    return [to_article(parse(path.stem, text.replace("\r\n", "\n")), path, max_chars)]


@dataclass
class IngestResult:
    """Articles kept, plus what was dropped and why (for the stage summary)."""

    articles: list[Article]
    duplicates: list[dict[str, str]]
    skipped: list[dict[str, str]]


def shown_path(path: Path, root: Path | None) -> str:
    """A file's path as recorded: relative to the project root when inside it, so outputs do not
    depend on where the project is checked out (DVC hashes them)."""
    if root is not None and path.is_absolute() and path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    return path.as_posix()


def ingest_files(paths: list[Path], on_error: str = "fail", max_chars: int = DEFAULT_MAX_ARTICLE_CHARS,
                 root: Path | None = None) -> IngestResult:
    """Read every file, drop exact duplicates and repeated ids; `on_error='skip'` skips unreadable files.
    Paths that are not regular files (FIFOs, devices, broken or looping symlinks) are always skipped
    and listed: they are not articles, and reading them could hang or never end.

    Paths under `root` are recorded relative to it.
    """
    result = IngestResult(articles=[], duplicates=[], skipped=[])
    seen_hashes: dict[str, str] = {}
    seen_ids: set[str] = set()
    for path in paths:
        try:
            articles = read_article_file(path, max_chars)
        except PipelineError as error:
            if on_error != "skip" and not isinstance(error, NotARegularFile):
                raise
            result.skipped.append({"path": shown_path(path, root),
                                   "error": str(error).replace(str(path), shown_path(path, root))})
            continue
        for article in (article.model_copy(update={"path": shown_path(path, root)}) for article in articles):
            if article.sha256 in seen_hashes:
                result.duplicates.append({"id": article.id, "path": article.path,
                                          "duplicate_of": seen_hashes[article.sha256]})
                continue
            if article.id in seen_ids:
                raise PipelineError(f"article id {article.id!r} is used twice (rename one file)", path=path)
            seen_hashes[article.sha256] = article.id
            seen_ids.add(article.id)
            result.articles.append(article)
    if not result.articles:
        raise PipelineError("no readable articles found", path=paths[0].parent if paths else None)
    return result


def summarise(result: IngestResult) -> dict:
    stripped: dict[str, int] = {"caption": 0, "credit": 0, "dateline": 0}
    for article in result.articles:
        for piece in article.stripped:
            stripped[piece.kind] += 1
    return {"articles": len(result.articles), "duplicates_dropped": len(result.duplicates),
            "files_skipped": len(result.skipped), "stripped": stripped,
            "duplicates": result.duplicates, "skipped": result.skipped,
            "characters": sum(len(article.body) for article in result.articles)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="folder of articles (default: corpus.path from params.yaml)")
    args = parser.parse_args(argv)
    params = load_params()
    root = project_root()
    catalog = Catalog(params.paths, root)
    if params.corpus.kind == "labelled" and args.corpus is None:
        # An already-labelled dataset has no articles: the label stage reads it directly.
        catalog.write(ARTICLES, [])
        catalog.write(INGEST_REPORT, {"articles": 0,
                                      "note": f"corpus {params.corpus.name!r} is an already-labelled dataset"})
        print(f"ingest: {params.corpus.name} is an already-labelled dataset; no articles to ingest", file=sys.stderr)
        return 0
    folder = args.corpus or root / params.corpus.path
    files = find_article_files(folder, params.corpus.formats)
    if not files:
        raise PipelineError(f"no article files ({', '.join('.' + f for f in params.corpus.formats)}) in this folder",
                            path=folder, field="corpus.path")
    result = ingest_files(files, params.corpus.on_error, params.corpus.max_article_chars, root)
    summary = summarise(result)
    catalog.write(ARTICLES, result.articles)
    catalog.write(INGEST_REPORT, summary)
    print(f"ingest: {summary['articles']} articles from {folder}; {summary['duplicates_dropped']} duplicates "
          f"dropped, {summary['files_skipped']} files skipped", file=sys.stderr)
    for dropped in result.duplicates:
        print(f"  duplicate dropped: {dropped['path']} (same text as {dropped['duplicate_of']})", file=sys.stderr)
    for skipped in result.skipped:
        print(f"  skipped: {skipped['error']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
