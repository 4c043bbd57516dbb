"""Atomic writes, checked reads and JSON Lines I/O: no stage ever leaves a half-written output,
and no input path makes a stage hang or read without end.

Every output goes to a temporary file beside its target and is renamed into place
only once complete, so an error or Ctrl-C leaves the previous output intact. The input files
a user names (ingest's articles, predict's --article and --jsonl) are read through
read_regular_file: a path that is not a regular file is refused unread, and the read is capped.
"""
from __future__ import annotations

import contextlib
import csv
import errno
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from pipeline.errors import PipelineError, raise_if_interrupted


def _process_umask() -> int:
    """The umask, read once (reading it means setting it, which is not thread-safe)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _process_umask()
# Temp files and folders are created private (0600 / 0700); what is renamed into place gets the
# permissions a plain open() or mkdir() would have given it.
FILE_MODE, DIR_MODE = 0o666 & ~UMASK, 0o777 & ~UMASK


def temp_prefix(path: Path) -> str:
    """Temp names beside `path` carry the writer's pid (`.stance.<pid>.<random>.tmp`), so a later
    writer can tell a killed writer's leftovers from a live one's."""
    return f".{path.name}.{os.getpid()}."


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def clear_leftovers(path: Path) -> list[Path]:
    """Before writing `path`: remove the temp files and folders a killed writer left beside it, and
    put back the previous folder if a kill fell between atomic_dir's two renames. Returns what went."""
    removed = []
    old = path.with_name(f".{path.name}.old")
    if old.is_dir() and not path.exists():
        os.replace(old, path)
    for leftover in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        pid = leftover.name[len(path.name) + 2:].split(".", 1)[0]
        if not pid.isdigit() or not process_alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


def glob_escape(name: str) -> str:
    return "".join(f"[{char}]" if char in "*?[" else char for char in name)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temp file beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clear_leftovers(path)
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
    binary = "b" in mode
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, FILE_MODE)
        raise_if_interrupted()
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temp folder beside `path`; it replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clear_leftovers(path)
    tmp_dir = Path(tempfile.mkdtemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent))
    try:
        yield tmp_dir
        os.chmod(tmp_dir, DIR_MODE)
        raise_if_interrupted()
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp_dir, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp_dir, path)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise


@contextlib.contextmanager
def staged_outputs(folder: str | Path) -> Iterator[Path]:
    """Yield a temp folder beside `folder`; the files written into it replace their namesakes under
    `folder` (same relative paths) only when the block succeeds, one rename each.

    For a stage that must record its results elsewhere (MLflow) before its files change: it writes
    into the stage folder, records, and only then are the files published; a failure or Ctrl-C in
    between leaves every file under `folder` as it was.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    clear_leftovers(folder)
    stage = Path(tempfile.mkdtemp(prefix=temp_prefix(folder), suffix=".tmp", dir=folder.parent))
    try:
        yield stage
        raise_if_interrupted()
        for path in sorted(p for p in stage.rglob("*") if p.is_file()):
            target = folder / path.relative_to(stage)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


class NotARegularFile(PipelineError):
    """An input path that names no regular file: a FIFO (reading blocks until someone writes), a
    device (/dev/zero never ends), a socket, a folder, a symlink loop or a symlink to nothing."""


FILE_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
              (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def regular_file_stat(path: str | Path) -> os.stat_result:
    """The stat of the regular file `path` names (through symlinks); anything else is NotARegularFile."""
    try:
        info = os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotARegularFile("not a regular file (a symlink loop): refused unread", path=path) from None
        if error.errno == errno.ENOENT and os.path.islink(path):
            raise NotARegularFile("not a regular file (a broken symlink): refused unread", path=path) from None
        if error.errno == errno.ENOENT:
            raise PipelineError("file not found", path=path) from None
        raise PipelineError(f"cannot read: {error.strerror}", path=path) from None
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for is_kind, name in FILE_KINDS if is_kind(info.st_mode)), "a special file")
        raise NotARegularFile(f"not a regular file ({kind}): refused unread", path=path)
    return info


def read_regular_file(path: str | Path, max_bytes: int | None = None, limit: str = "") -> bytes:
    """The bytes of a regular file, refusing any other kind of path (NotARegularFile) before opening
    it, and a file over `max_bytes` before reading it (`limit` says what the cap is, for the message)."""
    regular_file_stat(path)
    try:
        # O_NONBLOCK: should a FIFO replace the file after the check, opening it cannot block.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise PipelineError(f"cannot read: {error.strerror}", path=path) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile("not a regular file (replaced while being opened): refused unread", path=path)
        if max_bytes is not None and info.st_size > max_bytes:
            raise PipelineError(f"file is {info.st_size:,} bytes, more than {limit or f'{max_bytes:,} bytes'}",
                                path=path)
        try:
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
        except OSError as error:
            raise PipelineError(f"cannot read: {error.strerror}", path=path) from None
    if max_bytes is not None and len(data) > max_bytes:  # it grew while being read
        raise PipelineError(f"file is more than {limit or f'{max_bytes:,} bytes'}", path=path)
    return data


def write_json(path: str | Path, data: Any) -> None:
    """Write pretty, key-sorted JSON atomically (stable bytes for DVC)."""
    with atomic_open(path) as handle:
        json.dump(data, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")


def read_json(path: str | Path) -> Any:
    """The JSON value of a file; a missing or malformed file is an error naming it."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError("file not found (has the previous stage run?)", path=path) from None
    except json.JSONDecodeError as error:
        raise PipelineError(f"malformed JSON: {error.msg}", path=path, line=error.lineno) from None


def write_text(path: str | Path, text: str) -> None:
    with atomic_open(path) as handle:
        handle.write(text)


def read_text(path: str | Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def write_csv(path: str | Path, rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> None:
    """Write rows under a header of `columns` atomically ("\n" line ends: stable bytes for DVC)."""
    with atomic_open(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: str | Path) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write one JSON object per line atomically; returns the number of rows."""
    count = 0
    with atomic_open(path) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True))
            handle.write("\n")
            count += 1
    return count


def parse_jsonl_lines(lines: Iterable[str], source: str | Path,
                      first_line: int = 1) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; a bad line names `source` and the line
    (numbered from `first_line`, for a slice of a file)."""
    for number, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise PipelineError(f"malformed JSON: {error.msg} at column {error.colno}",
                                path=source, line=number) from None
        except RecursionError:
            raise PipelineError("JSON nested too deeply", path=source, line=number) from None
        if not isinstance(value, dict):
            raise PipelineError(f"expected a JSON object, got {type(value).__name__}", path=source, line=number)
        yield number, value


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line of a file; a bad line names file and line."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineError("file not found (has the previous stage run?)", path=path) from None
    with handle:
        try:
            yield from parse_jsonl_lines(handle, path)
        except UnicodeDecodeError as error:
            raise PipelineError(f"not UTF-8 text ({error.reason} at byte {error.start})", path=path) from None


# The article files ingest reads, by suffix: the format each is parsed as.
ARTICLE_FORMATS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html",
                   ".jsonl": "jsonl"}


def find_article_files(folder: Path, formats: list[str]) -> list[Path]:
    """Paths named like article files under `folder` (not hidden, not folders), sorted so the output
    order never depends on the file system. FIFOs, devices and broken or looping symlinks with such
    names are included: ingest_files lists them as skipped rather than leaving them out unsaid."""
    if not folder.is_dir():
        raise PipelineError("corpus folder not found", path=folder)
    return sorted(path for path in folder.rglob("*")
                  if ARTICLE_FORMATS.get(path.suffix.lower()) in formats and not path.is_dir()
                  and not any(part.startswith(".") for part in path.relative_to(folder).parts))
