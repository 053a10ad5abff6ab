import math
import warnings
from typing import Dict, Optional, Union

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmpose.registry import HOOKS
from ...utils.keypoint_semantics import check_keypoint_semantics, keypoint_names
from ..assembly_checks import check_assembly


@HOOKS.register_module()
class AdaptationScheduleHook(Hook):
    r"""The schedule of an adaptation method, set on the model before every training iteration:
    RegDA's and MCD's f' / f2, DANN's and DAN's alignment (every ``DomainAdaptationEstimator``).

    - Warm-up: for the first ``warmup_iters`` iterations only the source objective is trained;
      the adaptation objectives start after.
    - Warm start of the gradient the adaptation part sends into psi (RegDA's f' -> psi, the
      reference's ``WarmStartGradientLayer``; DANN's reversal coefficient): counting
      ``i`` from the start of adaptation,

      .. math:: \lambda(i) = \frac{2 (hi - lo)}{1 + \exp(-\alpha i / N)} - (hi - lo) + lo

      which is ``lo`` at i = 0 and tends to ``hi`` (reference: lo 0, hi 0.1, alpha 1, N = 1000,
      so about 0.1 after 5k iterations). f' then cannot drag psi around before it is trained.
      ``grad_scale`` may also be a number (constant scale) or None (1, no scaling).

    The schedule is a function of the runner's iteration only, so a resumed run continues it
    exactly where it stopped (the runner restores its iteration). The current scale is set as the
    model's ``adaptation_grad_scale`` and logged under that name. The disparities of Fig. 9
    (``disparity_source``, ``disparity_target``: mean distance between the keypoints of f and
    f', in heatmap pixels) and each objective's loss come from the model's ``train_step`` and
    reach the logger and the visualizer's scalars like any log variable. A non-finite loss stops
    training in the objective's update itself, naming the objective and the term, before the
    update that would spread it.

    As soon as the runner is built, before any weight is loaded or trained, the hook checks
    the assembly (:func:`check_assembly`: one optimizer per part, a DDP wrapper per part, in a
    single process too) and that every dataset (source, target, validation) and every head of
    the model have the same keypoints: the same count, and the same names in the same order
    where the metainfo names them. A misassembly stops with the fix named instead of failing
    deep in a loss, only under DDP, or (for a keypoint order) not at all.

    Args:
        warmup_iters (int): source-only iterations before adaptation starts.
        grad_scale (dict | float | None): ``dict(lo, hi, alpha, max_iters)`` for the warm start.
    """
    priority = 'NORMAL'

    def __init__(self,
                 warmup_iters: int = 0,
                 grad_scale: Union[dict, float, None] = dict(
                     lo=0., hi=0.1, alpha=1., max_iters=1000)):
        if warmup_iters < 0:
            raise ValueError('AdaptationScheduleHook: warmup_iters must be >= 0, got '
                             f'{warmup_iters}')
        if isinstance(grad_scale, dict):
            unknown = set(grad_scale) - {'lo', 'hi', 'alpha', 'max_iters'}
            if unknown:
                raise ValueError('AdaptationScheduleHook: unknown grad_scale keys '
                                 f'{sorted(unknown)}; expected lo, hi, alpha, max_iters')
            grad_scale = dict(dict(lo=0., hi=0.1, alpha=1., max_iters=1000), **grad_scale)
            if grad_scale['max_iters'] <= 0:
                raise ValueError('AdaptationScheduleHook: grad_scale.max_iters must be > 0, got '
                                 f'{grad_scale["max_iters"]}')
        self.warmup_iters = warmup_iters
        self.grad_scale = grad_scale

    def adv_grad_scale(self, iteration: int) -> float:
        """Deprecated name of :meth:`grad_scale_at`."""
        warnings.warn(f'{type(self).__name__}.adv_grad_scale() is deprecated: use '
                      'grad_scale_at()', DeprecationWarning, stacklevel=2)
        return self.grad_scale_at(iteration)

    def grad_scale_at(self, iteration: int) -> float:
        """The scale of the adaptation gradient into psi (RegDA's f' -> psi, DANN's reversal,
        DAN's MMD) at a (0-based) training iteration."""
        if self.grad_scale is None:
            return 1.
        if not isinstance(self.grad_scale, dict):
            return float(self.grad_scale)
        i = max(iteration - self.warmup_iters, 0)
        lo, hi = self.grad_scale['lo'], self.grad_scale['hi']
        alpha, max_iters = self.grad_scale['alpha'], self.grad_scale['max_iters']
        return 2. * (hi - lo) / (1. + math.exp(-alpha * i / max_iters)) - (hi - lo) + lo

    def before_run(self, runner) -> None:
        """Check the assembly as soon as the runner has built it, before any weight is loaded
        or trained (a training run; evaluation runs have nothing to check here)."""
        if isinstance(getattr(runner, 'optim_wrapper', None), (OptimWrapper, OptimWrapperDict)):
            self.before_train(runner)

    def before_train(self, runner) -> None:
        if getattr(self, '_checked_runner', None) is runner:
            return
        model = self._model(runner)
        if not all(hasattr(model, name)
                   for name in ('adaptation_grad_scale', 'adaptation_enabled')):
            raise TypeError(f'{type(self).__name__} drives an adaptation model (attributes '
                            f'`adaptation_grad_scale` and `adaptation_enabled`); got '
                            f'{type(model).__name__}')
        if self.grad_scale is not None and not getattr(model, 'SCALES_ADAPTATION_GRADIENT', True):
            raise ValueError(
                f'{type(model).__name__} sends psi its full gradient and ignores '
                f'adaptation_grad_scale, but {type(self).__name__}(grad_scale={self.grad_scale!r}) '
                'would log a warm-up that never happens: give it grad_scale=None')
        check_assembly(runner, model)
        self.check_keypoints(runner, model)
        self._checked_runner = runner

    @staticmethod
    def check_keypoints(runner, model) -> None:
        """Fail before the first iteration unless every dataset and head has the same
        keypoints: the same count, and where the datasets name them, the same names in the
        same order."""
        counts: Dict[str, int] = {}
        for name in ('head', 'adv_head'):
            head = getattr(model, name, None)
            head = head.module if is_model_wrapper(head) else head
            if getattr(head, 'out_channels', None) is not None:
                counts[f'model.{name}.out_channels'] = head.out_channels
        val_loop = getattr(runner, '_val_loop', None)
        loaders = dict(train=runner.train_dataloader, val=getattr(val_loop, 'dataloader', None))
        names: Dict[str, Optional[list]] = {}
        for split, loader in loaders.items():
            dataset = getattr(loader, 'dataset', None)
            # a two-domain dataset (DomainAdaptationDataset) holds one dataset per domain
            domains = {f'{split} {role}': getattr(dataset, role) for role in ('source', 'target')
                       if hasattr(dataset, role)} or {split: dataset}
            for role, domain in domains.items():
                meta = getattr(domain, 'metainfo', None) or {}
                where = f'the {role} dataset ({meta.get("dataset_name", "?")})'
                if keypoint_names(meta) is not None:
                    names[where] = keypoint_names(meta)
                elif 'num_keypoints' in meta:
                    counts[where] = int(meta['num_keypoints'])
        check_keypoint_semantics(names, counts)

    @classmethod
    def check_keypoint_counts(cls, runner, model) -> None:
        """Deprecated name of :meth:`check_keypoints`."""
        warnings.warn(f'{cls.__name__}.check_keypoint_counts() is deprecated: use '
                      'check_keypoints()', DeprecationWarning, stacklevel=2)
        cls.check_keypoints(runner, model)

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        model = self._model(runner)
        model.adaptation_enabled = runner.iter >= self.warmup_iters
        model.adaptation_grad_scale = self.grad_scale_at(runner.iter)
        runner.message_hub.update_scalar('train/adaptation_grad_scale',
                                         model.adaptation_grad_scale)

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model


@HOOKS.register_module(name='RegDAHook')
class DeprecatedRegDAHook(AdaptationScheduleHook):
    """``type='RegDAHook'``, the name of the first configs: deprecated, it is
    ``AdaptationScheduleHook``."""

    def __init__(self, *args, **kwargs):
        warnings.warn("type='RegDAHook' is deprecated: use type='AdaptationScheduleHook'",
                      DeprecationWarning, stacklevel=2)
        super().__init__(*args, **kwargs)
