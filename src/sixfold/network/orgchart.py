"""The formal organisation: people, departments and the reporting tree, as arrays.

Every analysis step addresses people by their row index here, so the graph code works on
integer arrays and never on identifier strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    email: str
    title: str
    department: str
    manager_id: str


@dataclass(frozen=True, slots=True)
class OrgChart:
    """People in a fixed order with department codes and manager indices (-1: no manager)."""

    people: tuple[Person, ...]
    departments: tuple[str, ...]
    department_of: IntArray
    manager_of: IntArray

    @property
    def size(self) -> int:
        return len(self.people)

    @property
    def ids(self) -> list[str]:
        return [person.id for person in self.people]

    def department_sizes(self) -> IntArray:
        return np.bincount(self.department_of, minlength=len(self.departments)).astype(np.int64)


def build_orgchart(people: list[Person]) -> OrgChart:
    """Index people; managers must already be known ids and the tree free of cycles."""
    departments = tuple(sorted({person.department for person in people}))
    code = {name: index for index, name in enumerate(departments)}
    index = {person.id: position for position, person in enumerate(people)}
    department_of = np.fromiter((code[p.department] for p in people), np.int64, len(people))
    manager_of = np.fromiter((index.get(p.manager_id, -1) for p in people), np.int64, len(people))
    return OrgChart(tuple(people), departments, department_of, manager_of)


def find_cycle_members(manager_of: dict[str, str]) -> set[str]:
    """People whose chain of managers loops back on itself (the chart is then not a tree)."""
    state: dict[str, int] = {}  # 1: on the current chain, 2: known to reach a root
    in_cycle: set[str] = set()
    for start in manager_of:
        chain: list[str] = []
        node: str | None = start
        while node is not None and node not in state:
            state[node] = 1
            chain.append(node)
            node = manager_of.get(node)
        if node is not None and state[node] == 1:
            in_cycle.update(chain[chain.index(node) :])
        for member in chain:
            state[member] = 2
    return in_cycle
