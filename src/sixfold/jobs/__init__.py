"""Durable state machines: long work is a row in a state, moved on by handlers under a lease.

- `StateGraph` / `State` / `Retry` declare the states, transitions and retry policy.
- `StateMachineMixin` adds the state, schedule and lease columns to a model, whose
  `handle_<state>(self, job)` methods return the next state (None: try again later).
- `Runner` claims due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and runs the handlers;
  `run_single_cycle()` steps it once, `run_forever(stop)` is the worker loop.
"""

from sixfold.jobs.graph import InvalidStateGraph, Retry, State, StateGraph
from sixfold.jobs.models import ProgressMixin, StateMachineMixin
from sixfold.jobs.runner import IllegalTransition, Job, LeaseLost, Runner, describe_error

__all__ = [
    "IllegalTransition",
    "InvalidStateGraph",
    "Job",
    "LeaseLost",
    "ProgressMixin",
    "Retry",
    "Runner",
    "State",
    "StateGraph",
    "StateMachineMixin",
    "describe_error",
]
