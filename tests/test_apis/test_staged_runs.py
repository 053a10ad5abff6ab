"""mmpose_regda.apis.staged_runs (the benchmark tools' stages): what the console shows of a
stage."""
import subprocess

import pytest

from mmpose_regda.apis import staged_runs

LONG = ('12/01 13:41:09 - mmengine - INFO - Iter(train) [ 450/500]  generator.lr: 9.6e-03  '
        'head.lr: 9.6e-02  adv_head.lr: 9.6e-02  eta: 0:00:13  time: 0.49  data_time: 0.09  ' +
        '  '.join(f'loss_{i}: 0.{i}' for i in range(30)) + '  disparity_target: 1.27')


def test_a_long_progress_line_keeps_its_iteration_and_its_last_losses():
    short = staged_runs.shorten(LONG)
    assert len(short) == staged_runs.PROGRESS_WIDTH
    assert 'Iter(train) [ 450/500]' in short and short.endswith('disparity_target: 1.27')
    assert staged_runs.shorten('Iter(val) [8/8] PCK/Avg: 0.5\n') == 'Iter(val) [8/8] PCK/Avg: 0.5'


def test_the_console_shows_progress_not_the_rest(capsys):
    staged_runs.run_tool(['-c', f'print("config dump: model = dict(...)"); print({LONG!r})'])
    command, out = capsys.readouterr().out.strip().split('\n', 1)
    assert command.startswith('>>> -c')
    assert 'Iter(train) [ 450/500]' in out and 'config dump' not in out


def test_a_failed_run_shows_the_end_of_its_output_without_the_setuptools_warning(capsys):
    # the whole tail is shown, so only the stage's environment can keep the warning out of it
    script = ('import sys, warnings; warnings.warn("pkg_resources is deprecated as an API"); '
              'print("the cause: bad value 7"); sys.stdout.flush(); raise SystemExit(3)')
    with pytest.raises(subprocess.CalledProcessError):
        staged_runs.run_tool(['-c', script])
    command, out = capsys.readouterr().out.strip().split('\n', 1)
    assert 'the cause: bad value 7' in out and 'pkg_resources' not in out
