"""People CSV: an unreadable header is refused clearly; rows are reported on the line they start."""

from __future__ import annotations

from pathlib import Path

import pytest

from sixfold.network.importers import ImportAborted, load_people
from tests.network.importers.helpers import messages, write

HEADER = "id,name,email,title,department,manager_id\n"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('"id' + "x" * 200_000 + ",name\n", "the header line is not readable CSV"),
        ('id,"department' + "\n" * 10 + "x" * 200_000, "the header line is not readable CSV"),
        ("id,department,Department\na,X,Y\n", "the header names the column 'department' twice"),
        ("", "missing column"),
    ],
)
def test_an_unreadable_header_is_refused(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ImportAborted, match=f"p.csv: {match}"):
        load_people(write(tmp_path, "p.csv", text))


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            '"' + "x" * 200_000 + "\n",
            ["p.csv:2: unreadable CSV: field larger than field limit (131072)"],
        ),
        ('a,"A\nA",,,X,\n,NoId,,,X,\n', ["p.csv:4: empty id; row skipped"]),
        (',"No\nId",,,X,\n', ["p.csv:2: empty id; row skipped"]),
        (
            'a,A,,"T\n\nT",X,\n\nb,B,,,X,zz\n',
            ["p.csv:6: 'b' has unknown manager 'zz'; link dropped"],
        ),
        ("a,A,,,X,,EXTRA\nb,B,,,X,,,\n", ["p.csv:2: 7 fields, but the header has 6; row skipped"]),
    ],
)
def test_problems_name_the_line_a_row_starts_on(
    tmp_path: Path, rows: str, expected: list[str]
) -> None:
    _, problems = load_people(write(tmp_path, "p.csv", HEADER + rows))
    assert messages(problems) == expected
