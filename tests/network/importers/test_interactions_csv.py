"""Interactions CSV: repeated columns, rows of extra fields and lines spanned by quoted fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from sixfold.network.importers import ImportAborted, load_interactions_csv
from tests.network.importers.helpers import messages, write

AT = "2026-01-05"


@pytest.mark.parametrize(
    ("header", "spellings"),
    [
        ("timestamp,source,target,Source", "'source' and 'Source'"),
        ("timestamp,source , source,target", "'source ' and ' source'"),
        ("timestamp,source,target,TARGET,kind", "'target' and 'TARGET'"),
        ("Timestamp,source,target,timestamp", "'Timestamp' and 'timestamp'"),
        ("timestamp,source,target,kind,Kind", "'kind' and 'Kind'"),
        ("timestamp,source,target,source", "'source' and 'source'"),
    ],
)
def test_a_column_named_twice_is_refused(tmp_path: Path, header: str, spellings: str) -> None:
    path = write(tmp_path, "i.csv", f"{header}\n{AT},a,b,c,d\n")
    with pytest.raises(
        ImportAborted, match=f"i.csv: the header names the column .* twice \\({spellings}\\)"
    ):
        load_interactions_csv(path)


def test_columns_the_importer_does_not_read_may_repeat(tmp_path: Path) -> None:
    path = write(tmp_path, "i.csv", f"timestamp,source,target,note,Note,,\n{AT},a,b,x,y,,\n")
    assert load_interactions_csv(path).frame.height == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A quoted field spanning two lines puts the next row on line 4, not 3.
        (
            f'timestamp,source,target,kind\n{AT},a,b,"re\nply"\n{AT},a,,x\n',
            ["i.csv:4: empty source or target"],
        ),
        (
            f'timestamp,source,target,kind\n{AT},a,b,"r\ne\np"\n\n{AT},a,,x\n',
            ["i.csv:5: empty line", "i.csv:6: empty source or target"],
        ),
        (
            f'timestamp,source,target,"no\nte"\n{AT},a,,x\n{AT},a,b,y\n',
            ["i.csv:3: empty source or target"],
        ),
        (
            f'timestamp,source,target,kind\r\n{AT},a,b,"x\r\ny"\r\nbad,a,b,\r\n',
            ["i.csv:4: timestamp is neither ISO 8601 nor Unix seconds"],
        ),
        # The same through the csv module, which reads files that have rows of extra fields.
        (
            f'timestamp,source,target,kind\n{AT},a,b,"re\nply"\n{AT},a,,x\n{AT},a,b,c,d\n',
            ["i.csv:4: empty source or target", "i.csv:5: 5 fields, but the header has 4"],
        ),
    ],
)
def test_problems_name_the_line_a_row_starts_on(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    result = load_interactions_csv(write(tmp_path, "i.csv", text))
    assert messages(result.problems) == expected
    assert result.problem_count == len(expected)
    assert result.frame.height == 1


@pytest.mark.parametrize(
    ("rows", "problems"),
    [
        ([f"{AT},a,b,EXTRA"], ["i.csv:3: 4 fields, but the header has 3"]),
        (
            [f"{AT},a,b,,,MORE", f"{AT}"],
            ["i.csv:3: 6 fields, but the header has 3", "i.csv:4: empty source or target"],
        ),
        (
            [f'{AT},a,b,"x,y"', "bad,a,b"],
            [
                "i.csv:3: 4 fields, but the header has 3",
                "i.csv:4: timestamp is neither ISO 8601 nor Unix seconds",
            ],
        ),
        ([f"{AT},a,b,,", f"{AT},a,b, "], []),  # extra fields that are blank lose nothing
    ],
)
def test_rows_with_extra_fields_are_reported_not_truncated(
    tmp_path: Path, rows: list[str], problems: list[str]
) -> None:
    text = "timestamp,source,target\n" + f"{AT},c,d\n" + "\n".join(rows) + "\n"
    result = load_interactions_csv(write(tmp_path, "i.csv", text))
    assert messages(result.problems) == problems
    assert result.problem_count == len(problems)
    assert set(result.frame["source"].to_list()) <= {"a", "c"}
    assert "c" in result.frame["source"].to_list()


def test_rows_with_extra_fields_in_a_utf16_file(tmp_path: Path) -> None:
    text = f"timestamp,source,target\n{AT},a,b\n{AT},a,b,x\n"
    result = load_interactions_csv(write(tmp_path, "i.csv", text.encode("utf-16")))
    assert messages(result.problems) == ["i.csv:3: 4 fields, but the header has 3"]
    assert result.frame.height == 1


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('"timestamp' + "x" * 200_000 + ",source\n", "the header line is not readable CSV"),
        ("\ntimestamp,source,target\n", "the first line is empty"),
    ],
)
def test_an_unreadable_header_is_refused(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ImportAborted, match=f"i.csv: {match}"):
        load_interactions_csv(write(tmp_path, "i.csv", text))
