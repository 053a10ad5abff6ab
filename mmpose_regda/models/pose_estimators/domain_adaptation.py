from typing import Dict, Optional, Sequence

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.utils.typing import ConfigType, OptConfigType, OptMultiConfig


class DomainAdaptationEstimator(TopdownPoseEstimator):
    """What every adaptation method of the plugin shares: a top-down pose estimator whose
    ``train_step`` takes ``dict(source=..., target=...)`` and trains its parts with one optimizer
    each (``RegDAOptimWrapperConstructor`` reads :meth:`optim_parts`).

    The feature generator psi = ``backbone`` + ``neck`` and the regressor f = ``head`` are those of
    the plain ``TopdownPoseEstimator``, which is what inference runs: a source-only checkpoint
    loads into any method key for key, and an adapted model predicts like a plain one.

    Args:
        backbone, neck, head: as ``TopdownPoseEstimator``; ``head`` is f (a ``KLHeatmapHead``).
        trade_off (float): eta, the weight of the method's adaptation losses.
        adv_grad_scale (float): the factor on the gradient the adaptation part sends into psi;
            ``RegDAHook`` warms it up (RegDA's f', DANN's reversal coefficient).
        adaptation_enabled (bool): False trains the source objective only; ``RegDAHook`` turns
            it on after its warm-up.
        train_cfg, test_cfg, data_preprocessor, init_cfg, metainfo: as ``TopdownPoseEstimator``.
    """
    #: The parts with their own optimizer, and the submodules of each.
    OPTIM_PARTS = dict(generator=('backbone', 'neck'), head=('head', ))

    def __init__(self,
                 backbone: ConfigType,
                 neck: OptConfigType = None,
                 head: OptConfigType = None,
                 trade_off: float = 1.,
                 adv_grad_scale: float = 1.,
                 adaptation_enabled: bool = True,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 metainfo: Optional[dict] = None):
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            metainfo=metainfo)
        if head is None:
            raise ValueError(f'{type(self).__name__} needs a `head` (the regressor f)')
        self.trade_off = trade_off
        self.adv_grad_scale = adv_grad_scale
        self.adaptation_enabled = adaptation_enabled

    def optim_parts(self) -> Dict[str, Sequence[str]]:
        """Submodule names of each part, for ``RegDAOptimWrapperConstructor``; a part without
        trainable parameters (DAN's MMD) is no part."""
        parts = {}
        for part, names in self.OPTIM_PARTS.items():
            modules = [m for m in names if getattr(self, m, None) is not None]
            if any(p.requires_grad for m in modules for p in getattr(self, m).parameters()):
                parts[part] = modules
        return parts
