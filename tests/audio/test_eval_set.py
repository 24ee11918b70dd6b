"""The evaluation-set builder refuses to mix items of another draw or another mute."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def eval_set(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "path", [str(ROOT / "benchmarks"), *sys.path])  # restored after the test
    import build_eval_set

    return build_eval_set


def _item(folder: Path, truth: dict[str, object]) -> Path:
    item = folder / "00-pop"
    item.mkdir()
    (item / "truth.json").write_text(json.dumps(truth))
    return item


def test_default_folders_name_the_draw_and_the_muted_parts(eval_set) -> None:  # type: ignore[no-untyped-def]
    assert eval_set.default_folder(0) == Path("/tmp/backline-eval")
    assert eval_set.default_folder(2) == Path("/tmp/backline-eval-v2")
    assert eval_set.default_folder(1, ("drums",)) == Path("/tmp/backline-eval-v1-no-drums")


def test_an_item_of_another_draw_or_mute_is_refused(eval_set, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    item = _item(tmp_path, {"variant": 1, "muted": ["drums"]})
    eval_set.check_variant(item, 1, ("drums",))  # the same draw and mute: accepted
    with pytest.raises(SystemExit, match="variant 1, not 0"):
        eval_set.check_variant(item, 0, ("drums",))
    with pytest.raises(SystemExit, match="muted, not"):
        eval_set.check_variant(item, 1)


def test_items_built_before_the_mute_option_count_as_unmuted(eval_set, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    item = _item(tmp_path, {"variant": 0})
    eval_set.check_variant(item, 0)
    with pytest.raises(SystemExit, match="no part muted"):
        eval_set.check_variant(item, 0, ("drums",))


def test_the_order_of_muted_parts_does_not_matter(eval_set, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert eval_set.muted(["drums", "bass", "drums"]) == ("bass", "drums")
    item = _item(tmp_path, {"variant": 0, "muted": ["drums", "bass"]})
    eval_set.check_variant(item, 0, ("bass", "drums"))
    assert eval_set.default_folder(0, eval_set.muted(["drums", "bass"])) == Path(
        "/tmp/backline-eval-no-bass-no-drums"
    )


def test_a_folder_of_another_set_is_refused_before_anything_is_rendered(eval_set, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _item(tmp_path, {"variant": 2})
    with pytest.raises(SystemExit, match="variant 2, not 0"):
        eval_set.build(tmp_path, 3, variant=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00-pop"]  # nothing new written


def test_pooling_one_set_twice_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "path", [str(ROOT / "benchmarks"), *sys.path])
    import bench_analysis

    for name in ("results.json", "results-pitch-from-x.json"):
        (tmp_path / name).write_text(json.dumps({"items": []}))
    with pytest.raises(SystemExit, match="twice"):
        bench_analysis.pool([tmp_path, tmp_path / "results-pitch-from-x.json"])


def test_pitch_from_matches_sets_built_before_the_variant_was_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "path", [str(ROOT / "benchmarks"), *sys.path])
    import bench_analysis

    song = {"title": "ABC", "key": "C major", "tempo": 100.0}
    assert bench_analysis.same_song(song, song | {"variant": 0}, 0)
    assert not bench_analysis.same_song(song, song | {"variant": 1}, 0)
    assert not bench_analysis.same_song(song, song | {"key": "D major", "variant": 0}, 0)


def test_duration_weighted_majmin_counts_only_the_seconds_mir_eval_scores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("mir_eval")
    monkeypatch.setattr(sys, "path", [str(ROOT / "benchmarks"), *sys.path])
    import numpy as np

    import bench_analysis

    # 60 s of power chords (outside majmin's vocabulary), then 4 s of E minor read as major.
    ref = np.array([[0.0, 60.0], [60.0, 64.0]])
    scored, right = bench_analysis._majmin_seconds(
        ref, ["E:(5)", "E:min"], np.array([[0.0, 64.0]]), ["E:maj"]
    )
    assert scored == pytest.approx(4.0)
    assert right == 0.0
    scored, right = bench_analysis._majmin_seconds(
        np.array([[0.0, 4.0], [4.0, 8.0]]),
        ["C:maj", "A:min"],
        np.array([[0.0, 6.0], [6.0, 8.0]]),
        ["C:maj", "A:min"],
    )
    assert (scored, right) == (pytest.approx(8.0), pytest.approx(6.0))


def test_pooling_results_of_an_older_benchmark_asks_for_a_new_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "path", [str(ROOT / "benchmarks"), *sys.path])
    import bench_analysis

    (tmp_path / "results.json").write_text(json.dumps({"items": [{"majmin": 0.9, "duration": 60.0}]}))
    with pytest.raises(SystemExit, match="measure these sets again"):
        bench_analysis.pool([tmp_path])


def test_pooling_results_without_the_key_candidates_asks_for_a_new_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "path", [str(ROOT / "benchmarks"), *sys.path])
    import bench_analysis

    (tmp_path / "results.json").write_text(json.dumps({"items": [{"key_named_by_chart": True}]}))
    with pytest.raises(SystemExit, match="measure these sets again"):
        bench_analysis.pool([tmp_path])


def test_key_named_by_the_charts_own_first_or_last_chord(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mir_eval")
    monkeypatch.setattr(sys, "path", [str(ROOT / "benchmarks"), *sys.path])
    import bench_analysis

    def truth(key: str, *labels: str) -> dict[str, object]:
        return {"key": key, "chords": [{"label": lab} for lab in ("N", *labels, "N")]}

    assert bench_analysis.key_named_by_chart(truth("C major", "D:min7", "G:7", "C:maj"))  # ends home
    assert bench_analysis.key_named_by_chart(truth("A minor", "A:min", "E:7"))  # starts home
    assert bench_analysis.key_named_by_chart(truth("F major", "Bb:maj/5", "C:7"))  # Bb/F: the bass
    assert bench_analysis.key_named_by_chart(truth("Db major", "C#:maj", "G#:7"))  # enharmonic
    # The Long Black Veil's chart is labelled D and plays E, B7 and A.
    assert not bench_analysis.key_named_by_chart(truth("D major", "E:maj", "B:7", "A:maj", "E:maj"))
    assert not bench_analysis.key_named_by_chart(truth("X", "C:maj"))
    assert not bench_analysis.key_named_by_chart(truth("C major"))
