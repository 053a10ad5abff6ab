"""Shared test fixtures: where the repository and the real pose samples are, and how to run the
command-line tools in a subprocess the way a user would."""
import contextlib
import importlib.util
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
HELPERS_DIR = Path(__file__).resolve().parent / 'helpers'
# The real samples live in the shared folder beside the repository; REGDA_POSE_SAMPLES overrides.
# test-only modules (a tiny RegDA model, a parameter-dump hook) for tests and tool subprocesses
sys.path.insert(0, str(HELPERS_DIR))
#: The CPU-sized RHD -> FreiHand configs that several tool tests train on the real samples.
KL_CONFIG = REPO_ROOT / 'configs/regda/kl-pretrain_res18_1xb3-40e_rhd-samples-128x128.py'
REGDA_CONFIG = (REPO_ROOT /
                'configs/regda/regda_res18_1xb3-10e_rhd-samples-to-freihand-samples-128x128.py')
POSE_SAMPLES = Path(os.environ.get('REGDA_POSE_SAMPLES',
                                   REPO_ROOT.parent / 'shared' / 'data' / 'pose_samples'))


@pytest.fixture(scope='session')
def pose_samples() -> Path:
    """The folder of real pose samples (rhd, freihand, ...), checked to be complete."""
    expected = ['rhd/test_rhd.json', 'freihand/test_freihand.json',
                'onehand10k/test_onehand10k.json', 'h36m/h36m_coco.json']
    missing = [name for name in expected if not (POSE_SAMPLES / name).is_file()]
    if missing:
        pytest.fail(f'real pose samples not found: {", ".join(missing)} missing under '
                    f'{POSE_SAMPLES}. They ship in shared/data/pose_samples beside the '
                    'repository; set REGDA_POSE_SAMPLES to their folder if it lives elsewhere.')
    return POSE_SAMPLES


def tool_env(**extra) -> dict:
    """Environment for a tool subprocess: the repository and the test helpers importable."""
    env = dict(os.environ)
    paths = [str(REPO_ROOT), str(HELPERS_DIR), env.get('PYTHONPATH', '')]
    env['PYTHONPATH'] = os.pathsep.join(p for p in paths if p)
    env.setdefault('OMP_NUM_THREADS', '1')
    env.update(extra)
    return env


def run_tool(args, cwd, timeout=600, **env) -> subprocess.CompletedProcess:
    """Run a python tool (``tools/train.py ...``) and fail the test with its output if it fails."""
    proc = subprocess.run([sys.executable, *[str(a) for a in args]], cwd=str(cwd),
                          env=tool_env(**env), capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f'{" ".join(map(str, args))} exited with {proc.returncode}:\n'
                    f'{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}')
    return proc


def run_tool_main(tool, *args) -> str:
    """Run a tool's ``main(argv)`` in this process (a subprocess would spend seconds importing
    the plugin again); returns what it printed."""
    spec = importlib.util.spec_from_file_location(Path(tool).stem, tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        module.main([str(a) for a in args])
    return stdout.getvalue()
