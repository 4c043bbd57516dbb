"""One error type for bad input, and the wrapper that turns it into a readable exit.

Errors are raised where the bad input is first seen, naming the file, line and field;
`run_cli` prints that one message (no traceback) and exits non-zero.
"""
from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


class PipelineError(Exception):
    """Bad input or configuration: the message says what and where."""

    def __init__(self, message: str, *, path: str | Path | None = None,
                 line: int | None = None, field: str | None = None):
        self.message, self.path, self.line, self.field = message, path, line, field
        where = ""
        if path is not None:
            where = str(path)
            if line is not None:
                where += f":{line}"
            if field:
                where += f" [{field}]"
            where += ": "
        elif field:
            where = f"[{field}] "
        super().__init__(where + message)


def excerpt(value: object, limit: int = 40) -> str:
    """`value` as text to quote in an error message: at most `limit` characters of it, so a message
    about a 5 MB field is still one short line."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


_interrupted = False


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if Ctrl-C came while a stage ran, even if a library swallowed it.

    Some libraries run a bare `except:` (at import time, around optional features); a Ctrl-C that
    lands there is lost and the stage would carry on to write its outputs. Writers call this just
    before they rename a finished temp file into place, so an interrupted stage writes nothing.
    """
    if _interrupted:
        raise KeyboardInterrupt


@contextlib.contextmanager
def remembered_interrupts() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt as usual and is also remembered, for raise_if_interrupted."""
    global _interrupted

    def interrupt(signum, frame):
        global _interrupted
        _interrupted = True
        raise KeyboardInterrupt

    _interrupted = False
    if threading.current_thread() is not threading.main_thread():  # signals go to the main thread only
        yield
        return
    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _interrupted = False


def run_cli(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> int:
    """Run a stage's main(); a PipelineError becomes one line on stderr and exit code 2, Ctrl-C exit code 130."""
    try:
        with remembered_interrupts():
            code = main(argv)
            raise_if_interrupted()
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: earlier outputs are left as they were", file=sys.stderr)
        return 130
    except Exception as error:
        if not caused_by_interrupt(error):
            raise
        print("interrupted: earlier outputs are left as they were", file=sys.stderr)
        return 130
    return int(code or 0)


def caused_by_interrupt(error: BaseException) -> bool:
    """Ctrl-C during a library's import surfaces as e.g. ImportError("initialization failed")
    raised from the KeyboardInterrupt: still an interrupt, not a bug to show a traceback for."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
