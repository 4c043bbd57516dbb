"""Benchmarks of the pipeline, each a module run from the project root as `python -m bench.<name>`.

`python -m bench.report` runs every module with a `main()` and writes docs/benchmarks.md. The bench
reads public datasets in place from ../shared and never fetches a model from a hub, so importing the
package sets the hubs offline before any library that would look.
"""
from __future__ import annotations

import os
from pathlib import Path

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("HF_DATASETS_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(_name, _value)

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
