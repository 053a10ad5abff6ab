"""What a non-editable install gets: the wheel carries the package with its data files."""
import subprocess
import sys
import zipfile

from conftest import REPO_ROOT


def test_the_wheel_carries_the_metainfo_files_the_datasets_read(tmp_path):
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', str(REPO_ROOT), '--no-deps',
                    '--no-build-isolation', '-q', '-w', str(tmp_path)], check=True,
                   cwd=tmp_path, capture_output=True)
    wheel, = tmp_path.glob('mmpose_regda-*.whl')
    names = set(zipfile.ZipFile(wheel).namelist())
    metainfo = {p.relative_to(REPO_ROOT).as_posix()
                for p in (REPO_ROOT / 'mmpose_regda/datasets/metainfo').glob('*.py')}
    assert metainfo and metainfo <= names
    assert 'mmpose_regda/models/pose_estimators/regda.py' in names
    assert not any(name.startswith(('configs/', 'tests/', 'tools/')) for name in names)
