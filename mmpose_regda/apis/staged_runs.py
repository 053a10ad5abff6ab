"""Benchmarks as chains of ``tools/train.py`` / ``tools/test.py`` runs that survive interruption
(what the benchmark tools share: ``from mmpose_regda.apis.staged_runs import ...``).

A stage trains one config into its own work directory; a ``done`` marker and the final
checkpoint make a finished stage reusable, and an interrupted one resumes from its last
checkpoint. A stage whose tool exits non-zero (a NaN loss, a bad input) raises
:class:`StageFailed` and is not marked done. Evaluations are cached as the metrics json that
``tools/test.py --out`` writes, and :func:`format_over_seeds` writes one table cell of a result
over training seeds.
"""
import collections
import json
import os
import os.path as osp
import re
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np

#: The checkout the package is installed from (``pip install -e .``): the benchmarks run its
#: ``tools/`` on its ``configs/``.
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class StageFailed(RuntimeError):
    """A stage's ``tools/train.py`` or ``tools/test.py`` exited non-zero; its log says why."""


#: What the console shows of a stage: its progress and results. Each run's whole log (the
#: config, the environment, the model's initialisation) is in its work directory, as mmengine
#: writes it.
PROGRESS = re.compile(r'Iter\((train|val|test)\)|Epoch\(|Load(s)? checkpoint|Saving checkpoint|'
                      r'Auto resumed|resumed epoch|Traceback|Error|error:')
#: How much of a failed run's output the console shows.
FAILURE_TAIL = 40
#: The longest progress line shown whole; a longer one keeps its start (the iteration, the
#: learning rates, the time) and its end (the last losses).
PROGRESS_WIDTH = 240


def shorten(line: str, width: int = PROGRESS_WIDTH) -> str:
    line = line.rstrip()
    if len(line) <= width:
        return line
    head = (width - 5) * 2 // 3
    return line[:head] + ' ... ' + line[-(width - 5 - head):]


def run_tool(cmd: List[str]) -> None:
    """Run ``python <cmd>`` from the repository root, showing its progress lines as they come;
    if it fails, the end of its output too (then ``CalledProcessError``)."""
    print('\n>>> ' + ' '.join(cmd), flush=True)
    env = dict(os.environ)
    # setuptools warns on every import of pkg_resources, which mmengine still imports
    env['PYTHONWARNINGS'] = ','.join(
        filter(None, [env.get('PYTHONWARNINGS'), 'ignore:pkg_resources is deprecated']))
    tail = collections.deque(maxlen=FAILURE_TAIL)
    with subprocess.Popen([sys.executable] + cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
        for line in proc.stdout:
            tail.append(line)
            if PROGRESS.search(line):
                print('    ' + shorten(line), flush=True)
    if proc.returncode != 0:
        print(''.join(['    ' + line for line in tail]), end='', flush=True)
        raise subprocess.CalledProcessError(proc.returncode, cmd)


def final_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint a finished run ended with (mmengine's ``last_checkpoint`` file)."""
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        return None
    with open(marker) as f:
        path = f.read().strip()
    return path if osp.isfile(path) else None


def train_stage(config: str, work_dir: str, options: Sequence[str], run=run_tool,
                name: str = '', validate: bool = False) -> str:
    """Train ``config`` into ``work_dir`` unless a finished run is there; resume a broken one.
    Without ``validate`` the run does not validate (``--no-validate``): the stage's result is
    its final checkpoint, evaluated afterwards."""
    work_dir = osp.abspath(work_dir)
    done = osp.join(work_dir, 'done')
    if osp.isfile(done):
        print(f'[{name or work_dir}] reusing {final_checkpoint(work_dir)}', flush=True)
        return work_dir
    cmd = [osp.join('tools', 'train.py'), config, '--work-dir', work_dir] + (
        [] if validate else ['--no-validate']) + ['--cfg-options'] + list(options)
    if final_checkpoint(work_dir):
        cmd.insert(4, '--resume')  # an interrupted run continues from its last checkpoint
    _run_stage(run, cmd, f'training {name or work_dir}')
    open(done, 'w').close()
    return work_dir


def evaluate_stage(config: str, work_dir: str, out_name: str, options: Sequence[str] = (),
                   run=run_tool) -> Dict[str, float]:
    """Metrics of the final checkpoint of ``work_dir`` (cached as ``<work_dir>/<out_name>``)."""
    out = osp.join(work_dir, out_name)
    if not osp.isfile(out):
        cmd = [osp.join('tools', 'test.py'), config, final_checkpoint(work_dir), '--work-dir',
               work_dir, '--out', out]
        if options:
            cmd += ['--cfg-options'] + list(options)
        _run_stage(run, cmd, f'evaluating {work_dir}')
    with open(out) as f:
        return json.load(f)


def _run_stage(run, cmd: List[str], what: str) -> None:
    try:
        run(cmd)
    except subprocess.CalledProcessError as e:
        raise StageFailed(f'{what} failed: {osp.basename(cmd[0])} exited with {e.returncode} '
                          '(the end of its output above says why). The stage is not marked '
                          'done; fix the cause and run the benchmark again: finished stages '
                          'are reused.') from None


def format_over_seeds(values: Sequence[float], digits: int) -> str:
    """One table cell: the value of a single seed, or ``mean ± sample std`` over several (the
    spread between seeds, not the error of the mean)."""
    values = np.asarray(values, dtype=float)
    if values.size == 1:
        return f'{values[0]:.{digits}f}'
    return f'{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}'


def write_table(table: str, work_dir: str, name: str = 'results.md') -> None:
    """Print a benchmark's table and keep it as ``<work_dir>/<name>`` (atomically)."""
    from mmpose_regda.utils import atomic_output
    with atomic_output(osp.join(work_dir, name)) as tmp, open(tmp, 'w') as f:
        f.write(table)
    print('\n' + table)
