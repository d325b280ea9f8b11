"""Running git: one place that spawns git processes and turns failures into errors."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence

from ..errors import GitsessError


class GitFailed(GitsessError):
    """A git command exited non-zero."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.git_args = list(args)
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(first_line(stderr) or f"git {' '.join(args)} failed ({returncode})")


def first_line(text: str) -> str:
    """The most telling line of git's stderr: its first 'fatal:'/'error:' line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line.split(":", 1)[1].strip()
    return lines[0] if lines else ""


class Git:
    """Runs git in one directory, with a fixed environment."""

    def __init__(self, cwd: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> None:
        self.cwd = cwd
        self.env = dict(os.environ if env is None else env)
        # gitsess parses git's output; keep it untranslated and unpaged.
        self.env["LC_ALL"] = "C"
        self.env.pop("GIT_PAGER", None)
        self.env["GIT_PAGER"] = "cat"

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        show_stderr: bool = False,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run git; ``show_stderr`` lets its messages and progress reach the terminal."""
        proc = subprocess.run(
            ["git", *args],
            cwd=self.cwd,
            input=input,
            stdout=subprocess.PIPE,
            stderr=None if show_stderr else subprocess.PIPE,
            env={**self.env, **env} if env else self.env,
        )
        if proc.stderr is None:
            proc.stderr = b""
        if check and proc.returncode != 0:
            raise GitFailed(args, proc.returncode, proc.stderr.decode("utf-8", "replace"))
        return proc

    def text(self, *args: str, check: bool = True) -> str:
        """stdout of a git command, decoded and without its final newline."""
        return self.run(*args, check=check).stdout.decode("utf-8", "surrogateescape").rstrip("\n")

    def ok(self, *args: str) -> bool:
        return self.run(*args, check=False).returncode == 0

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            ["git", *args],
            cwd=self.cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self.env,
        )


def config_value(cwd: str | None, name: str) -> str | None:
    """``git config --get NAME`` in ``cwd``, before any repository is opened (or outside
    one): None when unset."""
    found = subprocess.run(
        ["git", "config", "--get", name], cwd=cwd, capture_output=True, text=True, check=False
    )
    return found.stdout.rstrip("\n") if found.returncode == 0 else None
