"""Transposing songs with the spelling a musician expects.

:func:`transpose_song` moves every chord root and slash bass, the song key, every bar key
(key changes) and the melody by the same interval. Spelling follows the target key:

- the key moves to the spelling with the fewest accidentals (:meth:`Key.transpose`,
  Gb rather than F# at six), unless ``to_key`` names the spelling;
- a chord root is spelled by its *function* in the new key (:func:`spell_in_key`): notes
  of the key as the key spells them (Bb major: Bb, Eb, never A#, D#); chromatic roots as
  lowered degrees bII, bIII, bV, bVI, bVII (F -> Bb: ``Db`` becomes ``Gb``; C -> E: ``Bb7``
  becomes ``D7``, ``Eb`` becomes ``G``), diminished and half-diminished chords on raised
  degrees #I, #II, #IV, #V (``C#dim``, ``F#m7b5`` in C); a spelling that would need a
  double accidental or an out-of-key Cb/Fb/E#/B# falls back to the key's flats or sharps;
- a slash bass is spelled from the new root: a chord tone by its degree (``E/G#`` ->
  ``F/A``), another note by the simplest interval (:func:`spell_bass`);
- a song without a key is spelled in the major key that holds most of its chord roots
  (:func:`guess_spelling_key`, used for spelling only; the song key stays unknown).

Because spelling depends only on the target key, a chart spelled this way comes back
unchanged after transposing up and down again.

``to_key`` keeps the song's mode: a major song goes to a major key, a minor song to a
minor one (a bare tonic, ``"A"``, takes the song's mode). A key of the other mode
(``"Am"`` for a song in C major) is refused: it would leave every chord where it is (A
minor is C major's relative) while the song claimed to be in A minor, so an arranger's
intro and turnaround, built on the key, would come out in the wrong key. Give the key in
the song's mode (``"A"`` to play a C major song in A major), or a number of semitones.
"""

from __future__ import annotations

from dataclasses import replace

from backline.errors import ChartError
from backline.model.chord import DEGREE_SEMITONES, Chord
from backline.model.pitch import LETTERS, Key, NoteName, parse_key, pc_name
from backline.model.song import Bar, Note, Song

__all__ = [
    "transpose_song",
    "transpose_chord",
    "spell_in_key",
    "spell_bass",
    "guess_spelling_key",
    "key_letter_steps",
    "semitones_between",
]

_C_MAJOR = Key(NoteName("C"), "major")
_AWKWARD = {("C", -1), ("F", -1), ("E", 1), ("B", 1)}
_NATURAL = {0: (1, 0), 2: (2, 0), 4: (3, 0), 5: (4, 0), 7: (5, 0), 9: (6, 0), 11: (7, 0)}
_LOWERED = {1: (2, -1), 3: (3, -1), 6: (5, -1), 8: (6, -1), 10: (7, -1)}
_RAISED = {1: (1, 1), 3: (2, 1), 6: (4, 1), 8: (5, 1), 10: (6, 1)}


def key_letter_steps(source: Key | None, semitones: int) -> tuple[Key, int]:
    """The transposed key and the letter distance between the two tonics.

    ``source`` None means no key is known: C major stands in for it.
    """
    src = source or _C_MAJOR
    target = src.transpose(semitones)
    steps = (LETTERS.index(target.tonic.letter) - LETTERS.index(src.tonic.letter)) % 7
    return target, steps


def _awkward(n: NoteName) -> bool:
    return abs(n.alter) >= 2 or (n.letter, n.alter) in _AWKWARD


def spell_in_key(pc: int, key: Key, *, raised: bool = False) -> NoteName:
    """Spell pitch class ``pc`` by its function in ``key``.

    Notes of the key first; then degrees of the tonic's major scale; chromatic roots as
    lowered degrees (bII, bIII, bV, bVI, bVII) or, with ``raised`` (diminished chords),
    raised ones (#I, #II, #IV, #V, #VI). A spelling with a double accidental or an
    out-of-key Cb/Fb/E#/B# falls back to the key's flats or sharps.
    """
    pc %= 12
    for n in key.scale_names():
        if n.pc == pc:
            return n
    rel = (pc - key.tonic.pc) % 12
    major = Key(key.tonic, "major").scale_names()
    degree, alter = _NATURAL.get(rel) or (_RAISED if raised else _LOWERED)[rel]
    base = major[degree - 1]
    note = NoteName(base.letter, base.alter + alter)
    if not _awkward(note):
        return note
    return pc_name(pc, prefer_flats=key.prefers_flats)


# Letter distance of a slash bass above the root, by semitones (overridden by chord tones).
_BASS_LETTERS = {0: 0, 1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 4, 8: 5, 9: 5, 10: 6, 11: 6}
_DEGREE_LETTERS = {
    "b9": 1, "9": 1, "2": 1, "#9": 1, "b3": 2, "3": 2, "4": 3, "11": 3, "#11": 3,
    "b5": 4, "5": 4, "#5": 4, "b13": 5, "6": 5, "13": 5, "bb7": 6, "b7": 6, "7": 6,
}  # fmt: skip
_PRIORITY = (
    "b3",
    "3",
    "b5",
    "5",
    "#5",
    "bb7",
    "b7",
    "7",
    "6",
    "9",
    "b9",
    "#9",
    "4",
    "11",
    "#11",
    "b13",
    "13",
)


def spell_bass(root: NoteName, bass_pc: int, chord: Chord) -> NoteName:
    """Spell a slash bass from the root: a chord tone by its degree (``E/G#``, ``Cdim7/A``
    with ``bb7`` as A), other notes by the simplest interval (``C/D``, ``C/Bb``, ``C/F#``)."""
    offset = (bass_pc - root.pc) % 12
    letters = _BASS_LETTERS[offset]
    degrees = set(chord.quality.degrees)
    for d in _PRIORITY:
        if d in degrees and DEGREE_SEMITONES[d] % 12 == offset:
            letters = _DEGREE_LETTERS[d]
            break
    note = root.transpose(offset, letters)
    return note if abs(note.alter) < 2 else note.simplified()


def transpose_chord(chord: Chord, semitones: int, target: Key) -> Chord:
    """Transpose one chord into ``target`` (the key it will sound in).

    The root is spelled by its function in ``target`` (:func:`spell_in_key`), a slash
    bass from the new root (:func:`spell_bass`), so the spelling depends only on the
    target key and the chord: transposing up and back down restores it.
    The ``symbol`` becomes the canonical name of the result.
    """
    fam = chord.quality.family
    root = spell_in_key(chord.root.pc + semitones, target, raised=fam in ("diminished", "half-diminished"))
    bass = None if chord.bass is None else spell_bass(root, chord.bass.pc + semitones, chord)
    moved = Chord(root, chord.quality, bass)
    return replace(moved, symbol=moved.name)


def guess_spelling_key(song: Song) -> Key:
    """The major key whose notes hold most chord roots (spelling only, never the song key).

    Ties go to the key of the first and last chords, then to fewer accidentals.
    """
    roots = [c.root.pc for c in song.chord_symbols()]
    if not roots:
        return _C_MAJOR
    best: tuple[tuple[int, int, int], Key] | None = None
    for name in ("C", "G", "D", "A", "E", "B", "F", "Bb", "Eb", "Ab", "Db", "Gb"):
        k = parse_key(name)
        pcs = {n.pc for n in k.scale_names()}
        score = (
            sum(r in pcs for r in roots),
            (roots[0] == k.tonic.pc) + (roots[-1] == k.tonic.pc),
            -abs(k.fifths),
        )
        if best is None or score > best[0]:
            best = (score, k)
    assert best is not None
    return best[1]


def semitones_between(source: Key, target: Key) -> int:
    """The shortest move (-5..+6 semitones) from ``source`` to ``target``.

    When the modes differ the keys are compared through their relative major
    (A minor -> C major is 0: same key signature).
    """

    def major_pc(k: Key) -> int:
        return (k.tonic.pc + (3 if k.mode == "minor" else 0)) % 12

    d = (major_pc(target) - major_pc(source)) % 12
    return d - 12 if d > 6 else d


def _resolve_target(song: Song, to_key: Key | str) -> tuple[int, Key]:
    if song.key is None:
        raise ChartError(
            f"cannot transpose to {to_key}: the song has no key (give a number of semitones)",
            song.source or song.title,
        )
    if isinstance(to_key, str):
        text = to_key.strip()
        try:
            key = parse_key(text)
        except ChartError:
            raise ChartError(
                f"cannot transpose to {to_key!r}: not a key (write e.g. Bb, F#m, G minor, "
                "or give a number of semitones)",
                song.source or song.title,
            ) from None
        # "C" for a minor song means C minor: a bare tonic keeps the song's mode.
        if text[1:].strip() in ("", "b", "#", "♭", "♯", "&"):
            key = Key(key.tonic, song.key.mode)
    else:
        key = to_key
    if key.mode != song.key.mode:
        example = Key(key.tonic, song.key.mode)
        raise ChartError(
            f"cannot transpose to {key} ({key.tonic} {key.mode}): the song is in {song.key} "
            f"({song.key.tonic} {song.key.mode}); give a {song.key.mode} key, e.g. {example} "
            "(a change of mode is not a transposition)",
            song.source or song.title,
        )
    return semitones_between(song.key, key), key


def transpose_song(song: Song, semitones: int | None = None, *, to_key: Key | str | None = None) -> Song:
    """Transpose a whole song by ``semitones`` or to ``to_key`` (exactly one of them).

    Moves chord roots and slash basses, the song key, every bar key and the melody
    (MIDI pitches). With ``to_key`` the move is the shortest one (-5..+6 semitones) and
    the new key is spelled exactly as given (``to_key="F#"`` gives F#, not Gb); it must
    be in the song's mode (:class:`ChartError` otherwise, see the module docstring).

    >>> from backline.model.song import ChordEvent, Section
    >>> from backline.model.chord import parse_chord
    >>> from fractions import Fraction
    >>> bar = Bar((ChordEvent(Fraction(0), parse_chord("Db")),), key=parse_key("F"))
    >>> s = Song("x", (Section("A", (bar,)),), key=parse_key("F"))
    >>> t = transpose_song(s, 5)
    >>> str(t.key), t.bars[0].chords[0].chord.name
    ('Bb', 'Gb')
    """
    if (semitones is None) == (to_key is None):
        raise ChartError("transpose_song: give either semitones or to_key, not both or neither")
    forced: Key | None = None
    if to_key is not None:
        semitones, forced = _resolve_target(song, to_key)
    assert semitones is not None
    if semitones % 12 == 0 and forced is None:
        return song
    shift = semitones

    def move_key(k: Key) -> Key:
        if forced is not None and k == song.key:
            return forced
        return k.transpose(shift)

    new_song_key = None if song.key is None else move_key(song.key)
    spelling_default = new_song_key or guess_spelling_key(song).transpose(shift)

    def move_bar(bar: Bar) -> Bar:
        new_key = None if bar.key is None else move_key(bar.key)
        target = new_key or spelling_default
        events = tuple(
            ev if ev.chord is None else replace(ev, chord=transpose_chord(ev.chord, shift, target))
            for ev in bar.chords
        )
        return replace(bar, chords=events, key=new_key)

    sections = tuple(replace(s, bars=tuple(move_bar(b) for b in s.bars)) for s in song.sections)
    melody = tuple(_move_pitch(n, shift) for n in song.melody)
    return replace(song, sections=sections, key=new_song_key, melody=melody)


def _move_pitch(note: Note, semitones: int) -> Note:
    if note.pitch is None:
        return note
    p = note.pitch + semitones
    if not 0 <= p <= 127:
        raise ChartError(f"transposing by {semitones} moves a melody note out of MIDI range ({p})")
    return replace(note, pitch=p)
