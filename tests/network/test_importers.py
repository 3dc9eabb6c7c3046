"""Importers: validation with line numbers, and hostile files handled without harm."""

from __future__ import annotations

import codecs
import io
import json
import zipfile
from pathlib import Path

import pytest

from sixfold.network.importers import (
    ImportAborted,
    ImportLimits,
    load_interactions_csv,
    load_mattermost_export,
    load_mbox,
    load_people,
    load_slack_export,
)

PEOPLE = "id,name,email,title,department,manager_id\n"


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _messages(problems: object) -> list[str]:
    return [str(p) for p in problems]  # type: ignore[attr-defined]


def test_people_rows_are_validated_with_line_numbers(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "people.csv",
        PEOPLE + "a,A,A@X.org,CEO,Board,\n"
        "b,B,b@x.org,,Sales,a\n"
        "b,Dup,d@x.org,,Sales,a\n"
        ",NoId,n@x.org,,Sales,a\n"
        "c,C,a@x.org,,,zz\n"
        "d,D,,,Ops,e\ne,E,,,Ops,d\n",
    )
    chart, problems = load_people(path)
    text = "\n".join(_messages(problems))
    assert chart.ids == ["a", "b", "c", "d", "e"]
    assert "people.csv:4: duplicate id 'b'" in text
    assert "people.csv:5: empty id" in text
    assert "people.csv:6: e-mail 'a@x.org' already used" in text
    assert "people.csv:6: 'c' has unknown manager 'zz'" in text
    assert "people.csv:7: 'd' is in a reporting loop" in text
    assert chart.people[2].department == "(unassigned)"
    assert chart.people[0].email == "a@x.org"
    assert chart.manager_of.tolist() == [-1, 0, -1, -1, -1]


def test_people_missing_column_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ImportAborted, match="missing column"):
        load_people(_write(tmp_path, "p.csv", "id,name\na,A\n"))


def test_people_in_utf16_are_read_and_bad_utf8_rows_reported(tmp_path: Path) -> None:
    utf16 = codecs.BOM_UTF16_LE + (PEOPLE + "a,Zoë,,,R&D,\n").encode("utf-16-le")
    chart, problems = load_people(_write(tmp_path, "u16.csv", utf16))
    assert chart.people[0].name == "Zoë"
    assert not problems
    broken = (PEOPLE + "a,A,,,X,\n").encode() + b"b,\xff\xfe,,,X,\n"
    chart, problems = load_people(_write(tmp_path, "bad.csv", broken))
    assert chart.ids == ["a"]
    assert _messages(problems) == ["bad.csv:3: not valid UTF-8; row skipped"]


def test_people_huge_field_is_skipped(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.csv", PEOPLE + "a,A,,,X,\n" + "b," + "x" * 200_000 + ",,,X,\n")
    chart, problems = load_people(path)
    assert chart.ids == ["a"]
    assert len(problems) == 1


def test_interactions_csv_reports_each_bad_row_by_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "i.csv",
        "timestamp,source,target,kind,weight,message_id\n"
        "2026-01-05T09:00:00Z,a,b,Email,,m1\n"
        "yesterday,a,b,,,\n"
        "1767600000,a,,,,\n"
        "1767600000,a,b,,-2,\n"
        "2026-01-05 10:00:00,b,a,reply,2.5,\n"
        "2026-01-06,a,c,,,\n",
    )
    result = load_interactions_csv(path)
    assert result.frame.height == 3
    assert result.frame["kind"].to_list() == ["email", "reply", "interaction"]
    assert result.frame["weight"].to_list() == [1.0, 2.5, 1.0]
    assert result.frame["timestamp"].to_list() == [1767603600, 1767607200, 1767657600]
    assert _messages(result.problems) == [
        "i.csv:3: timestamp is neither ISO 8601 nor Unix seconds",
        "i.csv:4: empty source or target",
        "i.csv:5: weight must be a positive number",
    ]
    assert result.problem_count == 3


def test_interactions_csv_bad_encoding_and_missing_columns(tmp_path: Path) -> None:
    raw = b"timestamp,source,target\n1,a,b\n2,\xff,b\n"
    result = load_interactions_csv(_write(tmp_path, "enc.csv", raw))
    assert result.frame.height == 1
    assert _messages(result.problems) == ["enc.csv:3: not valid UTF-8"]
    with pytest.raises(ImportAborted, match="missing column"):
        load_interactions_csv(_write(tmp_path, "cols.csv", "when,from,to\n1,a,b\n"))


def test_file_size_limit_refuses_whole_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "big.csv", "timestamp,source,target\n" + "1,a,b\n" * 100)
    with pytest.raises(ImportAborted, match="above the limit"):
        load_interactions_csv(path, ImportLimits(max_file_bytes=100))


def _slack_zip(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "slack.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def _slack_users() -> bytes:
    return json.dumps(
        [
            {"id": "U1", "profile": {"email": "Ann@x.org"}},
            {"id": "U2", "profile": {"email": "bob@x.org"}},
            {"id": "U3", "profile": {}},
        ]
    ).encode()


def test_slack_export_yields_replies_mentions_and_reactions(tmp_path: Path) -> None:
    messages = [
        {
            "type": "message",
            "user": "U1",
            "ts": "1767600000.000100",
            "text": "hi <@U2>",
            "reactions": [{"name": "+1", "users": ["U2", "U3"], "count": 2}],
        },
        {
            "type": "message",
            "user": "U2",
            "ts": "1767600100.000200",
            "thread_ts": "1767600000.000100",
            "parent_user_id": "U1",
            "text": "secret plans",
        },
        "not a message",
    ]
    path = _slack_zip(
        tmp_path,
        {
            "users.json": _slack_users(),
            "channels.json": b"[]",
            "general/2026-01-05.json": json.dumps(messages).encode(),
            "general/2026-01-06.json": b"{broken",
        },
    )
    result = load_slack_export(path)
    rows = result.frame.select("source", "target", "kind").rows()
    assert ("ann@x.org", "bob@x.org", "mention") in rows
    assert ("bob@x.org", "ann@x.org", "reaction") in rows
    assert ("slack:U3", "ann@x.org", "reaction") in rows
    assert ("bob@x.org", "ann@x.org", "reply") in rows
    assert "secret" not in result.frame.write_csv()  # content is never kept
    assert any("2026-01-06.json" in m and "not valid JSON" in m for m in _messages(result.problems))


@pytest.mark.parametrize(
    "name",
    ["../evil.json", "/etc/evil.json", "a/../../evil.json", "C:/evil.json", "a\\..\\evil.json"],
)
def test_slack_path_traversal_entries_are_refused(tmp_path: Path, name: str) -> None:
    path = _slack_zip(tmp_path, {"users.json": _slack_users(), name: b"[]"})
    result = load_slack_export(path)
    assert any("unsafe path" in m for m in _messages(result.problems))
    assert not (tmp_path.parent / "evil.json").exists()


def test_slack_zip_bomb_is_refused(tmp_path: Path) -> None:
    path = _slack_zip(
        tmp_path,
        {"users.json": _slack_users(), "general/2026-01-05.json": b"[" + b" " * 50_000_000 + b"]"},
    )
    with pytest.raises(ImportAborted, match="zip bomb"):
        load_slack_export(path)


def test_slack_member_larger_than_limit_is_refused(tmp_path: Path) -> None:
    path = _slack_zip(
        tmp_path,
        {
            "general/2026-01-05.json": json.dumps(
                [{"user": "U1", "ts": str(i)} for i in range(5000)]
            ).encode()
        },
    )
    with pytest.raises(ImportAborted):
        load_slack_export(path, ImportLimits(max_member_bytes=1000))


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportAborted, match="not a readable ZIP"):
        load_slack_export(_write(tmp_path, "x.zip", b"PK\x03\x04 not really"))


def test_mattermost_export_with_hostile_lines(tmp_path: Path) -> None:
    lines = [
        {"type": "version", "version": 1},
        {"type": "user", "user": {"username": "ann", "email": "ann@x.org"}},
        {"type": "user", "user": {"username": "bob", "email": "bob@x.org"}},
        {
            "type": "post",
            "post": {
                "user": "ann",
                "message": "ask @bob",
                "create_at": 1767600000000,
                "replies": [{"user": "bob", "message": "ok", "create_at": 1767600001000}],
                "reactions": [{"user": "bob", "emoji_name": "+1"}],
            },
        },
        {
            "type": "direct_post",
            "direct_post": {
                "channel_members": ["ann", "cat"],
                "user": "ann",
                "message": "private",
                "create_at": 1767600002000,
            },
        },
        {"type": "post", "post": {"message": "no user"}},
    ]
    text = "\n".join(json.dumps(line) for line in lines)
    text += "\n{not json\n" + '{"type": "post", "post": {"message": "' + "x" * 3000 + '"}}\n'
    path = _write(tmp_path, "mm.jsonl", text)
    result = load_mattermost_export(path, ImportLimits(max_line_bytes=2000))
    rows = result.frame.select("source", "target", "kind").rows()
    assert rows.count(("ann@x.org", "bob@x.org", "mention")) == 1
    assert ("bob@x.org", "ann@x.org", "reply") in rows
    assert ("bob@x.org", "ann@x.org", "reaction") in rows
    assert ("ann@x.org", "mattermost:cat", "message") in rows
    messages = _messages(result.problems)
    assert any(m.startswith("mm.jsonl:6:") and "without user" in m for m in messages)
    assert any(m.startswith("mm.jsonl:7:") and "not valid JSON" in m for m in messages)
    assert any(m.startswith("mm.jsonl:8:") and "longer than" in m for m in messages)


def test_mbox_reads_headers_only(tmp_path: Path) -> None:
    mbox = (
        b"From ann@x.org Mon Jan  5 09:00:00 2026\n"
        b"From: Ann <Ann@X.org>\nTo: bob@x.org, Cat <cat@x.org>\nCc: bob@x.org\n"
        b"Date: Mon, 05 Jan 2026 09:00:00 +0000\nMessage-ID: <1@x>\n\n"
        b"From the body: not a header\nTo: nobody@x.org\n"
        b"From bob@x.org Mon Jan  5 10:00:00 2026\nFrom: bob@x.org\nTo: ann@x.org\n\nhi\n"
        b"From x Mon Jan  5 11:00:00 2026\nFrom: x@x.org\nTo: ann@x.org\nSubject: "
        + b"y" * 5000
        + b"\n\n"
    )
    result = load_mbox(_write(tmp_path, "box.mbox", mbox), ImportLimits(max_header_bytes=1000))
    rows = result.frame.select("source", "target", "timestamp").rows()
    assert rows == [("ann@x.org", "bob@x.org", 1767603600), ("ann@x.org", "cat@x.org", 1767603600)]
    messages = _messages(result.problems)
    assert any("without a readable From or Date" in m for m in messages)
    assert any("header block too large" in m for m in messages)


def test_mbox_with_a_gigantic_line_does_not_load_it(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    buffer.write(
        b"From a Mon Jan  5 09:00:00 2026\nFrom: a@x.org\nTo: b@x.org\n"
        b"Date: Mon, 05 Jan 2026 09:00:00 +0000\n\n"
    )
    buffer.write(b"z" * 5_000_000)
    result = load_mbox(
        _write(tmp_path, "huge.mbox", buffer.getvalue()), ImportLimits(max_line_bytes=10_000)
    )
    assert result.frame.height == 1
