"""Where a file channel set up through the web may write."""

from __future__ import annotations

from pathlib import Path

import pytest

from sixfold.channels import manage
from sixfold.errors import ValidationFailed


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("a\x00b.jsonl", "contains a control character"),
        ("dry\r\n.jsonl", "contains a control character"),
        ("dry\x85.jsonl", "contains a control character"),
        ("\ud800.jsonl", "is not one this server can use"),  # a lone surrogate: no bytes for it
    ],
)
def test_a_file_name_the_system_cannot_take_is_refused_by_name(
    tmp_path: Path, raw: str, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=f"The file name {message}"):
        manage.file_path_setting(tmp_path, raw)


def test_a_plain_name_lands_in_the_channels_folder(tmp_path: Path) -> None:
    expected = (tmp_path / "channels" / "dry.jsonl").resolve()
    assert manage.file_path_setting(tmp_path, " dry.jsonl ") == str(expected)
