"""The YAML files people hand the engine (the policy, an event register), read defensively.

Both are small lists and mappings of plain values, so anything beyond that is refused before
it can cost memory: a file over ``MAX_BYTES``, and anchors with aliases, which let a few
hundred bytes of nested aliases expand to gigabytes once read ("billion laughs").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 10 * 2**20


class _WithoutAliases(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in this file", mark
            )
        return super().compose_node(parent, index)


def read_yaml(path: Path | str) -> Any:
    """The file's data. Raises ValueError when it is too large or not valid YAML (a
    ``yaml.YAMLError``, which names the line) and OSError when it cannot be read."""
    with Path(path).open("rb") as file:
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES // 2**20} MiB")
    loader = _WithoutAliases(data.decode("utf-8"))
    try:
        return loader.get_single_data()
    except yaml.YAMLError as error:
        raise ValueError(str(error)) from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    finally:
        loader.dispose()
