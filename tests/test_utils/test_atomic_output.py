"""mmpose_regda.utils.atomic_output: whole outputs or none, and no temporary left behind by a
writer that was killed once the output is written again."""
import os
import signal
import subprocess
import sys

import pytest

from mmpose_regda.datasets.converters import write_outputs
from mmpose_regda.utils import atomic_output
from mmpose_regda.utils.atomic_output import remove_stale_temporaries

MODULE = atomic_output.__module__  # the function shadows its module in mmpose_regda.utils
MODULE_FILE = sys.modules[MODULE].__file__


def killed_writer(out_path, directory=False):
    """A process that dies (SIGKILL) half-way through writing ``out_path``: what a converter
    killed during its write leaves. The module is loaded from its file, standalone."""
    code = f"""
import importlib.util, os, signal
spec = importlib.util.spec_from_file_location('atomic_output', {MODULE_FILE!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
with module.atomic_output({str(out_path)!r}, directory={directory}) as tmp:
    if {directory}:
        tmp = os.path.join(tmp, 'half.png')
    with open(tmp, 'w') as f:
        f.write('half of it')
    os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def test_a_killed_writers_temporary_is_removed_by_the_next_write(tmp_path):
    out = tmp_path / 'rhd_train.json'
    out.write_text('old')
    killed_writer(out)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != out.name]
    assert len(leftovers) == 1 and leftovers[0].startswith('.rhd_train.json.')
    assert out.read_text() == 'old'  # the previous output is untouched
    # the next run of the converter writes the same file: the stale temporary goes
    write_outputs(str(tmp_path), {'rhd_train.json': {'images': []}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ['rhd_train.json']


def test_a_killed_folder_writers_temporary_is_removed_by_the_next_write(tmp_path):
    folder = tmp_path / 'target_test'
    killed_writer(folder, directory=True)
    assert len(list(tmp_path.iterdir())) == 1 and not folder.exists()
    with atomic_output(str(folder), directory=True) as tmp:
        open(os.path.join(tmp, 'annotations.json'), 'w').close()
    assert [p.name for p in tmp_path.iterdir()] == ['target_test']
    assert [p.name for p in folder.iterdir()] == ['annotations.json']


def test_a_live_writers_temporary_is_left_alone(tmp_path):
    out = tmp_path / 'table.md'
    with atomic_output(str(out)) as tmp:
        with open(tmp, 'w') as f:
            f.write('done')
        # another write of the same output meanwhile (this process is alive) must not remove it
        assert remove_stale_temporaries(str(out)) == []
        assert os.path.exists(tmp)
    assert out.read_text() == 'done'


def test_a_folder_someone_else_finished_first_is_kept(tmp_path):
    folder = tmp_path / 'split'
    with atomic_output(str(folder), directory=True) as tmp:
        folder.mkdir()
        (folder / 'theirs').write_text('x')
        (open(os.path.join(tmp, 'mine'), 'w')).close()
    assert [p.name for p in folder.iterdir()] == ['theirs']
    assert [p.name for p in tmp_path.iterdir()] == ['split']


def test_a_failed_write_leaves_the_old_output_and_no_temporary(tmp_path):
    out = tmp_path / 'picture.png'
    out.write_bytes(b'old')
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(str(out)) as tmp:
            assert tmp.endswith('.png')  # writers choose the format from the extension
            open(tmp, 'wb').write(b'ne')
            raise KeyboardInterrupt
    assert [p.name for p in tmp_path.iterdir()] == ['picture.png']
    assert out.read_bytes() == b'old'
