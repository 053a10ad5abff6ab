"""The inverse (annealing) decay of RegDA's reference implementation, as an mmengine scheduler.

RegDA (Jiang et al., CVPR 2021), like DANN and most of the Transfer-Learning-Library, decays the
learning rate of every optimizer after each iteration as

    lr_i = base_lr * (1 + gamma * i) ** (-power),     gamma = 1e-4, power = 0.75,

(the reference's ``LambdaLR(lambda i: (1 + lr_gamma * i) ** (-lr_decay))``). It starts at
``base_lr``, falls slowly and never reaches zero, so, unlike ``PolyLR``, it needs no known end of
training. mmengine has no such scheduler (``ExponentialLR`` decays geometrically, ``PolyLR`` to
a fixed end), hence this one, modelled on ``PolyParamScheduler`` / ``PolyLR``.
"""
import math
import numbers
from typing import List, Union

from mmengine.optim import BaseOptimWrapper
from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler
from torch.optim import Optimizer

from mmpose.registry import PARAM_SCHEDULERS


def _check_non_negative(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f'InverseDecay `{name}` must be a real number >= 0, got {value!r}')
    if not math.isfinite(value) or value < 0:
        raise ValueError(f'InverseDecay `{name}` must be a finite number >= 0, got {value!r}; '
                         f'a negative {name} would make the value grow instead of decay'
                         + (' (or blow up where 1 + gamma * i <= 0)' if name == 'gamma' else ''))


@PARAM_SCHEDULERS.register_module()
class InverseDecayParamScheduler(_ParamScheduler):
    """Decay a parameter as ``base * (1 + gamma * i) ** (-power)``, ``i`` steps after ``begin``.

    ``i`` counts the scheduler steps inside ``[begin, end)`` (``last_step``): the value is
    ``base`` at ``begin`` and, after ``end``, stays where it was at ``end - 1``. ``base`` is the
    parameter's value when the scheduler was built (mmengine's ``initial_<param>`` of each
    param group, so param groups with their own learning rates decay each from its own).

    The value is applied in chainable (recursive) form, like mmengine's other schedulers, so it
    composes with e.g. a warm-up scheduler acting on the same parameter. The ratio of two
    consecutive closed-form values is

        v_i / v_{i-1} = ((1 + gamma * (i - 1)) / (1 + gamma * i)) ** power,

    so ``v_i = v_{i-1} * ((1 + gamma * (i - 1)) / (1 + gamma * i)) ** power`` and ``v_0`` is the
    current value unchanged. Alone, it reproduces the closed form
    :meth:`_get_closed_form_values` up to float rounding (the ratios telescope).

    Args:
        optimizer (Optimizer or BaseOptimWrapper): optimizer or wrapped optimizer.
        param_name (str): name of the parameter to schedule, such as ``lr``.
        gamma (float): rate of the decay, >= 0. Defaults to 1e-4 (RegDA's ``lr_gamma``).
        power (float): exponent of the decay, >= 0. Defaults to 0.75 (RegDA's ``lr_decay``).
        begin (int): step at which to start updating the parameter. Defaults to 0.
        end (int): step at which to stop updating the parameter. Defaults to INF.
        last_step (int): the index of the last step, for resuming without a state dict.
            Defaults to -1.
        by_epoch (bool): whether the steps are epochs. Defaults to False: the reference decays
            after every iteration.
        verbose (bool): whether to print the value at each update. Defaults to False.
    """

    def __init__(self,
                 optimizer: Union[Optimizer, BaseOptimWrapper],
                 param_name: str,
                 gamma: float = 1e-4,
                 power: float = 0.75,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = False,
                 verbose: bool = False):
        _check_non_negative('gamma', gamma)
        _check_non_negative('power', power)
        self.gamma = gamma
        self.power = power
        super().__init__(
            optimizer,
            param_name=param_name,
            begin=begin,
            end=end,
            last_step=last_step,
            by_epoch=by_epoch,
            verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls,
                              *args,
                              gamma: float = 1e-4,
                              begin=0,
                              end=INF,
                              by_epoch=True,
                              epoch_length=None,
                              **kwargs):
        """Build an iteration-based scheduler from an epoch-based config.

        ``convert_to_iter_based=True`` makes the decay smooth over iterations while keeping the
        epoch-based curve: at iteration ``t = e * epoch_length``,
        ``(1 + gamma / epoch_length * t) = (1 + gamma * e)``, so ``gamma`` is divided by the
        epoch length and ``begin`` / ``end`` are multiplied by it.
        """
        if not by_epoch:
            raise ValueError('only an epoch-based InverseDecay scheduler (by_epoch=True) can '
                             'be converted to iteration-based (convert_to_iter_based=True)')
        if epoch_length is None or epoch_length <= 0:
            raise ValueError(f'`epoch_length` must be a positive integer, got {epoch_length!r}')
        _check_non_negative('gamma', gamma)
        begin = int(begin * epoch_length)
        if end != INF:
            end = int(end * epoch_length)
        return cls(*args, gamma=gamma / epoch_length, begin=begin, end=end, by_epoch=False,
                   **kwargs)

    def _get_value(self) -> List[float]:
        """Compute the values in chainable form: the previous value times the decay ratio."""
        if self.last_step == 0:
            return [group[self.param_name] for group in self.optimizer.param_groups]
        i = self.last_step
        ratio = ((1 + self.gamma * (i - 1)) / (1 + self.gamma * i))**self.power
        return [group[self.param_name] * ratio for group in self.optimizer.param_groups]

    def _get_closed_form_values(self) -> List[float]:
        """Compute the values in closed form, ``base * (1 + gamma * last_step) ** (-power)``.

        mmengine's ``step()`` only uses :meth:`_get_value`; this is the schedule by definition,
        for checks and for code that needs the value at a step without stepping.
        """
        factor = (1 + self.gamma * self.last_step)**(-self.power)
        return [base_value * factor for base_value in self.base_values]


@PARAM_SCHEDULERS.register_module()
class InverseDecayLR(LRSchedulerMixin, InverseDecayParamScheduler):
    """Decay the learning rate as ``base_lr * (1 + gamma * i) ** (-power)`` (RegDA's schedule).

    Config, one scheduler per optimizer of an ``OptimWrapperDict`` (mmengine's runner builds it
    for each)::

        param_scheduler = dict(type='InverseDecayLR', gamma=1e-4, power=0.75, by_epoch=False)

    Args:
        optimizer (Optimizer or OptimWrapper): optimizer or wrapped optimizer.
        gamma (float): rate of the decay, >= 0. Defaults to 1e-4.
        power (float): exponent of the decay, >= 0. Defaults to 0.75.
        begin (int): step at which to start updating the learning rate. Defaults to 0.
        end (int): step at which to stop updating the learning rate. Defaults to INF.
        last_step (int): the index of the last step, for resuming without a state dict.
            Defaults to -1.
        by_epoch (bool): whether the steps are epochs. Defaults to False (per iteration).
        verbose (bool): whether to print the learning rate at each update. Defaults to False.
    """
