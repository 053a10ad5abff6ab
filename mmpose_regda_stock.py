"""Stock MMPose under mmcv-lite, with nothing of mmpose-regda registered.

An exported model (``tools/misc/export_model.py``) is a plain MMPose model, but with mmcv-lite
(mmcv without its compiled ops) ``import mmpose.models`` fails on ``No module named
'mmcv._ext'`` (mmpose 1.3's EDPose head imports ``mmcv.ops``; no top-down heatmap model calls
those ops). Importing this module before MMPose installs the placeholder of
``mmpose_regda/utils/compat.py`` and nothing else: the plugin package itself is not imported, so
no plugin model, dataset or hook is registered. It lives outside the ``mmpose_regda`` package
because importing any module of that package runs the package's ``__init__``, which registers
the plugin.

    import mmpose_regda_stock  # noqa: F401  (before mmpose)
    from mmpose.apis import inference_topdown, init_model

or, for a script of stock MMPose (its demos, ``tools/test.py``)::

    python -m mmpose_regda_stock SCRIPT [ARGS...]
"""
import importlib.util
import os.path as osp
import runpy
import sys
import warnings

__all__ = ['mmcv_ext_placeholder_installed']


def _load_compat():
    """``mmpose_regda/utils/compat.py`` as a module of its own, found without importing the
    package (``find_spec`` of a top-level package does not run its ``__init__``)."""
    package = importlib.util.find_spec('mmpose_regda')
    if package is None or not package.submodule_search_locations:
        raise ImportError('mmpose_regda_stock: the mmpose_regda package is not installed')
    path = osp.join(list(package.submodule_search_locations)[0], 'utils', 'compat.py')
    spec = importlib.util.spec_from_file_location('_mmpose_regda_stock_compat', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: whether mmcv-lite needed the placeholder (False with full mmcv: nothing was changed)
mmcv_ext_placeholder_installed = _load_compat().install_mmcv_ext_placeholder()
if mmcv_ext_placeholder_installed:
    # mmcv-lite warns on import that this op is missing; no top-down heatmap model uses it
    warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')


def main(argv=None) -> None:
    """Run ``SCRIPT [ARGS...]`` as ``__main__`` with the placeholder installed."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ('-h', '--help'):
        print('usage: python -m mmpose_regda_stock SCRIPT [ARGS...]\n\n' +
              __doc__.split('\n\n')[0])
        sys.exit(0 if argv else 2)
    script = argv[0]
    if not osp.isfile(script):
        sys.exit(f'error: python -m mmpose_regda_stock: script {script} not found')
    sys.argv = list(argv)
    sys.path.insert(0, osp.dirname(osp.abspath(script)))
    runpy.run_path(script, run_name='__main__')


if __name__ == '__main__':
    main()
