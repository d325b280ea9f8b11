"""Entry point of `gitsess` and `git-session`: run the CLI, turn failures into one line."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or bool(os.environ.get("GITSESS_DEBUG"))
    # Logs keep text as it came, lone surrogates included (JSON escapes them); a terminal
    # or pipe gets those escaped too instead of the command failing half-way.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")
    from .render.safe import install

    saved = install()  # nothing printed can drive the terminal (render/safe.py)
    try:
        return _main(args, debug)
    finally:
        sys.stdout, sys.stderr = saved


def _main(args: list[str], debug: bool) -> int:
    try:
        from .quick import dispatch

        answered = dispatch(args)  # hot paths, without click or rich
        return answered if answered is not None else _run(args)
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`gitsess list | head`): not an error worth a message.
        from .render.safe import raw

        raw(sys.stderr).close()
        return 1
    except Exception as exc:  # the last line of defence: no traceback unless asked
        from .errors import GitsessError

        if isinstance(exc, GitsessError):
            _fail(exc.message)
            return exc.exit_code
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)")
        return 1


def _run(args: list[str]) -> int:
    import click

    from .cli import cli

    try:
        result = cli.main(args=args, prog_name=_prog_name(), standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted")
        return 130
    except click.exceptions.NoArgsIsHelpError as exc:  # `gitsess` alone: the help, as asked
        print(exc.ctx.get_help() if exc.ctx else "")
        return 0
    except click.ClickException as exc:
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        _fail(exc.format_message() + hint)
        return exc.exit_code
    return result if isinstance(result, int) else 0


def _prog_name() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "gitsess"
    return "git session" if name == "git-session" else "gitsess"


def _fail(message: str) -> None:
    line = " ".join(message.split())
    print(f"gitsess: {line}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
