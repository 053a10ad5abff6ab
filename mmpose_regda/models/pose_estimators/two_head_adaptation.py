import copy
from typing import Tuple

from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import OptConfigType, SampleList
from ..utils import unwrapped_children
from .domain_adaptation import DomainAdaptationEstimator, require_kl_head

Features = Tuple[Tensor, ...]


class TwoHeadAdaptationEstimator(DomainAdaptationEstimator):
    """A top-down pose estimator with a second head on psi's features: RegDA's adversarial
    regressor f', MCD's second regressor f2.

    The main head f = ``head`` is the only one inference uses, so a checkpoint of the plain
    ``TopdownPoseEstimator`` loads key for key. A method whose second head sends psi a scaled
    gradient reads psi's features through :meth:`scale_adaptation_gradient` (RegDA's f').

    Args:
        adv_head (dict, optional): the second head. Defaults to ``head``'s config without the
            deconvolutions psi took over (see ``DomainAdaptationEstimator``).
        **kwargs: as ``DomainAdaptationEstimator`` (backbone, neck, head, trade_off, ...).
    """
    OPTIM_PARTS = dict(DomainAdaptationEstimator.OPTIM_PARTS, adv_head=('adv_head', ))

    def __init__(self, adv_head: OptConfigType = None, **kwargs):
        super().__init__(**kwargs)
        if adv_head is None:  # like f: the head's final layers on psi's features
            adv_head = self.regressor_config(kwargs['head'])
        self.adv_head = MODELS.build(copy.deepcopy(adv_head))
        require_kl_head(self.adv_head, f'{type(self).__name__}.adv_head')

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """f's predictions as ``TopdownPoseEstimator``; with ``test_cfg.adv_head_predictions``
        also the second head's, as ``adv_pred_instances`` (for Fig. 9: ``PartPCKAccuracy(
        pred_field='adv_pred_instances')`` scores it on the target while f is scored as usual)."""
        if not self.test_cfg.get('adv_head_predictions', False):
            return super().predict(inputs, data_samples)
        if self.test_cfg.get('teacher_predictions', False):
            self.require_teacher('test_cfg.teacher_predictions')
            self.add_teacher_predictions(inputs, data_samples)
        with unwrapped_children(self):
            if self.test_cfg.get('flip_test', False):
                feats = [self.extract_feat(inputs), self.extract_feat(inputs.flip(-1))]
            else:
                feats = self.extract_feat(inputs)
            for head, field in ((self.adv_head, 'adv_pred_instances'), (self.head, None)):
                preds = head.predict(feats, data_samples, test_cfg=self.test_cfg)
                instances, fields = preds if isinstance(preds, tuple) else (preds, None)
                self.add_pred_to_datasample(instances, fields, data_samples)
                if field is not None:
                    for sample in data_samples:
                        sample.set_field(sample.pred_instances, field)
        return data_samples
