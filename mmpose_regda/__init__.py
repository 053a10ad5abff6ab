"""mmpose-regda: regressive domain adaptation for unsupervised keypoint detection (MMPose plugin).

Importing the package registers its models, datasets, metrics and hooks into MMPose's registries
(and its DDP wrapper into mmengine's root ``MODEL_WRAPPERS``). Configs reach it with
``custom_imports = dict(imports=['mmpose_regda'], allow_failed_imports=False)``.
"""
import warnings

# setuptools warns on every import of pkg_resources, which mmengine still imports: noise for the
# plugin's users, not news
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

from .utils import compat  # noqa: E402

# Must run before anything below imports mmpose.models (see compat.install_mmcv_ext_placeholder).
compat.apply_all()
# mmcv-lite warns on import that its deformable attention op is missing; no model here uses it.
warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')

from . import datasets, engine, evaluation, models  # noqa: E402,F401  registers everything
from .version import __version__  # noqa: E402

__all__ = ['__version__']
