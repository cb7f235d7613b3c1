"""``av-digits``: handwritten digits paired with spoken digits, generated locally.

An audio-visual digits set in the spirit of AV-MNIST, built from parts every machine can have
offline:

* **image**: scikit-learn's bundled 8x8 digits (values scaled to [0, 1]) plus Gaussian noise of
  standard deviation ``image_noise``;
* **audio**: the digit's English word ("zero" ... "nine") spoken by the ``espeak-ng`` speech
  synthesiser (a Debian/Ubuntu package: ``apt-get install espeak-ng``) in a bank of voices
  (accent, voice variant, speed and pitch drawn by seed), leading and trailing silence trimmed,
  white noise added at ``audio_snr_db`` decibels, then turned into 13 MFCCs per frame
  (numpy/scipy: pre-emphasis, 512-point Hann STFT with a 10 ms hop, 40 mel bands, log, DCT)
  resampled to 20 frames: an array of shape (20, 13) per sample.

In the default variant both modalities show the same digit (the target ``digit``); raising one
modality's noise moves information from redundant to unique to the other. In the synergy
variant the image digit and the spoken digit are drawn independently and the target ``parity``
is ``(image digit + spoken digit) mod 2``, which neither modality alone tells (about 0 bits each)
but both together do (1 bit).

Generation is deterministic by seed (espeak-ng's output is bit-for-bit reproducible for the same
arguments and version). Synthesised clips and finished datasets are cached under
``$INTERPLAY_CACHE`` (default ``~/.cache/interplay``) in ``av-digits/``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write
from .._validation import check_float, check_int
from ..exceptions import InvalidInputError, MissingDependencyError
from .bundled_digits import sklearn_digits
from .dataset import DatasetMetadata, MultimodalDataset

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ACCENTS = ("en-us", "en", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us-nyc",
           "en-gb-x-gbclan", "en-gb-x-gbcwmd")
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
_CACHE_VERSION = 1


def cache_dir() -> Path:
    """Folder of interplay's on-disk cache: ``$INTERPLAY_CACHE`` or ``~/.cache/interplay``."""
    root = os.environ.get("INTERPLAY_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "interplay"


def _espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise MissingDependencyError(
            "av-digits synthesises its spoken digits with the espeak-ng program, which is not "
            "installed. Install it with `apt-get install espeak-ng` (Debian/Ubuntu) or "
            "`brew install espeak-ng` (macOS)."
        )
    return exe


def espeak_version() -> str:
    """The installed espeak-ng's version line (part of the cache key)."""
    out = subprocess.run([_espeak(), "--version"], capture_output=True, check=True, text=True)
    return out.stdout.strip()


def synthesize(word: str, voice: str, speed: int, pitch: int) -> tuple[np.ndarray, int]:
    """Speak ``word`` with espeak-ng; return ``(int16 samples, sample rate)``."""
    proc = subprocess.run(
        [_espeak(), "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", word],
        capture_output=True, check=True,
    )
    with wave.open(io.BytesIO(proc.stdout)) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return samples, rate


def _trim(x: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > threshold * np.abs(x).max())
    return x[loud[0]: loud[-1] + 1] if loud.size else x


def mel_filterbank(n_mels: int, n_fft: int, rate: int) -> np.ndarray:
    """Triangular mel filters of shape ``(n_mels, n_fft // 2 + 1)`` (HTK mel scale)."""
    def to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges = to_hz(np.linspace(0.0, to_mel(np.array(rate / 2.0)), n_mels + 2))
    freqs = np.linspace(0.0, rate / 2.0, n_fft // 2 + 1)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rise = (freqs - lo) / (mid - lo)
    fall = (hi - freqs) / (hi - mid)
    return np.maximum(0.0, np.minimum(rise, fall))


def mfcc(x: np.ndarray, rate: int, *, n_mfcc: int = 13, n_mels: int = 40, n_fft: int = 512,
         hop_seconds: float = 0.01, n_frames: int = 20) -> np.ndarray:
    """MFCCs of a mono signal, linearly resampled in time to ``n_frames``: ``(n_frames, n_mfcc)``.

    Pre-emphasis 0.97, Hann window of ``n_fft`` samples, hop ``hop_seconds``, power spectrum,
    ``n_mels`` HTK mel bands, natural log (floor 1e-10), orthonormal DCT-II.
    """
    from scipy import fft as sfft

    x = np.asarray(x, dtype=np.float64)
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])
    if x.size < n_fft:
        x = np.pad(x, (0, n_fft - x.size))
    hop = max(1, int(round(hop_seconds * rate)))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * np.hanning(n_fft)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2 / n_fft
    logmel = np.log(power @ mel_filterbank(n_mels, n_fft, rate).T + 1e-10)
    coeffs = sfft.dct(logmel, type=2, norm="ortho", axis=1)[:, :n_mfcc]
    t_old = np.linspace(0.0, 1.0, coeffs.shape[0])
    t_new = np.linspace(0.0, 1.0, n_frames)
    return np.stack([np.interp(t_new, t_old, coeffs[:, j]) for j in range(n_mfcc)], axis=1)


def voice_bank(n_voices: int, seed: int) -> list[dict[str, Any]]:
    """``n_voices`` distinct (accent, variant, speed, pitch) settings drawn by seed."""
    rng = np.random.default_rng([seed, 1])
    combos = [(a, v) for a in ACCENTS for v in VARIANTS]
    if n_voices > len(combos):
        raise InvalidInputError(
            f"`n_voices` must be <= {len(combos)} (accents x variants), got {n_voices}."
        )
    picks = rng.choice(len(combos), size=n_voices, replace=False)
    return [
        {"voice": f"{combos[i][0]}+{combos[i][1]}", "speed": int(rng.integers(130, 201)),
         "pitch": int(rng.integers(25, 76))}
        for i in picks
    ]


def _load_clip_bank(voices: list[dict[str, Any]], *, cache: bool, progress: bool
                    ) -> tuple[list[list[np.ndarray]], int]:
    """Trimmed clips ``bank[voice][digit]`` (float64 in [-1, 1]) and their sample rate."""
    key = hashlib.sha256(json.dumps([_CACHE_VERSION, espeak_version(), voices]).encode())
    path = cache_dir() / "av-digits" / f"clips-{key.hexdigest()[:16]}.npz"
    if cache and path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                flat, offsets, rate = z["samples"], z["offsets"], int(z["rate"])
            pieces = np.split(flat, offsets[1:-1])
            return [[pieces[v * 10 + d].astype(np.float64) / 32768.0 for d in range(10)]
                    for v in range(len(voices))], rate
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)
    jobs = [(WORDS[d], v) for v in voices for d in range(10)]

    def run(job: tuple[str, dict[str, Any]]) -> tuple[np.ndarray, int]:
        word, v = job
        return synthesize(word, v["voice"], v["speed"], v["pitch"])

    results: list[tuple[np.ndarray, int]] = []
    from rich.progress import Progress

    with Progress(transient=True, disable=not progress) as bar, ThreadPoolExecutor(4) as pool:
        task = bar.add_task("espeak-ng: speaking digits", total=len(jobs))
        for res in pool.map(run, jobs):
            results.append(res)
            bar.advance(task)
    rates = {r for _, r in results}
    if len(rates) != 1:
        raise InvalidInputError(f"espeak-ng returned clips at several sample rates: {rates}.")
    clips = [_trim(s) for s, _ in results]
    rate = rates.pop()
    if cache:
        offsets = np.concatenate([[0], np.cumsum([len(c) for c in clips])])
        atomic_write(path, lambda fh: np.savez_compressed(
            fh, samples=np.concatenate(clips), offsets=offsets, rate=np.array(rate)))
    return [[clips[v * 10 + d].astype(np.float64) / 32768.0 for d in range(10)]
            for v in range(len(voices))], rate


def make_av_digits(
    n_samples: int = 1797,
    *,
    image_noise: float = 0.4,
    audio_snr_db: float = -12.0,
    synergy: bool = False,
    n_voices: int = 24,
    seed: int = 0,
    cache: bool = True,
    progress: bool = True,
) -> MultimodalDataset:
    """Build the audio-visual ``av-digits`` dataset (see the module docstring).

    Parameters
    ----------
    n_samples : int
        Number of samples.
    image_noise : float
        Standard deviation of the Gaussian noise added to the [0, 1] image (0-10).
    audio_snr_db : float
        Signal-to-noise ratio of the white noise added to each clip, in dB (-30 to 60);
        lower is noisier.
    synergy : bool
        Draw the seen and the heard digit independently and make the default target their
        parity (``"parity"``); otherwise both show the same digit (target ``"digit"``).
    n_voices : int
        Number of espeak-ng voices (accent, variant, speed, pitch) in the bank (1-96).
    seed : int
        Seed of every random choice; the same arguments give the same arrays.
    cache : bool
        Read/write synthesised clips and the finished dataset under :func:`cache_dir`.
    progress : bool
        Show a progress bar while espeak-ng speaks.

    Returns
    -------
    MultimodalDataset
        Modalities ``image`` (8, 8) and ``audio`` (20, 13), float64. Targets: ``digit`` (or
        ``parity``, ``image_digit`` and ``audio_digit`` in the synergy variant) and ``voice``
        (index of the voice in the bank, for speaker-disjoint splits).

    Raises
    ------
    MissingDependencyError
        When espeak-ng or scikit-learn is not installed.
    """
    n = check_int(n_samples, "n_samples", minimum=1)
    image_noise = check_float(image_noise, "image_noise", low=0.0, high=10.0)
    audio_snr_db = check_float(audio_snr_db, "audio_snr_db", low=-30.0, high=60.0)
    if not isinstance(synergy, bool):
        raise InvalidInputError(f"`synergy` must be True or False, got {synergy!r}.")
    n_voices = check_int(n_voices, "n_voices", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    settings = {"n_samples": n, "image_noise": image_noise, "audio_snr_db": audio_snr_db,
                "synergy": synergy, "n_voices": n_voices, "seed": seed}
    voices = voice_bank(n_voices, seed)
    key = hashlib.sha256(json.dumps([_CACHE_VERSION, espeak_version(), settings]).encode())
    ds_path = cache_dir() / "av-digits" / f"dataset-{key.hexdigest()[:16]}.npz"
    if cache and ds_path.exists():
        from .io import read_dataset

        try:
            return read_dataset(ds_path)
        except InvalidInputError:
            ds_path.unlink(missing_ok=True)

    bank, rate = _load_clip_bank(voices, cache=cache, progress=progress)
    images, labels = sklearn_digits()
    rng = np.random.default_rng([seed, 2])
    image_digit = rng.integers(0, 10, size=n)
    audio_digit = rng.integers(0, 10, size=n) if synergy else image_digit.copy()
    by_class = [np.flatnonzero(labels == c) for c in range(10)]
    img_idx = np.array([by_class[d][rng.integers(len(by_class[d]))] for d in image_digit])
    image = images[img_idx] + rng.normal(0.0, image_noise, size=(n, 8, 8))
    voice = rng.integers(0, n_voices, size=n)
    audio = np.empty((n, 20, 13))
    for i in range(n):
        clip = bank[voice[i]][audio_digit[i]]
        power = float(np.mean(clip**2))
        sd = np.sqrt(power / 10.0 ** (audio_snr_db / 10.0))
        audio[i] = mfcc(clip + rng.normal(0.0, sd, size=clip.size), rate)

    if synergy:
        targets = {"parity": (image_digit + audio_digit) % 2, "image_digit": image_digit,
                   "audio_digit": audio_digit, "voice": voice}
        classes = {"parity": ("even", "odd"), "image_digit": WORDS, "audio_digit": WORDS}
    else:
        targets = {"digit": image_digit, "voice": voice}
        classes = {"digit": WORDS}
    meta = DatasetMetadata(
        name="av-digits-synergy" if synergy else "av-digits",
        description=(
            "Handwritten 8x8 digit images paired with spoken digit words synthesised by "
            "espeak-ng (13 MFCCs x 20 frames)"
            + ("; target = parity of the seen digit plus the heard digit (synergy)."
               if synergy else "; both modalities show the same digit.")
        ),
        source=(
            "Generated locally: images from scikit-learn's bundled digits (UCI optdigits); "
            f"speech by {espeak_version().split('  ')[0]}; MFCCs with numpy/scipy."
        ),
        licence="BSD-3-Clause (digit images via scikit-learn); synthesised audio: no restriction "
                "(espeak-ng is GPL-3+, run as an external program)",
        modality_kinds={"image": "image", "audio": "audio"},
        classes=classes,
        extra={"generator": "make_av_digits", "settings": settings, "voices": voices,
               "sample_rate": rate},
    )
    ds = MultimodalDataset({"image": image, "audio": audio},
                           {k: v.astype(np.int64) for k, v in targets.items()},
                           default_target="parity" if synergy else "digit", metadata=meta)
    if cache:
        from .io import save_dataset

        ds_path.parent.mkdir(parents=True, exist_ok=True)
        save_dataset(ds, ds_path)
    return ds
