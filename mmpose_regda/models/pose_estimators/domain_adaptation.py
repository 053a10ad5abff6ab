from typing import Dict, List, Optional, Tuple

from torch import Tensor

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.utils.typing import ConfigType, OptConfigType, OptMultiConfig, SampleList
from ..utils import unwrapped_children


class DomainAdaptationEstimator(TopdownPoseEstimator):
    """What every adaptation method of the plugin shares: a top-down pose estimator whose
    ``train_step`` takes ``dict(source=..., target=...)`` and trains its parts with one optimizer
    each (``PartOptimWrapperConstructor`` reads :meth:`optim_parts`).

    The feature generator psi = ``backbone`` + ``neck`` and the regressor f = ``head`` are those of
    the plain ``TopdownPoseEstimator``, which is what inference runs: a source-only checkpoint
    loads into any method key for key, and an adapted model predicts like a plain one.

    A method's ``train_step`` is a sequence of updates, each written as in mmengine::

        with optim_wrapper.optim_context(self):
            losses = ...
        log_vars = optim_wrapper.update_params(losses, parts=(...), objective='...')

    Every pass calls the parts themselves (``self.head(feats)``, not ``self.head.forward``), so
    that under ``MMSeparateDistributedDataParallel`` each goes through its part's DDP forward and
    its backward all-reduces that part's gradients; a part with frozen parameters is run through
    ``frozen``.

    Args:
        backbone, neck, head: as ``TopdownPoseEstimator``; ``head`` is f (a ``KLHeatmapHead``).
        trade_off (float): eta, the weight of the method's adaptation losses.
        adv_grad_scale (float): the factor on the gradient the adaptation part sends into psi;
            ``AdaptationScheduleHook`` warms it up (RegDA's f', DANN's reversal coefficient).
        adaptation_enabled (bool): False trains the source objective only;
            ``AdaptationScheduleHook`` turns it on after its warm-up.
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

    def optim_parts(self) -> Dict[str, List[str]]:
        """Part name -> the submodules it optimises, for ``PartOptimWrapperConstructor``; a part
        without trainable parameters (DAN's MMD) is no part.

        Raises:
            ValueError: a trainable parameter that no part, or two parts, would optimise.
        """
        parts, owner = {}, {}
        for part, names in self.OPTIM_PARTS.items():
            modules = [m for m in names if getattr(self, m, None) is not None]
            params = [p for m in modules for p in getattr(self, m).parameters() if p.requires_grad]
            if params:
                parts[part] = modules
            for param in params:
                if owner.setdefault(id(param), part) != part:
                    raise ValueError(f'{type(self).__name__}: a parameter of {modules} is in '
                                     f'parts `{owner[id(param)]}` and `{part}`')
        orphans = [n for n, p in self.named_parameters() if p.requires_grad and id(p) not in owner]
        if orphans:
            raise ValueError(f'{type(self).__name__}: parameters {orphans[:5]} belong to no '
                             f'part of {self.OPTIM_PARTS}, so would never train; freeze them '
                             'or add their module to OPTIM_PARTS')
        return parts

    def split_domains(self, data: dict) -> Tuple[dict, Tensor]:
        """The preprocessed source batch, and the target images alone: target labels, if the
        dataset has any, never reach a loss."""
        source = self.data_preprocessor(data['source'], True)
        target_inputs = self.data_preprocessor(data['target'], True)['inputs']
        return source, target_inputs

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """As ``TopdownPoseEstimator`` (f alone), also inside a DDP wrapper per part."""
        with unwrapped_children(self):
            return super().predict(inputs, data_samples)

    def state_dict(self, *args, **kwargs):
        """The plain model's keys also inside a DDP wrapper per part (which would add
        ``.module.`` to each): a checkpoint of distributed training loads anywhere."""
        with unwrapped_children(self):
            return super().state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, *args, **kwargs):
        with unwrapped_children(self):
            return super().load_state_dict(state_dict, *args, **kwargs)
