"""Test-only hook: each rank saves its model parameters before and after training, so a test can
check that distributed ranks end with identical parameters (and that training changed them)."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner.checkpoint import get_state_dict


@HOOKS.register_module()
class DumpRankParamsHook(Hook):
    priority = 'VERY_LOW'

    def _dump(self, runner, tag):
        # the checkpoint's keys: mmengine unwraps every DDP module, also one per part
        state = {k: v.detach().cpu().clone() for k, v in get_state_dict(runner.model).items()}
        torch.save(state, osp.join(runner.work_dir, f'params_{tag}_rank{get_rank()}.pth'))

    def before_train(self, runner):
        self._dump(runner, 'start')

    def after_train(self, runner):
        self._dump(runner, 'end')
