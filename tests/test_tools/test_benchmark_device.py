"""The device benchmark script runs end to end (here on the CPU, tiny) and writes its figures."""
import json
import subprocess

import pytest

from conftest import REPO_ROOT, tool_env


def test_device_benchmark_runs_on_cpu_and_writes_consistent_figures(tmp_path):
    proc = subprocess.run(
        ['bash', str(REPO_ROOT / 'tools/analysis_tools/benchmark_device.sh'), '--device', 'cpu',
         '--depth', '18', '--input-size', '32', '--batch-size', '2', '--iters', '1',
         '--warmup', '0', '--precisions', 'float32', 'float16', '--layouts', 'channels_last'],
        # float16 on a CPU is measured on purpose: the plugin refuses it unless asked for
        cwd=tmp_path, env=tool_env(OUT=str(tmp_path), MMPOSE_REGDA_ALLOW_CPU_FLOAT16='1'),
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    figures = json.loads((tmp_path / 'benchmark_device.json').read_text())
    assert figures['device'] == 'CPU' and figures['batch_size'] == 2
    rows = {(r['variant'], r['precision']): r for r in figures['rows']}
    assert set(rows) == {(v, p) for v in ('source_only', 'regda') for p in ('float32', 'float16')}
    source, regda = rows['source_only', 'float32'], rows['regda', 'float32']
    assert regda['images_per_second_per_domain'] == pytest.approx(2 / regda['seconds_per_iter'])
    assert regda['regda_over_source_only'] == pytest.approx(
        regda['seconds_per_iter'] / source['seconds_per_iter'])
    assert rows['regda', 'float16']['over_float32'] == pytest.approx(
        rows['regda', 'float16']['seconds_per_iter'] / regda['seconds_per_iter'])
    # mmengine's AmpOptimWrapper runs on CUDA only: said, not measured
    assert rows['source_only', 'float16']['seconds_per_iter'] is None
    assert 'source-only mixed precision runs on CUDA only' in proc.stdout
