"""`gitsess doctor`'s report for people: one line per finding, what --fix did under it."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from ..doctor import ADVICE, ERROR, WARNING, Report

STYLES = {ERROR: "bold red", WARNING: "yellow", ADVICE: "cyan"}
INDENT = " " * 21


def doctor_view(out: Console, report: Report) -> None:
    for finding in report.findings:
        line = Text()
        line.append(f"{finding.severity:<8} ", style=STYLES.get(finding.severity, ""))
        line.append(f"{finding.session or '-':<11} ", style="yellow")
        line.append(f"{finding.check}: {finding.message}")
        out.print(line)
        if finding.fixed:
            out.print(Text(f"{INDENT}fixed: {finding.fixed}", style="green"))
        if finding.not_fixed:
            out.print(Text(f"{INDENT}not fixed: {finding.not_fixed}", style="red"))
    out.print(Text(summary(report), style="bold"))


def summary(report: Report) -> str:
    checked = f"Checked {len(report.sessions)} session{'s' if len(report.sessions) != 1 else ''}"
    if not report.findings:
        return f"{checked}: no problems."
    if not report.count(ERROR) and not report.count(WARNING):
        return f"{checked}: no problems ({report.count(ADVICE)} advice above)."
    counts = [
        f"{n} {word}"
        for n, word in (
            (report.count(ERROR), "error" if report.count(ERROR) == 1 else "errors"),
            (report.count(WARNING), "warning" if report.count(WARNING) == 1 else "warnings"),
            (report.count(ADVICE), "advice"),
        )
        if n
    ]
    text = f"{checked}: {', '.join(counts)}."
    if report.fix:
        fixed = sum(1 for f in report.findings if f.fixed)
        unfixed = sum(1 for f in report.findings if f.not_fixed)
        text += f" Fixed {fixed}" + (f"; {unfixed} could not be fixed." if unfixed else ".")
    elif any(f.severity != ADVICE for f in report.findings):
        text += " `gitsess doctor --fix` repairs what it can without losing anything."
    if report.remaining:
        count = len(report.remaining)
        text += f" {count} error{'s' if count != 1 else ''} remain{'s' if count == 1 else ''}."
    return text
