"""The code's history, as the review and task commands read it: `git log`, `git blame`,
the upstream branch, a branch's change counts, and `git diff` handed to the user's
terminal. (Session logs are storage/log.py's; the viewer's bounded diffs, diffs.py's.)

Revisions from the command line reach git after `--end-of-options`, so a name that looks
like an option (`--output=x`) can never become one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .git import first_line

if TYPE_CHECKING:
    from .repo import Repository

# One commit per NUL-terminated record, its fields split by US: the message comes last.
_LOG_FORMAT = "%H%x1f%T%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%s%x1f%B"

# `Session: <id>` on a line of its own, anywhere in the message: a squash keeps each squashed
# commit's trailer in its own paragraph (git's trailer parser sees only the last paragraph),
# and `git merge --squash` indents them.
_SESSION_LINE = re.compile(r"^[ \t]*(?i:session)[ \t]*:[ \t]*([0-9a-hjkmnp-tv-z]{10})[ \t]*$", re.M)


class NotFound(ValueError):
    """What git could not find (a revision, a line to blame): its reason, one line."""


class CodeCommit:
    """A code commit as `log`, `why` and `pr` show it."""

    __slots__ = ("author", "date", "named", "parents", "sha", "subject", "tree")

    def __init__(
        self,
        sha: str,
        tree: str,
        parents: list[str],
        author: dict[str, str],
        date: str,
        subject: str,
        named: list[str],
    ) -> None:
        self.sha, self.tree, self.parents = sha, tree, parents
        self.author, self.date, self.subject = author, date, subject
        self.named = named  # session ids named by `Session:` lines, in order, each once

    def document(self) -> dict[str, Any]:
        return {
            "sha": self.sha,
            "subject": self.subject,
            "author": self.author,
            "date": self.date,
            "parents": self.parents,
            "trailers": self.named,
        }


def named_sessions(message: str) -> list[str]:
    """The session ids a commit message names with `Session: <id>` lines."""
    return list(dict.fromkeys(m.lower() for m in _SESSION_LINE.findall(message)))


def commits(repo: Repository, revs: list[str], options: tuple[str, ...] = ()) -> list[CodeCommit]:
    """The commits `git log OPTIONS REVS` lists, oldest first: one git process. NotFound
    with git's reason when a revision or range is unknown."""
    proc = repo.git.run(
        "log",
        "--reverse",
        "--topo-order",
        "-z",
        f"--format={_LOG_FORMAT}",
        *options,
        "--end-of-options",
        *revs,
        "--",
        check=False,
    )
    if proc.returncode != 0:
        raise NotFound(first_line(proc.stderr.decode("utf-8", "replace")))
    return _parse_log(proc.stdout)


def _parse_log(raw: bytes) -> list[CodeCommit]:
    found = []
    for record in raw.decode("utf-8", "replace").split("\0"):
        record = record.lstrip("\n")
        if not record:
            continue
        fields = (record.split("\x1f", 7) + [""] * 8)[:8]
        sha, tree, parents, name, email, date, subject, body = fields
        found.append(
            CodeCommit(
                sha,
                tree,
                parents.split(),
                {"name": name, "email": email},
                date,
                subject,
                named_sessions(body),
            )
        )
    return found


def blame_line(repo: Repository, relative: str, line: int) -> tuple[str, str]:
    """The commit that last changed line ``line`` of ``relative`` (a path from the top of
    the work tree), and the line's text; the sha is all zeros for an uncommitted line.
    NotFound with git's reason when there is no such file or line."""
    proc = repo.git.run("blame", "--porcelain", "-L", f"{line},{line}", "--", relative, check=False)
    if proc.returncode != 0:
        raise NotFound(first_line(proc.stderr.decode("utf-8", "replace")))
    out = proc.stdout.decode("utf-8", "replace").splitlines()
    sha = out[0].split()[0] if out else ""
    text = next((row[1:] for row in out if row.startswith("\t")), "")
    return sha, text


def described(
    repo: Repository, shas: list[str], trailer: str
) -> list[tuple[str, dict[str, Any], list[str]]]:
    """Each commit of ``shas`` (one `git log --no-walk`): its sha, {subject, tree,
    parents}, and the values of its ``trailer`` trailers."""
    trailers = f"%(trailers:key={trailer},valueonly,separator=%x2C)"
    out = repo.git.text("log", "--no-walk", f"--format=%H%x00%T%x00%P%x00%s%x00{trailers}", *shas)
    found = []
    for line in out.splitlines():
        sha, tree, parents, subject, values = ([*line.split("\x00"), "", "", "", ""])[:5]
        about = {"subject": subject, "tree": tree, "parents": parents.split()}
        found.append((sha, about, [v.strip() for v in values.split(",") if v.strip()]))
    return found


def upstream(repo: Repository) -> str:
    """The checked-out branch's upstream as a full ref name, or "" when it has none."""
    proc = repo.git.run("rev-parse", "--symbolic-full-name", "@{upstream}", check=False)
    return proc.stdout.decode("utf-8", "replace").strip() if proc.returncode == 0 else ""


def tree_of(repo: Repository, commit: str) -> str:
    return repo.git.text("rev-parse", "--verify", "--end-of-options", f"{commit}^{{tree}}")


def line_counts(repo: Repository, base: str, tip: str) -> tuple[int, int, int]:
    """Files changed, lines inserted and lines deleted from ``base`` to ``tip`` (renames
    count as a deletion and an addition; binary files count as changed, with no lines)."""
    numstat = repo.git.text("diff", "--numstat", "--no-renames", "--end-of-options", base, tip)
    files = insertions = deletions = 0
    for line in numstat.splitlines():
        added, removed, _ = line.split("\t", 2)
        files += 1
        insertions += int(added) if added.isdigit() else 0  # "-" for binary files
        deletions += int(removed) if removed.isdigit() else 0
    return files, insertions, deletions


def show_diff(repo: Repository, options: list[str], old: str, new: str, paths: list[str]) -> int:
    """`git diff OPTIONS OLD NEW [-- PATHS]` on the user's terminal, with git's own pager
    and colours (not the environment gitsess parses git's output in): its exit code."""
    import subprocess

    command = ["git", "diff", *options, old, new, *paths]
    return subprocess.run(command, cwd=repo.root_path, check=False).returncode
