"""The lint configuration of pyproject.toml holds: ruff's pycodestyle and pyflakes rules on the
package, tools, tests and configs, and isort's import order on the package (ruff and isort are
in requirements/ci.txt)."""
import subprocess
import sys

from conftest import REPO_ROOT


def run(*args):
    return subprocess.run([sys.executable, '-m', *args], cwd=str(REPO_ROOT), capture_output=True,
                          text=True, timeout=300)


def test_ruff_finds_nothing():
    proc = run('ruff', 'check', '--no-cache', 'mmpose_regda', 'mmpose_regda_stock.py', 'tools',
               'tests', 'configs', 'setup.py')
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_package_imports_are_in_order():
    proc = run('isort', '--check-only', '--diff', 'mmpose_regda')
    assert proc.returncode == 0, proc.stdout + proc.stderr
