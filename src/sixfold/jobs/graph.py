"""State graphs: the states a job can be in, how each is retried, and where it may go next.

A graph is a class whose attributes are `State` declarations. It is checked when the class is
created, so a misspelt transition or a missing failure state stops the program at import time
instead of stranding rows in production.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

# Long enough for descriptive names, short enough for an indexed VARCHAR on every backend.
STATE_NAME_MAX_LENGTH = 64
_STATE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class InvalidStateGraph(TypeError):
    """A graph or a state machine model is declared inconsistently."""


@dataclass(frozen=True)
class Retry:
    """How a state's handler is retried after it raises.

    The n-th retry waits `base_seconds * factor ** (n - 1)`, capped at `max_seconds`, then
    spread by ±`jitter` (a fraction) so that rows failing together do not retry together.
    After `max_attempts` failures in the same state the row moves to the exhaustion state;
    `max_attempts=None` retries for ever.
    """

    base_seconds: float = 10.0
    factor: float = 2.0
    max_seconds: float = 3600.0
    jitter: float = 0.2
    max_attempts: int | None = 5

    def __post_init__(self) -> None:
        if self.base_seconds <= 0 or self.max_seconds < self.base_seconds:
            raise InvalidStateGraph("Retry needs 0 < base_seconds <= max_seconds")
        if self.factor < 1:
            raise InvalidStateGraph("Retry factor must be at least 1")
        if not 0 <= self.jitter < 1:
            raise InvalidStateGraph("Retry jitter is a fraction in [0, 1)")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise InvalidStateGraph("Retry max_attempts must be at least 1 (or None)")

    def delay_seconds(self, failures: int, rng: random.Random) -> float:
        """The wait before the next attempt, after `failures` failures (1 or more)."""
        # Cap the exponent so that factor ** exponent cannot overflow a float; by then the
        # delay has long reached max_seconds for any sensible factor.
        exponent = min(max(failures - 1, 0), 60)
        delay = min(self.base_seconds * self.factor**exponent, self.max_seconds)
        spread = self.jitter * (2 * rng.random() - 1)
        return delay * (1 + spread)

    def exhausted(self, failures: int) -> bool:
        return self.max_attempts is not None and failures >= self.max_attempts


@dataclass(frozen=True, init=False)
class State:
    """One state of a graph.

    - `to`: the states its handler may return.
    - `terminal`: the row is finished; no handler, no transitions.
    - `external`: no handler; the row waits until application code moves it on
      (for example an approval) with `transition_to`.
    - `poll_seconds`: when the handler returns None ("not yet"), try again after this long.
    - `retry`: backoff and attempt limit when the handler raises.
    - `on_exhausted`: where to go when attempts run out; defaults to the graph's failure state.
    """

    to: tuple[str, ...] = ()
    terminal: bool = False
    external: bool = False
    poll_seconds: float = 60.0
    retry: Retry = Retry()
    on_exhausted: str | None = None

    def __init__(
        self,
        to: Iterable[str] = (),
        *,
        terminal: bool = False,
        external: bool = False,
        poll_seconds: float = 60.0,
        retry: Retry | None = None,
        on_exhausted: str | None = None,
    ) -> None:
        # A hand-written __init__ so that `to` accepts any iterable (a list reads naturally)
        # while the stored value stays an immutable tuple.
        object.__setattr__(self, "to", tuple(to))
        object.__setattr__(self, "terminal", terminal)
        object.__setattr__(self, "external", external)
        object.__setattr__(self, "poll_seconds", poll_seconds)
        object.__setattr__(self, "retry", retry or Retry())
        object.__setattr__(self, "on_exhausted", on_exhausted)

    @property
    def automatic(self) -> bool:
        """Whether the runner works on rows in this state."""
        return not (self.terminal or self.external)


class StateGraph:
    """Base class of state graphs; subclasses declare `State` attributes.

    `initial` (default: the first declared state) is where new rows start; `failure`, a
    terminal state, is where rows go when a state's attempts are exhausted::

        class ImportState(StateGraph, initial="queued", failure="failed"):
            queued = State(to=["importing"])
            importing = State(to=["done"], retry=Retry(max_attempts=3))
            done = State(terminal=True)
            failed = State(terminal=True)
    """

    states: ClassVar[dict[str, State]]
    initial: ClassVar[str]
    failure: ClassVar[str | None]

    def __init_subclass__(
        cls, *, initial: str | None = None, failure: str | None = None, **kwargs: object
    ) -> None:
        super().__init_subclass__(**kwargs)
        states = {name: value for name, value in vars(cls).items() if isinstance(value, State)}
        if not states:
            raise InvalidStateGraph(f"{cls.__name__} declares no states")
        cls.states = states
        cls.initial = initial if initial is not None else next(iter(states))
        cls.failure = failure
        _check_graph(cls)

    @classmethod
    def automatic_states(cls) -> list[str]:
        return [name for name, state in cls.states.items() if state.automatic]

    @classmethod
    def handler_name(cls, state: str) -> str:
        return f"handle_{state}"

    @classmethod
    def exhaustion_target(cls, state: str) -> str:
        target = cls.states[state].on_exhausted or cls.failure
        if target is None:  # Excluded by _check_graph for states with an attempt limit.
            raise InvalidStateGraph(f"{cls.__name__}.{state} has nowhere to go when exhausted")
        return target

    @classmethod
    def check_state(cls, state: str) -> State:
        try:
            return cls.states[state]
        except KeyError:
            raise InvalidStateGraph(f"{cls.__name__} has no state {state!r}") from None


def _check_graph(graph: type[StateGraph]) -> None:
    name = graph.__name__
    if graph.initial not in graph.states:
        raise InvalidStateGraph(f"{name}: initial state {graph.initial!r} is not declared")
    if graph.failure is not None:
        failure = graph.states.get(graph.failure)
        if failure is None or not failure.terminal:
            raise InvalidStateGraph(
                f"{name}: failure state {graph.failure!r} must be a declared terminal state"
            )
    for state_name, state in graph.states.items():
        _check_state(graph, state_name, state)


def _check_state(graph: type[StateGraph], state_name: str, state: State) -> None:
    where = f"{graph.__name__}.{state_name}"
    if not _STATE_NAME.match(state_name) or len(state_name) > STATE_NAME_MAX_LENGTH:
        raise InvalidStateGraph(f"{where}: state names are short lower_snake_case identifiers")
    # A state named like a graph attribute or method would be overwritten by it.
    if state_name in {"states", "initial", "failure"} or state_name in vars(StateGraph):
        raise InvalidStateGraph(f"{where}: {state_name!r} is reserved by StateGraph")
    if state.terminal and state.external:
        raise InvalidStateGraph(f"{where}: a state is terminal or external, not both")
    if state.terminal and state.to:
        raise InvalidStateGraph(f"{where}: a terminal state has no transitions")
    if state.poll_seconds <= 0:
        raise InvalidStateGraph(f"{where}: poll_seconds must be positive")
    for target in state.to:
        if target not in graph.states:
            raise InvalidStateGraph(f"{where}: transition to undeclared state {target!r}")
    if state.on_exhausted is not None and state.on_exhausted not in graph.states:
        raise InvalidStateGraph(f"{where}: on_exhausted names undeclared {state.on_exhausted!r}")
    limited = state.automatic and state.retry.max_attempts is not None
    if limited and state.on_exhausted is None and graph.failure is None:
        raise InvalidStateGraph(
            f"{where}: attempts are limited but neither on_exhausted nor the graph's "
            "failure state says where exhausted rows go"
        )
