"""Slack and Mattermost records whose fields hold the wrong JSON type: reported, never fatal.

Every field an importer reads is tried with every JSON type it should not hold; the import
must go on, name the field at the record's place, and keep the well-formed record beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sixfold.network.importers import load_mattermost_export, load_mbox, load_slack_export
from tests.network.importers.helpers import mattermost_jsonl, messages, slack_zip, write

AT = 1767600000  # 2026-01-05, in seconds
SAMPLES: dict[str, Any] = {
    "number": 5,
    "float": 1.5,
    "bool": True,
    "text": "x",
    "list": ["x"],
    "object": {"x": 1},
}
TEXT_FIELD = ("number", "float", "bool", "list", "object")
LIST_FIELD = ("number", "float", "bool", "text", "object")
TIME_FIELD = ("bool", "text", "list", "object")


def _cases(fields: dict[str, tuple[str, ...]]) -> list[Any]:
    return [
        pytest.param(field, SAMPLES[kind], id=f"{field}={kind}")
        for field, kinds in fields.items()
        for kind in kinds
    ]


SLACK_FIELDS = {
    "user": TEXT_FIELD,
    "ts": TIME_FIELD,
    "subtype": TEXT_FIELD,
    "text": TEXT_FIELD,
    "thread_ts": TEXT_FIELD,
    "parent_user_id": TEXT_FIELD,
    "reactions": LIST_FIELD,
}


@pytest.mark.parametrize(("field", "value"), _cases(SLACK_FIELDS))
def test_slack_field_of_wrong_type_is_reported(tmp_path: Path, field: str, value: Any) -> None:
    bad = {"user": "U1", "ts": f"{AT}.1", "thread_ts": f"{AT}.0", "parent_user_id": "U2"}
    path = slack_zip(
        tmp_path, [bad | {field: value}, {"user": "U2", "ts": f"{AT}.2", "text": "<@U1>"}]
    )
    result = load_slack_export(path)
    assert ("bob@x.org", "ann@x.org", "mention") in result.frame.select(
        "source", "target", "kind"
    ).rows()
    assert any(
        m.startswith("general/2026-01-05.json message 1:") and field in m
        for m in messages(result.problems)
    )


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ([5], "reactions: 1 not objects; ignored"),
        ([{"users": 5}], "reaction 1: users is a number, not a list; ignored"),
        ([{"users": [5, None, "U2"]}], "reaction 1: users: 2 not text; ignored"),
    ],
)
def test_slack_reaction_entries_of_wrong_type(tmp_path: Path, entries: Any, problem: str) -> None:
    path = slack_zip(tmp_path, [{"user": "U1", "ts": f"{AT}.1", "reactions": entries}])
    result = load_slack_export(path)
    assert any(m.endswith(problem) for m in messages(result.problems))


@pytest.mark.parametrize(
    ("users", "problem"),
    [
        (5, "users.json: is a number, not a list of users; ignored"),
        ([5], "users.json user 1: is a number, not an object; skipped"),
        ([{"id": 5}], "users.json user 1: user whose id is a number, not text; skipped"),
        (
            [{"id": "U1", "profile": 5}],
            "users.json user 1: profile is a number, not an object; ignored",
        ),
        (
            [{"id": "U1", "profile": {"email": [1]}}],
            "users.json user 1: email is a list, not text; ignored",
        ),
    ],
)
def test_slack_users_of_wrong_type(tmp_path: Path, users: Any, problem: str) -> None:
    path = slack_zip(tmp_path, [{"user": "U1", "ts": f"{AT}.1", "text": "<@U2>"}], users=users)
    result = load_slack_export(path)
    assert result.frame["source"].to_list() == ["slack:U1"]
    assert problem in messages(result.problems)


@pytest.mark.parametrize(("day", "problem"), [(None, "holds only null"), ({}, "expected a list")])
def test_slack_day_file_that_is_not_a_list(tmp_path: Path, day: Any, problem: str) -> None:
    result = load_slack_export(slack_zip(tmp_path, day))
    assert any(problem in m for m in messages(result.problems))


POST_FIELDS = {
    "user": TEXT_FIELD,
    "create_at": TIME_FIELD,
    "message": TEXT_FIELD,
    "replies": LIST_FIELD,
    "reactions": LIST_FIELD,
    "channel_members": LIST_FIELD,
}


@pytest.mark.parametrize(("field", "value"), _cases(POST_FIELDS))
def test_mattermost_post_field_of_wrong_type_is_reported(
    tmp_path: Path, field: str, value: Any
) -> None:
    bad = {"user": "ann", "create_at": AT * 1000, "message": "hi", "channel_members": ["bob"]}
    good = {"user": "bob", "create_at": AT * 1000, "message": "@ann"}
    path = mattermost_jsonl(
        tmp_path,
        {"type": "direct_post", "direct_post": bad | {field: value}},
        {"type": "post", "post": good},
    )
    result = load_mattermost_export(path)
    assert ("bob@x.org", "ann@x.org", "mention") in result.frame.select(
        "source", "target", "kind"
    ).rows()
    assert any(m.startswith("mm.jsonl:3:") and field in m for m in messages(result.problems))


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (5, "record is a number, not an object; skipped"),
        (["post"], "record is a list, not an object; skipped"),
        (None, "holds only null; skipped"),
        ({"type": ["post"], "post": {}}, "record whose type is a list, not text; skipped"),
        ({"type": True}, "record whose type is true/false, not text; skipped"),
        ({"type": "post", "post": "hi"}, "record whose post is text, not an object; skipped"),
        ({"type": "post"}, "record without post; skipped"),
        (
            {"type": "user", "user": {"username": 5}},
            "user whose username is a number, not text; skipped",
        ),
        (
            {"type": "user", "user": {"username": "cat", "email": {}}},
            "email is an object, not text; ignored",
        ),
    ],
)
def test_mattermost_record_of_wrong_shape(tmp_path: Path, record: Any, problem: str) -> None:
    result = load_mattermost_export(mattermost_jsonl(tmp_path, record))
    assert messages(result.problems) == [f"mm.jsonl:3: {problem}"]


@pytest.mark.parametrize(
    ("field", "entries", "problem"),
    [
        ("replies", [5], "mm.jsonl:3: replies: 1 not objects; ignored"),
        (
            "replies",
            [{"user": 5, "create_at": 1}],
            "mm.jsonl:3 reply 1: reply whose user is a number, not text; skipped",
        ),
        ("replies", [{"user": "bob"}], "mm.jsonl:3 reply 1: reply without create_at; skipped"),
        (
            "reactions",
            [{"user": ["bob"]}],
            "mm.jsonl:3 reaction 1: reaction whose user is a list, not text; skipped",
        ),
        (
            "reactions",
            [{"user": "bob", "create_at": "x"}],
            "mm.jsonl:3 reaction 1: create_at 'x' is not a time in the years 1970 to 2199; ignored",
        ),
    ],
)
def test_mattermost_reply_and_reaction_entries_of_wrong_type(
    tmp_path: Path, field: str, entries: Any, problem: str
) -> None:
    post = {"user": "ann", "create_at": AT * 1000, "message": "@bob", field: entries}
    result = load_mattermost_export(mattermost_jsonl(tmp_path, {"type": "post", "post": post}))
    assert ("ann@x.org", "bob@x.org", "mention") in result.frame.select(
        "source", "target", "kind"
    ).rows()
    assert messages(result.problems) == [problem]


def test_mattermost_integer_too_long_for_json_is_reported(tmp_path: Path) -> None:
    line = '{"type": "post", "post": {"user": "ann", "create_at": ' + "1" * 5000 + "}}"
    path = write(tmp_path, "mm.jsonl", line + "\n")
    result = load_mattermost_export(path)
    assert "not valid JSON" in messages(result.problems)[0]


def test_mbox_deeply_nested_address_comment_is_reported(tmp_path: Path) -> None:
    mbox = (
        b"From a\nFrom: " + b"(" * 20_000 + b"a@x.org\nTo: b@x.org\n"
        b"Date: Mon, 05 Jan 2026 08:00:00 +0000\n\n"
        b"From b\nFrom: b@x.org\nTo: a@x.org\nDate: Mon, 05 Jan 2026 08:00:00 +0000\n\n"
    )
    result = load_mbox(write(tmp_path, "box.mbox", mbox))
    assert result.frame["source"].to_list() == ["b@x.org"]
    assert messages(result.problems) == [
        "box.mbox:1: From, To or Cc nested too deeply to read; message skipped"
    ]
