"""Errors a user sees: one line on stderr and the SPEC's exit code."""

from __future__ import annotations

EXIT_FAILURE = 1
EXIT_USAGE = 2


class GitsessError(Exception):
    """An error meant for the user. ``exit_code`` follows SPEC section 6."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0])


class BadInput(GitsessError):
    """Bad usage or bad input: unknown session, malformed file, invalid title."""

    exit_code = EXIT_USAGE


class NotARepository(BadInput):
    pass


class SessionNotFound(BadInput):
    pass


class AmbiguousSession(BadInput):
    pass


class Conflict(GitsessError):
    """A concurrent writer kept winning; nothing was written."""
