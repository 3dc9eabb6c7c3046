"""Columns and helpers that make a SQLAlchemy model a durable state machine."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Self, cast

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from sixfold.db import UTCDateTime, utcnow
from sixfold.jobs.graph import STATE_NAME_MAX_LENGTH, InvalidStateGraph, StateGraph

WORKER_ID_MAX_LENGTH = 200


class StateMachineMixin:
    """Mix into a declarative model (before the base class) and set `state_graph`.

    The model must define `handle_<state>(self, job) -> str | None` for every state the runner
    works on (neither terminal nor external); this is checked when the class is created.
    `next_attempt_at` NULL means "not due": terminal and external states are never claimed.
    """

    state_graph: ClassVar[type[StateGraph]]

    @declared_attr
    def state(cls) -> Mapped[str]:  # noqa: N805 - declared_attr is called with the class
        return mapped_column(
            String(STATE_NAME_MAX_LENGTH), index=True, default=cls.state_graph.initial
        )

    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), index=True, default=utcnow
    )
    # Failures in the current state; reset when the state changes.
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by: Mapped[str | None] = mapped_column(String(WORKER_ID_MAX_LENGTH))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Checked before SQLAlchemy maps the class, so a broken model never reaches the
        # registry or the metadata.
        _check_model(cls)
        super().__init_subclass__(**kwargs)

    @classmethod
    def create(
        cls,
        session: Session,
        *,
        state: str | None = None,
        not_before: datetime | None = None,
        now: datetime | None = None,
        **values: Any,
    ) -> Self:
        """Add a row in `state` (default: the graph's initial state) to `session`.

        Nothing is committed here: the row becomes visible to workers only when the caller's
        transaction, holding the change that caused it, commits. `not_before` delays the first
        attempt (a scheduled post).
        """
        # The mixin cannot know the concrete model's constructor, hence the cast.
        row = cast(Any, cls)(**values)
        row.transition_to(state or cls.state_graph.initial, now=now, not_before=not_before)
        session.add(row)
        return cast(Self, row)

    def transition_to(
        self, state: str, *, now: datetime | None = None, not_before: datetime | None = None
    ) -> None:
        """Move to `state` from outside a handler (an approval, a cancellation, a retry).

        The lease is cleared, so a handler still running on this row cannot commit its result
        over this decision. Commit through the caller's session.
        """
        definition = self.state_graph.check_state(state)
        moment = now or utcnow()
        self.state = state
        self.state_changed_at = moment
        self.attempts = 0
        self.last_error = None
        self.next_attempt_at = (not_before or moment) if definition.automatic else None
        self.locked_until = None
        self.locked_by = None

    @property
    def is_finished(self) -> bool:
        return self.state_graph.check_state(self.state).terminal


class ProgressMixin:
    """Progress of a long job, for a page to show; updated with `Job.report_progress`."""

    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None] = mapped_column()


def _check_model(cls: type[StateMachineMixin]) -> None:
    if cls.__dict__.get("__abstract__", False) or not _will_be_mapped(cls):
        return
    graph = getattr(cls, "state_graph", None)
    if not (isinstance(graph, type) and issubclass(graph, StateGraph)) or graph is StateGraph:
        raise InvalidStateGraph(f"{cls.__name__}.state_graph must name a StateGraph subclass")
    for name, state in graph.states.items():
        handler = getattr(cls, graph.handler_name(name), None)
        if state.automatic and not callable(handler):
            raise InvalidStateGraph(
                f"{cls.__name__} lacks {graph.handler_name(name)}() for state {name!r}"
            )
        if not state.automatic and handler is not None:
            raise InvalidStateGraph(
                f"{cls.__name__}.{graph.handler_name(name)} would never run: "
                f"{name!r} is {'terminal' if state.terminal else 'external'}"
            )


def _will_be_mapped(cls: type) -> bool:
    # Intermediate mixins (no table) are not checked; concrete models and subclasses in a
    # single-table hierarchy are.
    return any("__tablename__" in vars(k) or "__table__" in vars(k) for k in cls.__mro__)
