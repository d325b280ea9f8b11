"""Pins: the sessions a person keeps at the top. Personal, so they live in the repository's
own config (`gitsess.pin`, one value per session), which no push or fetch carries."""

from __future__ import annotations

from .git import GitFailed
from .repo import Repository

PIN_KEY = "gitsess.pin"
ATTEMPTS = 20  # git config takes a lock file; another writer holding it makes us retry


def pinned(repo: Repository) -> list[str]:
    """Pinned session ids, in the order they were pinned."""
    proc = repo.git.run("config", "--local", "--get-all", PIN_KEY, check=False)
    seen: list[str] = []
    for value in proc.stdout.decode("utf-8", "replace").splitlines():
        if value and value not in seen:
            seen.append(value)
    return seen


def pin(repo: Repository, session_id: str) -> bool:
    """Pin ``session_id``; False when it already was."""
    if session_id in pinned(repo):
        return False
    _config(repo, "--add", PIN_KEY, session_id)
    return True


def unpin(repo: Repository, session_id: str) -> bool:
    """Unpin ``session_id``; False when it was not pinned."""
    if session_id not in pinned(repo):
        return False
    # The value is a session id (letters and digits): as a pattern it matches only itself.
    _config(repo, "--unset-all", PIN_KEY, f"^{session_id}$")
    return True


def _config(repo: Repository, *args: str) -> None:
    import time

    for attempt in range(ATTEMPTS):
        try:
            repo.git.run("config", "--local", *args)
            return
        except GitFailed as exc:
            if "lock" not in exc.stderr or attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
