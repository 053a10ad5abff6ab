"""Install mmpose-regda next to MMPose 1.x.

The OpenMMLab stack and torch are accepted from the versions CI installs and tests
(``requirements/ci.txt``: torch 2.14.1, mmengine 0.10.7, mmpose 1.3.2, mmdet 3.3.0) up to their
next minor release, which is untested.
"""
import os.path as osp

from setuptools import find_packages, setup


def read_version():
    namespace = {}
    with open(osp.join(osp.dirname(__file__), 'mmpose_regda', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='mmpose-regda',
    version=read_version(),
    description='Regressive domain adaptation (RegDA, CVPR 2021) for unsupervised keypoint '
    'detection, as an MMPose 1.x plugin',
    long_description=open(osp.join(osp.dirname(__file__), 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(include=['mmpose_regda', 'mmpose_regda.*']),
    # stock MMPose under mmcv-lite without the plugin registered (exported models)
    py_modules=['mmpose_regda_stock'],
    # the metainfo files are read from their folder, which is no package (mmpose's habit)
    package_data={'mmpose_regda.datasets': ['metainfo/*.py']},
    python_requires='>=3.8',
    install_requires=[
        # what the plugin imports; mmcv is not listed, as in mmpose and mmdet: full mmcv (GPU
        # users) and mmcv-lite install the same `mmcv` package, so pip must not pull one over
        # the other. Any mmcv >= 2.0, < 2.2 works (mmdet 3.x asserts < 2.2); CI uses mmcv-lite.
        'torch>=2.14.1,<2.15',
        'numpy>=1.23',
        'opencv-python',
        'scipy',
        'matplotlib',
        'pillow',
        'mmengine>=0.10.7,<0.11',
        'mmpose>=1.3.2,<1.4',
        # imported by mmpose.models (its RTMO head), which mmpose itself does not declare
        'mmdet>=3.3.0,<3.4',
    ],
    extras_require={
        'tests': ['pytest'],
        # ViTPose's stock configs build their backbone from mmpretrain, which mmpose does not
        # install: pip install -e ".[vitpose]"
        'vitpose': ['mmpretrain>=1.2.0,<2'],
    },
    zip_safe=False,
)
