"""JSON for programs: one document on stdout, for the quick paths and the CLI alike."""

from __future__ import annotations

import sys

# typing's flag without importing typing (the hot paths print JSON too).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def emit_json(document: Any) -> None:
    import json  # not at the top: --version, capture and hook never print JSON

    # Indented for a person at a terminal; compact (and much faster) for programs.
    indent = 2 if sys.stdout.isatty() else None
    try:
        print(json.dumps(document, ensure_ascii=False, indent=indent))
    except UnicodeEncodeError:  # lone surrogates (imported as such): \u escapes carry them
        print(json.dumps(document, indent=indent))
