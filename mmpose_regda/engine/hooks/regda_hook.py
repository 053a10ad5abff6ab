import math
from typing import Optional, Union

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpose.registry import HOOKS


@HOOKS.register_module()
class RegDAHook(Hook):
    r"""The adversarial schedule of RegDA, set on the model before every training iteration.

    - Warm-up: for the first ``warmup_iters`` iterations only Objective 1 (source) is trained;
      the adversarial objectives start after.
    - Warm start of the f' -> psi gradient (the reference's ``WarmStartGradientLayer``): counting
      ``i`` from the start of adaptation,

      .. math:: \lambda(i) = \frac{2 (hi - lo)}{1 + \exp(-\alpha i / N)} - (hi - lo) + lo

      which is ``lo`` at i = 0 and tends to ``hi`` (reference: lo 0, hi 0.1, alpha 1, N = 1000,
      so about 0.1 after 5k iterations). f' then cannot drag psi around before it is trained.
      ``grad_scale`` may also be a number (constant scale) or None (1, no scaling).

    The schedule is a function of the runner's iteration only, so a resumed run continues it
    exactly where it stopped (the runner restores its iteration). The current scale is logged as
    ``adv_grad_scale``. The disparities of Fig. 9 (``disparity_source``, ``disparity_target``:
    mean distance between the keypoints of f and f', in heatmap pixels) and each objective's loss
    come from the model's ``train_step`` and reach the logger and the visualizer's scalars like
    any log variable. A non-finite loss stops training in ``train_step`` itself, naming the
    objective and the term, before the update that would spread it.

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
            raise ValueError(f'RegDAHook: warmup_iters must be >= 0, got {warmup_iters}')
        if isinstance(grad_scale, dict):
            unknown = set(grad_scale) - {'lo', 'hi', 'alpha', 'max_iters'}
            if unknown:
                raise ValueError(f'RegDAHook: unknown grad_scale keys {sorted(unknown)}; '
                                 'expected lo, hi, alpha, max_iters')
            grad_scale = dict(dict(lo=0., hi=0.1, alpha=1., max_iters=1000), **grad_scale)
            if grad_scale['max_iters'] <= 0:
                raise ValueError('RegDAHook: grad_scale.max_iters must be > 0, got '
                                 f'{grad_scale["max_iters"]}')
        self.warmup_iters = warmup_iters
        self.grad_scale = grad_scale

    def adv_grad_scale(self, iteration: int) -> float:
        """The gradient scale on the f' -> psi path at a (0-based) training iteration."""
        if self.grad_scale is None:
            return 1.
        if not isinstance(self.grad_scale, dict):
            return float(self.grad_scale)
        i = max(iteration - self.warmup_iters, 0)
        lo, hi = self.grad_scale['lo'], self.grad_scale['hi']
        alpha, max_iters = self.grad_scale['alpha'], self.grad_scale['max_iters']
        return 2. * (hi - lo) / (1. + math.exp(-alpha * i / max_iters)) - (hi - lo) + lo

    def before_train(self, runner) -> None:
        model = self._regda_model(runner)
        if not all(hasattr(model, name) for name in ('adv_grad_scale', 'adaptation_enabled')):
            raise TypeError(f'RegDAHook drives a RegDA model (attributes `adv_grad_scale` and '
                            f'`adaptation_enabled`); got {type(model).__name__}')
        self._check_keypoint_counts(runner, model)

    @staticmethod
    def _check_keypoint_counts(runner, model) -> None:
        """Fail before the first iteration if a dataset's keypoints do not match f and f'."""
        predicted = {name: getattr(getattr(model, name, None), 'out_channels', None)
                     for name in ('head', 'adv_head')}
        val_loop = getattr(runner, '_val_loop', None)
        loaders = dict(train=runner.train_dataloader,
                       val=getattr(val_loop, 'dataloader', None))
        for split, loader in loaders.items():
            dataset = getattr(loader, 'dataset', None)
            meta = getattr(dataset, 'metainfo', None) or {}
            if 'num_keypoints' not in meta:
                continue
            for name, count in predicted.items():
                if count is not None and count != meta['num_keypoints']:
                    raise ValueError(
                        f'RegDAHook: the {split} dataset ({meta.get("dataset_name", "?")}) has '
                        f'{meta["num_keypoints"]} keypoints but the model\'s {name} predicts '
                        f'{count}; set model.{name}.out_channels to {meta["num_keypoints"]}')

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        model = self._regda_model(runner)
        model.adaptation_enabled = runner.iter >= self.warmup_iters
        model.adv_grad_scale = self.adv_grad_scale(runner.iter)
        runner.message_hub.update_scalar('train/adv_grad_scale', model.adv_grad_scale)

    @staticmethod
    def _regda_model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model
