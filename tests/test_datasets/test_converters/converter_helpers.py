"""Shared builders for the converter tests: images, the command-line tools run in-process, and the
check that a failed conversion leaves the output folder as it was.

Plain functions in a module of their own, not a ``conftest.py``: the test folders have no
``__init__.py``, so every ``conftest.py`` is imported under the one name ``conftest``, and a
second one here would shadow ``tests/conftest.py`` for the modules that ``from conftest import``.
"""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmpose_regda.datasets.converters import ConversionError
from conftest import run_tool_main

REPO_ROOT = Path(__file__).resolve().parents[3]
TOOLS_DIR = REPO_ROOT / 'tools' / 'dataset_converters'


def write_image(path, width=8, height=8, value=0) -> Path:
    """A real (grey) image file; folders made."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((height, width, 3), value, np.uint8))
    return path


def run_converter_tool(name, *args) -> str:
    """Run ``tools/dataset_converters/<name>.py``'s ``main`` in this process; returns what it
    printed."""
    return run_tool_main(TOOLS_DIR / f'{name}.py', *args)


def assert_fails_cleanly(convert, out_dir, existing, absent, *patterns) -> str:
    """``convert()`` raises a ConversionError whose message contains every pattern; afterwards
    the file ``existing`` (created here beforehand) is unchanged, ``absent`` does not exist, and
    no other file (a temporary one) is left in ``out_dir``. Returns the message."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    before = '{"previous": "conversion"}'
    (out_dir / existing).write_text(before)
    with pytest.raises(ConversionError) as error:
        convert()
    for pattern in patterns:
        assert pattern in str(error.value), (pattern, str(error.value))
    assert (out_dir / existing).read_text() == before
    assert not (out_dir / absent).exists()
    assert [p.name for p in out_dir.iterdir() if p.is_file()] == [existing]
    return str(error.value)


def read_json(path):
    return json.loads(Path(path).read_text())


def kpts(annotation) -> np.ndarray:
    """The annotation's keypoints as a ``(K, 3)`` array."""
    return np.asarray(annotation['keypoints'], dtype=float).reshape(-1, 3)
