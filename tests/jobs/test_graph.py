"""State graphs and state machine models are checked when their classes are created."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sixfold.jobs import InvalidStateGraph, Job, Retry, State, StateGraph, StateMachineMixin
from tests.jobs.machines import DeliveryState


def test_graph_collects_its_states_and_defaults() -> None:
    assert list(DeliveryState.states) == ["queued", "sending", "sent", "cancelled", "failed"]
    assert DeliveryState.initial == "queued"
    assert DeliveryState.failure == "failed"
    assert DeliveryState.automatic_states() == ["queued", "sending"]
    assert DeliveryState.exhaustion_target("sending") == "failed"


def test_initial_state_defaults_to_the_first_declared() -> None:
    class Graph(StateGraph):
        first = State(to=["second"], retry=Retry(max_attempts=None))
        second = State(terminal=True)

    assert Graph.initial == "first"
    assert Graph.failure is None


def test_per_state_exhaustion_target_wins_over_the_graph_failure() -> None:
    class Graph(StateGraph, failure="failed"):
        trying = State(to=["done"], on_exhausted="given_up")
        done = State(terminal=True)
        given_up = State(terminal=True)
        failed = State(terminal=True)

    assert Graph.exhaustion_target("trying") == "given_up"


INVALID_GRAPHS: dict[str, Callable[[], object]] = {
    "transition to undeclared state 'sent'": lambda: type(
        "G", (StateGraph,), {"a": State(to=["sent"]), "b": State(terminal=True)}
    ),
    "initial state 'nope' is not declared": lambda: _graph(initial="nope"),
    "failure state 'a' must be a declared terminal state": lambda: _graph(failure="a"),
    "failure state 'zzz' must be a declared terminal state": lambda: _graph(failure="zzz"),
    "neither on_exhausted nor the graph's failure state": lambda: _graph(),
    "a terminal state has no transitions": lambda: type(
        "G", (StateGraph,), {"a": State(terminal=True, to=["a"])}
    ),
    "terminal or external, not both": lambda: type(
        "G", (StateGraph,), {"a": State(terminal=True, external=True)}
    ),
    "on_exhausted names undeclared 'lost'": lambda: type(
        "G", (StateGraph,), {"a": State(on_exhausted="lost"), "b": State(terminal=True)}
    ),
    "declares no states": lambda: type("G", (StateGraph,), {}),
    "'states' is reserved": lambda: type("G", (StateGraph,), {"states": State(terminal=True)}),
    "lower_snake_case": lambda: type("G", (StateGraph,), {"Sending": State(terminal=True)}),
    "poll_seconds must be positive": lambda: type(
        "G", (StateGraph,), {"a": State(poll_seconds=0, retry=Retry(max_attempts=None))}
    ),
}


def _graph(**options: str) -> type[StateGraph]:
    class Graph(StateGraph, **options):
        a = State(to=["b"])
        b = State(terminal=True)

    return Graph


@pytest.mark.parametrize("message", list(INVALID_GRAPHS))
def test_inconsistent_graph_is_rejected_at_class_creation(message: str) -> None:
    with pytest.raises(InvalidStateGraph, match=re.escape(message)):
        INVALID_GRAPHS[message]()


class _ModelGraph(StateGraph, failure="failed"):
    waiting = State(external=True, to=["working"])
    working = State(to=["done"])
    done = State(terminal=True)
    failed = State(terminal=True)


def test_model_needs_a_handler_for_every_automatic_state() -> None:
    class Base(DeclarativeBase):
        pass

    with pytest.raises(InvalidStateGraph, match=r"lacks handle_working\(\)"):

        class Broken(StateMachineMixin, Base):
            __tablename__ = "broken"
            state_graph = _ModelGraph
            id: Mapped[int] = mapped_column(primary_key=True)

    # Checked before mapping: the broken class left nothing behind in the metadata.
    assert "broken" not in Base.metadata.tables


def test_model_handler_for_a_state_that_never_runs_is_a_mistake() -> None:
    class Base(DeclarativeBase):
        pass

    with pytest.raises(InvalidStateGraph, match="handle_done would never run"):

        class Confused(StateMachineMixin, Base):
            __tablename__ = "confused"
            state_graph = _ModelGraph
            id: Mapped[int] = mapped_column(primary_key=True)

            def handle_working(self, job: Job) -> str | None:
                return "done"

            def handle_done(self, job: Job) -> str | None:
                return None


def test_model_needs_a_graph() -> None:
    class Base(DeclarativeBase):
        pass

    with pytest.raises(InvalidStateGraph, match="must name a StateGraph subclass"):

        class Graphless(StateMachineMixin, Base):
            __tablename__ = "graphless"
            id: Mapped[int] = mapped_column(primary_key=True)


def test_abstract_and_tableless_intermediates_are_not_checked() -> None:
    class Base(DeclarativeBase):
        pass

    class Abstract(StateMachineMixin, Base):
        __abstract__ = True

    class Intermediate(StateMachineMixin):
        pass

    class Concrete(Intermediate, Base):
        __tablename__ = "concrete"
        state_graph = _ModelGraph
        id: Mapped[int] = mapped_column(primary_key=True)

        def handle_working(self, job: Job) -> str | None:
            return "done"

    assert Abstract.__abstract__
    column = Concrete.__table__.c.state
    assert column.index
    assert column.default is not None
    assert column.default.arg == "waiting"


def test_retry_backs_off_exponentially_up_to_the_cap() -> None:
    retry = Retry(base_seconds=10, factor=3, max_seconds=200, jitter=0)
    rng = random.Random(1)
    assert [retry.delay_seconds(n, rng) for n in range(1, 6)] == [10, 30, 90, 200, 200]
    assert not retry.exhausted(4)
    assert retry.exhausted(5)
    assert not Retry(max_attempts=None).exhausted(10_000)


@given(
    failures=st.integers(min_value=1, max_value=10_000),
    seed=st.integers(min_value=0, max_value=2**32),
    jitter=st.floats(min_value=0, max_value=0.99),
)
def test_jitter_stays_within_its_fraction(failures: int, seed: int, jitter: float) -> None:
    retry = Retry(base_seconds=5, factor=2, max_seconds=600, jitter=jitter)
    nominal = min(5 * 2 ** min(failures - 1, 60), 600)
    delay = retry.delay_seconds(failures, random.Random(seed))
    assert nominal * (1 - jitter) - 1e-9 <= delay <= nominal * (1 + jitter) + 1e-9


@pytest.mark.parametrize(
    "options",
    [
        {"base_seconds": 0},
        {"base_seconds": 10, "max_seconds": 5},
        {"factor": 0.5},
        {"jitter": 1},
        {"max_attempts": 0},
    ],
)
def test_retry_rejects_nonsense(options: dict[str, float]) -> None:
    with pytest.raises(InvalidStateGraph):
        Retry(**options)  # type: ignore[arg-type]  # deliberately mixed option types
