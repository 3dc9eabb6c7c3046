"""Small helpers shared by the risk tests: a context on a given day and finding look-ups."""

from __future__ import annotations

import datetime as dt

from sixfold.risk import Context, EventRegister, Finding, Policy, Verdict, check_text


def on(day: str, *, policy: Policy | None = None, events: EventRegister | None = None) -> Context:
    when = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(12), tzinfo=dt.UTC)
    return Context(when=when, policy=policy or Policy(), events=events or EventRegister.builtin())


# An ordinary day with no built-in remembrance date.
QUIET_DAY = "2024-03-05"


def check(
    text: str,
    day: str = QUIET_DAY,
    *,
    policy: Policy | None = None,
    events: EventRegister | None = None,
) -> Verdict:
    return check_text(text, on(day, policy=policy, events=events))


def by_scanner(verdict: Verdict, scanner: str) -> list[Finding]:
    return [f for f in verdict.findings if f.scanner == scanner]


def flagged_by(text: str, scanner: str, day: str = QUIET_DAY) -> list[Finding]:
    """Findings of one scanner that would hold the post back (review or block)."""
    verdict = check(text, day)
    return [f for f in by_scanner(verdict, scanner) if f.severity.value != "info"]
