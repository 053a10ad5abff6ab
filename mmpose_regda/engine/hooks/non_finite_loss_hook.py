from typing import Optional, Union

from mmengine.hooks import Hook

from mmpose.registry import HOOKS
from ..non_finite import non_finite_terms

DATA_BATCH = Optional[Union[dict, tuple, list]]


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training on the first non-finite loss, naming the term, and never save NaN weights.

    MMPose's ``TopdownPoseEstimator`` (source only, KL pretraining, oracle) trains on whatever
    its loss is: with a diverged learning rate the run goes on, saves NaN weights, validates
    and exits 0, and a benchmark built on it reports the stage as finished. This hook

    - reads the log variables of each training step (every ``loss*`` term and the total
      ``loss``; mmengine moves them to the host for logging anyway) and raises
      ``FloatingPointError`` when one is NaN or infinite. It runs before the logger and
      checkpoint hooks of the same iteration (priority ``ABOVE_NORMAL``);
    - checks the weights of every checkpoint about to be written: the update of the last finite
      loss can already have made them NaN (a learning rate of ``inf``), and such a file would
      be taken for a finished model.

    Either way the run exits non-zero and nothing from the diverged step is saved. The
    adaptation estimators check their terms inside ``train_step``, before any update; for their
    losses this hook is a second, redundant guard. Under ``torchrun`` a rank that raises ends its
    process and torchrun stops the others.
    """
    priority = 'ABOVE_NORMAL'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        if not outputs:
            return
        bad = non_finite_terms(outputs)
        if not bad:
            return
        # the terms first: the total is non-finite whenever one of them is
        terms = [name for name in bad if name != 'loss'] or list(bad)
        described = ', '.join(f'`{name}` = {bad[name]}' for name in terms)
        raise FloatingPointError(
            f'non-finite loss at iteration {runner.iter + 1} (epoch {runner.epoch + 1}): '
            f'{described}. Training stopped; no checkpoint of this iteration was saved. Lower '
            'the learning rate (optim_wrapper.optimizer.lr) or check the inputs of this batch.')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        bad = [name for name, value in checkpoint.get('state_dict', {}).items()
               if hasattr(value, 'is_floating_point') and value.is_floating_point()
               and not bool(value.isfinite().all())]
        if bad:
            shown = ', '.join(bad[:3]) + (f' and {len(bad) - 3} more' if len(bad) > 3 else '')
            raise FloatingPointError(
                f'the weights hold NaN or infinite values after iteration '
                f'{checkpoint.get("meta", {}).get("iter", runner.iter)} ({shown}); the '
                'checkpoint was not saved. Training diverged: lower the learning rate '
                '(optim_wrapper.optimizer.lr).')

