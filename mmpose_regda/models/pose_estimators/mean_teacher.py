from typing import Dict

from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import OptConfigType
from .domain_adaptation import DomainAdaptationEstimator


@MODELS.register_module()
class MeanTeacherPoseEstimator(DomainAdaptationEstimator):
    r"""Mean-teacher adaptation for heatmap regression (UDAPE, Kim et al., ECCV 2022, without its
    input-level style transfer): the supervised source loss plus the consistency of the student
    with its exponential-moving-average teacher on the unlabeled target, in one update of psi
    and f per iteration, then the teacher's EMA step.

    .. math:: \min_{\psi, f}\; L_T(f(\psi(x_s)), y_s) + \lambda\,
        L_T\big(f(\psi(\mathrm{occlude}(x_t^{stu}))),\; \mathcal{H}(W\,\hat y^{tea})\big)_{mask}

    with :math:`\hat y^{tea}` the teacher's prediction on its view of the same image, W the
    affine between the views, H a Gaussian at the warped peak and the mask keeping the
    keypoints above the batch's confidence quantile (``MeanTeacherConsistency``). The teacher
    is the student where adaptation starts (``load_from`` or ``psi_checkpoint``), then follows
    it (momentum 0.999 in UDAPE's terms). ``AdaptationScheduleHook``'s warm-up
    (``adaptation_enabled`` False) trains the source loss alone while the teacher already
    follows. Target labels are never read.

    Args:
        mean_teacher (dict): ``MeanTeacherConsistency`` settings (UDAPE's by default).
        **kwargs: as ``DomainAdaptationEstimator`` (backbone, neck, head, ...).
    """
    SUPPORTS_MEAN_TEACHER = True
    #: psi and f learn from the target through the consistency, no gradient is scaled
    SCALES_ADAPTATION_GRADIENT = False
    OBJECTIVE_NAME = 'Objective (source loss + mean-teacher consistency: psi, f)'

    def __init__(self, mean_teacher: OptConfigType = dict(), **kwargs):
        super().__init__(mean_teacher=dict(mean_teacher or {}), **kwargs)

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, Tensor]:
        """One iteration on ``data = dict(source=..., target=...)``: the source loss and the
        target consistency minimised over psi and f, then the teacher's EMA step."""
        source, target_inputs = self.split_domains(data, optim_wrapper)
        optim_wrapper.start_iteration()
        self.start_teacher()
        update = optim_wrapper.objective('objective_1', ('generator', 'head'),
                                         self.OBJECTIVE_NAME)
        with update.optim_context(self):
            losses = self.source_loss(self.head(self.extract_feat(source['inputs'])),
                                      source['data_samples'])
            if self.adaptation_enabled:
                losses.update(self.consistency_losses(data['target'], target_inputs))
        log_vars = self.update_parts(update, losses)
        self.update_teacher(optim_wrapper)
        return log_vars
