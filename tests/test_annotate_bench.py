"""`valueprint bench annotate`: pre-label quality on held-out validation halves, throughput in-process and on
a Dask LocalCluster in the same run, an end-to-end import → pre-label → export run with its memory peak, and
a clear refusal when the real sanitiser is not part of the build."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.annotate_factories import EmailOnlySanitiser
from tests.conftest import SHARED_DATA
from valueprint.annotate.prelabel import Prelabel
from valueprint.bench import annotate as bench


class LengthPrelabeller:
    """A fast double: long texts uphold care, everything is 'neutral' with confidence 0.6."""

    model_version = "length-double/1"
    learned = ("care", "fairness", "benevolence")

    def predict(self, texts, schema):
        return [
            Prelabel(
                {
                    "values": {"care": 1} if len(t) > 60 else {},
                    "acceptability": 2,
                    "why": None,
                    "custom": [],
                    "confidence": {
                        "values": dict.fromkeys(self.learned, 0.7 if len(t) > 60 else 0.3),
                        "acceptability": 0.6,
                    },
                },
                0.5,
                self.model_version,
            )
            for t in texts
        ]


def test_documents_are_real_train_sentences_five_to_a_document() -> None:
    docs = bench.documents(SHARED_DATA, 12)
    assert len(docs) == 3 and docs[0].count(".") >= 5 and docs[0][0].isupper()


def test_the_run_measures_quality_throughput_on_dask_and_end_to_end(tmp_path) -> None:
    stages: set[str] = set()
    figures = bench.run(
        SHARED_DATA,
        size=60,
        throughput_units=40,
        workers=2,
        quality_limit=300,
        sanitiser_factory=EmailOnlySanitiser,
        prelabeller_factory=LengthPrelabeller,
        processes=False,  # the doubles live in the tests package; worker processes need not import it
        progress=lambda stage, done, total: stages.add(stage.split(",")[0].split(":")[0]),
    )
    assert figures["e2e_units"] + figures["e2e_duplicates_dropped"] == 60
    assert figures["e2e_prelabelled"] == figures["e2e_units"] == figures["e2e_exported_lines"]
    assert figures["throughput_units"] == 40 and figures["dask_workers"] == 2
    assert figures["in_process_units_per_s"] > 0 and figures["dask_units_per_s"] > 0
    assert figures["dask_over_in_process"] == pytest.approx(
        figures["dask_units_per_s"] / figures["in_process_units_per_s"], rel=0.05, abs=0.01
    )
    assert 0 <= figures["acceptability_top_accuracy"] <= 1 and 0 <= figures["acceptability_ece"] <= 1
    assert 0 <= figures["presence_accuracy"] <= 1 and figures["accept_unchanged_units"] > 0
    assert figures["peak_rss_mb"] >= figures["rss_at_start_mb"] > 0
    assert {"throughput", "end to end", "pre-label quality (held-out validation halves)"} <= stages
    png = bench.plot(figures, tmp_path / "annotate.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_the_cli_writes_annotate_json_and_a_plot(tmp_path, monkeypatch) -> None:
    real_run = bench.run

    def with_doubles(*args, **kwargs):
        kwargs.update(sanitiser_factory=EmailOnlySanitiser, prelabeller_factory=LengthPrelabeller, processes=False)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(bench, "run", with_doubles)
    from valueprint.cli import app

    options = ["--size", "20", "--throughput-units", "20", "--quality-limit", "200", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, ["bench", "annotate", *options])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "annotate.json").read_text())
    assert written["e2e_size_requested"] == 20 and written["plot"].endswith("annotate.png")
    assert (tmp_path / "annotate.png").is_file()


def test_a_large_run_continues_with_whole_texts_of_other_corpora() -> None:
    from valueprint.errors import MissingDependencyError

    small = bench.documents(SHARED_DATA, 100)
    large = bench.documents(SHARED_DATA, 20_000)
    assert len(small) == 20 and large[:20] == small[:20]
    assert sum(max(1, len(bench.SENTENCE_END.findall(d))) for d in large) >= 20_000
    assert any(d.startswith(("You should", "It's", "It is")) for d in large[2900:])  # Moral Stories norms follow
    with pytest.raises(MissingDependencyError, match="ask for fewer units"):
        bench.documents(SHARED_DATA, 10_000_000)
