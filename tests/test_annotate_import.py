"""Projects and import: formats, segmentation with offsets, sealing, near-duplicates, and bad input refused whole."""

from __future__ import annotations

import csv
import json
import sys

import pytest
from sqlalchemy import select

from tests.annotate_factories import Clock, EmailOnlySanitiser, annotate_for, posts, project, write_jsonl
from valueprint.annotate import readers
from valueprint.annotate.readers import Fields
from valueprint.annotate.service import Annotate
from valueprint.errors import BadRequestError, InputFileError, LabelError, MissingDependencyError
from valueprint.store.models import AnnotationDocument, AnnotationUnit

LICENCE = Fields(licence="CC-BY-4.0")


@pytest.fixture
def annotate(services) -> Annotate:
    return annotate_for(services, Clock())


def units(services, project_id: str) -> list[AnnotationUnit]:
    with services.db.session() as session:
        query = select(AnnotationUnit).where(AnnotationUnit.project_id == project_id).order_by(AnnotationUnit.id)
        return list(session.scalars(query))


# -- projects ---------------------------------------------------------------------------


def test_a_project_states_its_schema_and_defaults_to_every_dimension(annotate, space) -> None:
    created = annotate.create_project(
        None, {"name": "Bullying", "instructions": "Label what the writer does.", "overlap": 3, "gold_share": 0.1}
    )
    assert created.label_schema.dimensions == space.ids
    assert created.label_schema.scale[0] == "clearly wrong" and created.label_schema.scale[-1] == "clearly good"
    assert (created.overlap, created.gold_share, created.segmentation) == (3, 0.1, "sentences")
    assert annotate.project(created.id) == created


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "x", "label_schema": {"dimensions": ["kindness"]}}, "unknown value dimensions"),
        ({"name": "x", "overlap": 0}, "overlap"),
        ({"name": "x", "segmentation": "paragraphs"}, "segmentation"),
        ({"name": "x", "colour": "red"}, "colour"),
        ({"name": "x", "label_schema": {"custom_labels": ["a", "a"]}}, "distinct"),
    ],
)
def test_a_bad_project_is_refused_naming_the_field(annotate, fields, message) -> None:
    with pytest.raises(BadRequestError, match=message):
        annotate.create_project(None, fields)


def test_project_names_are_unique(annotate) -> None:
    annotate.create_project(None, {"name": "Same"})
    with pytest.raises(BadRequestError, match="exists already"):
        annotate.create_project(None, {"name": "Same"})


# -- formats ------------------------------------------------------------------------------


def test_jsonl_is_segmented_into_sentences_with_offsets_and_the_raw_text_sealed(annotate, services, tmp_path) -> None:
    pid = project(annotate, segmentation="sentences")
    text = "I told my sister the truth.  Then I wrote to bob@example.org about it!"
    report = annotate.import_file(pid, write_jsonl(tmp_path / "a.jsonl", posts([text])))
    assert (report.documents, report.units, report.entities) == (1, 2, 1)
    stored = units(services, pid)
    assert [text[u.start : u.end] for u in stored] == ["I told my sister the truth.", text[29:]]
    assert stored[1].text == "Then I wrote to [EMAIL] about it!"
    assert stored[1].entities == [{"type": "EMAIL", "start": 16, "end": 31}]
    with services.db.session() as session:
        document = session.scalars(select(AnnotationDocument)).one()
    assert "bob@example.org" not in document.sealed and document.licence == "CC-BY-4.0"
    assert annotate.raw_unit(pid, stored[1].id).raw == "Then I wrote to bob@example.org about it!"


def test_csv_lines_files_and_a_hugging_face_dataset(annotate, services, tmp_path) -> None:
    pid = project(annotate)
    with (tmp_path / "a.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, ["id", "text", "licence"])
        writer.writeheader()
        writer.writerow({"id": "r1", "text": "A post, with a comma.", "licence": "MIT"})
    (tmp_path / "b.txt").write_text("First line post.\n\nSecond line post.\n", encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "one.txt").write_text("A whole file as one post.", encoding="utf-8")
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_dict({"text": ["From a dataset on disk."]}).save_to_disk(str(tmp_path / "hf"))
    assert annotate.import_file(pid, tmp_path / "a.csv").documents == 1
    assert annotate.import_file(pid, tmp_path / "b.txt", fields=LICENCE).documents == 2
    assert annotate.import_file(pid, folder, fields=LICENCE).documents == 1
    assert annotate.import_file(pid, tmp_path / "hf", fields=LICENCE).documents == 1
    texts = [u.text for u in units(services, pid)]
    assert texts == [
        "A post, with a comma.",
        "First line post.",
        "Second line post.",
        "A whole file as one post.",
        "From a dataset on disk.",
    ]


def test_dialogue_turns_keep_their_speakers_lines_together(annotate, services, tmp_path) -> None:
    pid = project(annotate, segmentation="turns")
    text = "Ann: You never help.\nYou just watch.\nBen: I do help!"
    annotate.import_items(pid, posts([text]), Fields(), "chat")
    assert [u.text for u in units(services, pid)] == ["Ann: You never help.\nYou just watch.", "Ben: I do help!"]


def test_near_duplicates_are_dropped_and_counted_across_imports(annotate, tmp_path) -> None:
    pid = project(annotate)
    first = "My neighbour shouted at the children playing outside my window this morning."
    report = annotate.import_items(pid, posts([first, first.upper(), first + "!", "Something else."]), Fields(), "x")
    assert (report.units, report.duplicates) == (2, 2)
    again = annotate.import_items(pid, posts([first]), Fields(), "x")
    assert (again.units, again.duplicates, again.documents) == (0, 1, 0)


# -- bad input ---------------------------------------------------------------------------------


def assert_nothing_stored(services, pid: str) -> None:
    assert units(services, pid) == []
    with services.db.session() as session:
        assert session.scalars(select(AnnotationDocument)).all() == []


def test_a_missing_field_names_the_row_and_nothing_is_half_imported(annotate, services, tmp_path) -> None:
    pid = project(annotate)
    rows = [*posts(["Fine."]), {"body": "no text field", "licence": "MIT"}]
    with pytest.raises(InputFileError, match=r"a.jsonl: line 2: the field 'text' is missing"):
        annotate.import_file(pid, write_jsonl(tmp_path / "a.jsonl", rows))
    assert_nothing_stored(services, pid)


def test_a_missing_licence_is_refused(annotate, tmp_path) -> None:
    pid = project(annotate)
    with pytest.raises(InputFileError, match="line 1: no licence"):
        annotate.import_file(pid, write_jsonl(tmp_path / "a.jsonl", [{"text": "hi"}]))


def test_wrong_encoding_names_the_line(annotate, tmp_path) -> None:
    pid = project(annotate)
    (tmp_path / "a.txt").write_bytes(b"ok\n" + "caf\xe9\n".encode("latin-1"))
    with pytest.raises(InputFileError, match="line 2 is not UTF-8"):
        annotate.import_file(pid, tmp_path / "a.txt", fields=LICENCE)


def test_a_huge_file_and_a_huge_row_are_refused(annotate, services, tmp_path, monkeypatch) -> None:
    pid = project(annotate)
    big = tmp_path / "big.jsonl"
    with big.open("wb") as out:  # a sparse 200 MB file: its size is refused before it is read
        out.truncate(200 * 2**20)
    with pytest.raises(InputFileError, match="200 MB is more than the 100 MB"):
        annotate.import_file(pid, big)
    rows = [*posts(["Fine."]), *posts(["x" * (10 * 2**20)])]
    with pytest.raises(InputFileError, match=r"line 2: 10485760 characters is more than a document may have"):
        annotate.import_file(pid, write_jsonl(tmp_path / "row.jsonl", rows))
    assert_nothing_stored(services, pid)


def test_invalid_json_and_an_unknown_format(annotate, tmp_path) -> None:
    pid = project(annotate)
    (tmp_path / "a.jsonl").write_text('{"text": "a", "licence": "MIT"}\n{oops\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="line 2 is not valid JSON"):
        annotate.import_file(pid, tmp_path / "a.jsonl")
    (tmp_path / "a.xml").write_text("<a/>", encoding="utf-8")
    with pytest.raises(InputFileError, match="give --format"):
        annotate.import_file(pid, tmp_path / "a.xml")


def test_an_overlong_unit_is_refused_naming_the_row(annotate) -> None:
    pid = project(annotate)
    with pytest.raises(InputFileError, match="document 1: a unit of 6000 characters"):
        annotate.import_items(pid, posts(["y" * 6000]), Fields(), "api")


# -- Label Studio ---------------------------------------------------------------------------------


def task(text: str, result: list[dict]) -> dict:
    return {
        "id": 7,
        "data": {"text": text, "licence": "MIT"},
        "predictions": [{"model_version": "m1", "score": 0.8, "result": result}],
    }


def test_label_studio_predictions_become_pre_labels(annotate, services, tmp_path) -> None:
    pid = project(annotate)
    result = [
        {"from_name": "values", "to_name": "text", "type": "choices", "value": {"choices": ["care:-", "fairness:+"]}},
        {"from_name": "acceptability", "to_name": "text", "type": "choices", "value": {"choices": ["clearly wrong"]}},
    ]
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([task("He hit the dog.", result)]), encoding="utf-8")
    assert annotate.import_file(pid, path).prelabels == 1
    from tests.annotate_factories import annotator

    person = annotator(services)
    given = annotate.next_unit(pid, person)
    assert given.suggestions[0].labels == {
        "values": {"care": -1, "fairness": 1},
        "acceptability": 0,
        "why": None,
        "custom": [],
    }
    assert (given.suggestions[0].model_version, given.suggestions[0].confidence) == ("m1", 0.8)


def test_predictions_that_do_not_fit_the_schema_are_refused_clearly(annotate, services, tmp_path) -> None:
    pid = project(annotate, label_schema={"dimensions": ["care"]})
    bad = [{"from_name": "values", "to_name": "text", "type": "choices", "value": {"choices": ["fairness:+"]}}]
    with pytest.raises(LabelError, match=r"task 1: import:predictions:0: value 'fairness' is not one of"):
        annotate.import_labelstudio(pid, [task("A post.", bad)], Fields(), "tasks.json")
    assert_nothing_stored(services, pid)


# -- the sanitiser hook -----------------------------------------------------------------------------


def test_without_the_sanitisers_libraries_nothing_is_imported(services, monkeypatch) -> None:
    """No fallback: if Presidio is missing, the import fails naming the install, and nothing is stored."""
    from valueprint.annotate.pii import patterns

    monkeypatch.setitem(sys.modules, "presidio_analyzer", None)  # `import presidio_analyzer` now fails
    patterns.analyzer.cache_clear()
    annotate = services.annotate  # the product's sanitiser
    pid = project(annotate)
    with pytest.raises(MissingDependencyError, match="presidio_analyzer"):
        annotate.import_items(pid, posts(["Mail me at a@b.org"]), Fields(), "api")
    assert_nothing_stored(services, pid)
    patterns.analyzer.cache_clear()  # rebuilt with Presidio by the next test that needs it


def test_every_unit_passes_the_sanitiser(annotate) -> None:
    EmailOnlySanitiser.calls = 0
    pid = project(annotate, segmentation="sentences")
    annotate.import_items(pid, posts(["One. Two. Three."]), Fields(), "api")
    assert EmailOnlySanitiser.calls == 3


def test_record_rows_are_named_for_api_documents() -> None:
    with pytest.raises(InputFileError, match="api: document 2"):
        readers.records_from_items([{"text": "a", "licence": "x"}, "nope"], Fields(), "api")
