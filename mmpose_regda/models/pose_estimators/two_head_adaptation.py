import copy
from typing import Callable, Dict, Optional, Tuple, Union

from mmengine.optim import OptimWrapperDict
from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import OptConfigType, SampleList
from ..utils import minimise_over_parts, scale_gradient
from .domain_adaptation import DomainAdaptationEstimator

Features = Tuple[Tensor, ...]


class TwoHeadAdaptationEstimator(DomainAdaptationEstimator):
    """A top-down pose estimator with a second head, adapted by three objectives per iteration.

    The shared machinery of RegDA (f and the adversarial regressor f') and MCD (two regressors):
    a feature generator psi = ``backbone`` + ``neck``, the main head f = ``head`` (the only one
    used for inference, so a checkpoint of the plain ``TopdownPoseEstimator`` loads key for key)
    and a second head ``adv_head``. Each training iteration is

    1. Objective 1 on the labeled source batch, then, once adaptation is on,
    2. Objective 2 on the target images, then
    3. Objective 3 on the same target features (psi does not change in between),

    each a minimisation with its own update over the parts of :attr:`OBJECTIVE_PARTS` (one
    optimizer per part, see ``RegDAOptimWrapperConstructor``). Subclasses define the three
    objectives (``objective_1(inputs, data_samples)``, ``objective_2(inputs)``,
    ``objective_3()``) and their names. Target labels are never read: only the target images go
    into the passes.

    ``adv_grad_scale`` multiplies the gradient that the second head sends into psi
    (``_to_adv_head``), and ``adaptation_enabled`` switches Objectives 2 and 3 on; ``RegDAHook``
    schedules both.

    Args:
        adv_head (dict, optional): the second head. Defaults to a copy of ``head``'s config.
        **kwargs: as ``DomainAdaptationEstimator`` (backbone, neck, head, trade_off, ...).
    """
    OPTIM_PARTS = dict(DomainAdaptationEstimator.OPTIM_PARTS, adv_head=('adv_head', ))
    #: The parts each objective updates.
    OBJECTIVE_PARTS = (('generator', 'head', 'adv_head'), ('adv_head', ), ('generator', ))
    #: How errors and logs name the objectives (subclasses say what each one does).
    objective_names = ('Objective 1', 'Objective 2', 'Objective 3')

    def __init__(self, adv_head: OptConfigType = None, **kwargs):
        super().__init__(**kwargs)
        head = kwargs.get('head')
        self.adv_head = MODELS.build(copy.deepcopy(adv_head if adv_head is not None else head))
        # psi's target features (and what else Objective 3 needs), from Objective 2 to 3
        self._target_pass = None

    def train_step(self,
                   data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapperDict,
                   forward: Optional[Callable] = None) -> Dict[str, Tensor]:
        """One iteration on ``data = dict(source=..., target=...)``.

        Args:
            data (dict): a source and a target batch, each as a dataloader yields it.
            optim_wrapper (OptimWrapperDict): one optimizer per part of :attr:`OPTIM_PARTS`.
            forward (callable, optional): what runs each pass; ``RegDADistributedDataParallel``
                passes itself so that every pass goes through DDP's forward (and its gradient
                all-reduce). Defaults to the model.

        Returns:
            dict: the log variables of every objective, each under its own name.
        """
        forward = forward if forward is not None else self
        source = self.data_preprocessor(data['source'], True)
        log_vars = minimise_over_parts(
            self.objective_names[0],
            forward(source['inputs'], source['data_samples'], mode='objective_1'),
            optim_wrapper, self.OBJECTIVE_PARTS[0])
        if not self.adaptation_enabled:
            return log_vars
        # Only the target images: target labels, if the dataset has any, never reach a loss.
        target_inputs = self.data_preprocessor(data['target'], True)['inputs']
        log_vars.update(
            minimise_over_parts(self.objective_names[1],
                                forward(target_inputs, mode='objective_2'), optim_wrapper,
                                self.OBJECTIVE_PARTS[1]))
        log_vars.update(
            minimise_over_parts(self.objective_names[2], forward(None, mode='objective_3'),
                                optim_wrapper, self.OBJECTIVE_PARTS[2]))
        return log_vars

    def forward(self, inputs, data_samples: Optional[SampleList] = None, mode: str = 'tensor'):
        """mmengine's modes, plus one per objective (each a pass through DDP forward)."""
        if mode == 'objective_1':
            return self.objective_1(inputs, data_samples)
        if mode == 'objective_2':
            return self.objective_2(inputs)
        if mode == 'objective_3':
            return self.objective_3()
        return super().forward(inputs, data_samples, mode)

    def objective_1(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        raise NotImplementedError

    def objective_2(self, inputs: Tensor) -> Dict[str, Tensor]:
        raise NotImplementedError

    def objective_3(self) -> Dict[str, Tensor]:
        raise NotImplementedError

    def _pop_target_pass(self):
        if self._target_pass is None:
            raise RuntimeError(f'{type(self).__name__}: Objective 3 runs on the target '
                               'features of Objective 2; call objective_2 first')
        target_pass, self._target_pass = self._target_pass, None
        return target_pass

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """f's predictions as ``TopdownPoseEstimator``; with ``test_cfg.adv_head_predictions``
        also the second head's, as ``adv_pred_instances`` (for Fig. 9: ``PartPCKAccuracy(
        pred_field='adv_pred_instances')`` scores it on the target while f is scored as usual)."""
        if not self.test_cfg.get('adv_head_predictions', False):
            return super().predict(inputs, data_samples)
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

    def _to_adv_head(self, feats: Features) -> Features:
        return tuple(scale_gradient(feat, self.adv_grad_scale) for feat in feats)
