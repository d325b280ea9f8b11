"""Errors a user sees: one line on stderr and the format's exit code."""

from __future__ import annotations

EXIT_FAILURE = 1
EXIT_USAGE = 2


class GitsessError(Exception):
    """An error meant for the user. ``exit_code`` follows docs/format.md section 7."""

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


class BrokenSession(BadInput):
    """A session whose ref or log cannot be read: a missing object, a session.json that is
    not JSON (exit 2, bad data), or objects a partial clone cannot fetch (exit 1)."""

    def __init__(self, session_id: str, problem: str, exit_code: int | None = None) -> None:
        self.session_id = session_id
        self.problem = problem
        super().__init__(
            f"session {session_id} is unreadable: {problem} (see `gitsess doctor`)", exit_code
        )


class Conflict(GitsessError):
    """A concurrent writer kept winning; nothing was written."""
