"""Reading a PEP 691 page entry by entry (`tasks.index.jsonpage`): the entries `json.loads` gives, each
found again at its offset, and a broken page refused as `json.loads(text)["files"]` refuses it."""

from __future__ import annotations

import json

import pytest

from tasks.index.jsonpage import entry_at, filename_offsets

ENTRIES = [
    {"filename": "a-1.0-py3-none-any.whl", "url": "../a-1.0.whl", "hashes": {"sha256": "ab" * 32}},
    {"filename": "a-1.0.tar.gz", "url": "x", "hashes": {}, "yanked": 'bad {build}, "really"'},
    {"filename": "a-2.0.tar.gz", "url": "y", "core-metadata": False, "size": 12, "note": [1, {"x": None}]},
]


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"meta": {"api-version": "1.1"}, "name": "a", "files": ENTRIES, "versions": ["1.0"]}),
        json.dumps({"files": ENTRIES}, separators=(",", ":")),
        json.dumps({"name": "a", "files": ENTRIES}, indent=2) + "\n",
        json.dumps({"files": ENTRIES}, ensure_ascii=False).replace("bad", "schlecht \u00e9"),
        ' \n{ "files" : [ ] , "files" :\t' + json.dumps(ENTRIES) + " }\n",  # the last key wins
    ],
    ids=["pep691", "compact", "indented", "non-ascii", "spaces-and-duplicate-key"],
)
def test_every_entry_is_found_at_its_offset(text: str) -> None:
    expected = json.loads(text)["files"]
    found = filename_offsets(text)
    assert [filename for filename, _ in found] == [entry["filename"] for entry in expected]
    assert [entry_at(text, start) for _, start in found] == expected


def test_an_empty_list_has_no_entries() -> None:
    assert filename_offsets('{"files": []}') == []


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[]", TypeError),
        ('"files"', TypeError),
        ("{}", KeyError),
        ('{"name": "a"}', KeyError),
        ('{"files": {}}', TypeError),
        ('{"files": [{"filename": "a-1.tar.gz"},]}', ValueError),
        ('{"files": [{"filename": "a-1.tar.gz"} {}]}', ValueError),
        ('{"files": [{"filename": "a-1.tar.gz"', ValueError),
        ('{"files": []', ValueError),
        ('{"files": []} trailing', ValueError),
        ('{"files": [], "name": nope}', ValueError),
        ('{"files": [], }', ValueError),
        ("{files: []}", ValueError),
        ("", ValueError),
    ],
)
def test_a_broken_page_is_refused_as_json_refuses_it(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        filename_offsets(text)
    with pytest.raises((ValueError, KeyError, TypeError)):  # what the whole page decoded gives
        files = json.loads(text)["files"]
        if not isinstance(files, list):
            raise TypeError("files is not a list")


@pytest.mark.parametrize(
    ("text", "error"),
    [('{"files": [{"url": "a-1.tar.gz"}]}', KeyError), ('{"files": ["a-1.tar.gz"]}', TypeError)],
)
def test_an_entry_without_a_filename_is_refused(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        filename_offsets(text)
