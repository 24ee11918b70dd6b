"""MP3 stems on stage: decoded once, whole and on time.

libsndfile 1.2 garbles an MP3 click track read in blocks (the player streams in 8192-frame
chunks: clicks were lost), and pedalboard's decoder keeps the encoder's delay (26 ms
late). The player now decodes each MP3 whole into the cache first."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from live_songs import BAR, SETLIST_HEAD, SR, decode_pos, pos_stem, render

from backline.audio.io import write_audio
from backline.live.setlist import load_setlist
from backline.live.show import prepare_show
from backline.render.click import click_sound


def test_an_mp3_click_stem_plays_every_click_on_time(tmp_path):
    folder = tmp_path / "song"
    folder.mkdir()
    n = 8 * BAR
    sf.write(folder / "pos.wav", pos_stem(n), SR, subtype="FLOAT")
    click = np.zeros((1, n), dtype=np.float32)
    shot = click_sound("classic", SR, 0) * np.float32(0.5)
    beats = [k * BAR // 4 for k in range(32)]  # every beat at 240 BPM
    for b in beats:
        click[0, b : b + len(shot)] += shot
    write_audio(folder / "click.mp3", click, SR)
    (tmp_path / "set.toml").write_text(
        SETLIST_HEAD + '\n[[songs]]\ntitle = "M"\nstems = "song"\ntempo = 240\nrouting = { pos = [5, 6] }\n'
    )
    show = prepare_show(load_setlist(tmp_path / "set.toml"))
    assert not show.problems, show.problems
    song = show.songs[0]
    out, _ = render(show, "")
    p = decode_pos(out[4], out[5])
    heard = out[2][: np.flatnonzero(p == n - 1)[0] + 1]
    # the whole-file decode (what ffmpeg and players give) is what plays, sample for sample
    ref = sf.read(folder / "click.mp3", dtype="float32", always_2d=True)[0][:, 0]
    assert len(heard) == len(ref) == n
    assert float(np.abs(heard - ref).max()) < 1e-5
    # and every click is there, on its beat (within 1 ms), not lost or 26 ms late
    for b in beats:
        a = max(0, b - SR // 100)
        seg = np.abs(heard[a : b + SR // 50])
        assert float(seg.max()) > 0.3, b
        onset = a + int(np.flatnonzero(seg > 0.05)[0]) - b
        assert abs(onset) <= SR // 1000, (b, onset)
    src = next(s for s in song.sources if s.kind == "click")
    assert src.original is not None and src.path.suffix == ".wav"  # decoded once into the cache
    assert any("click.mp3 decoded to WAV once" in note for note in song.notes)
