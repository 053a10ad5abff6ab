"""Starting adaptation from psi alone: backbone and neck hold the stage-1 checkpoint's weights
after initialisation, f and f' do not; or from psi and f through load_from."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

import mmpose_regda  # noqa: F401
from mmpose.registry import MODELS
from mmpose_regda.utils import adaptation_start_options
from conftest import KL_CONFIG, REGDA_CONFIG



@pytest.fixture(scope='module')
def stage1_checkpoint(tmp_path_factory):
    """A stage-1 (KL source-only) checkpoint whose every weight differs from a fresh init."""
    init_default_scope('mmpose')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(KL_CONFIG).model)
    model.init_weights()
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.rand_like(tensor) + 0.5)
    path = tmp_path_factory.mktemp('stage1') / 'stage1.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path, model.state_dict()


def build_initialised(options):
    cfg = Config.fromfile(REGDA_CONFIG)
    cfg.merge_from_dict(options)
    init_default_scope('mmpose')
    model = MODELS.build(cfg.model)
    model.init_weights()  # what the Runner does before load_from
    return cfg, model


def test_psi_only_start_loads_backbone_and_neck_and_leaves_both_heads_fresh(stage1_checkpoint):
    path, stage1 = stage1_checkpoint
    cfg, model = build_initialised(adaptation_start_options(str(path), 'psi'))
    assert cfg.load_from is None
    assert cfg.model.psi_checkpoint == str(path)
    state = model.state_dict()
    psi = [k for k in state if k.split('.')[0] in ('backbone', 'neck')]
    assert len(psi) > 100
    for key in psi:
        torch.testing.assert_close(state[key], stage1[key], rtol=0, atol=0, msg=key)
    for key in (k for k in state if k.startswith('head.') and stage1[k].is_floating_point()):
        assert not torch.equal(state[key], stage1[key]), key
        assert not torch.equal(state['adv_' + key], stage1[key]), key


def test_psi_and_f_start_is_load_from(stage1_checkpoint):
    path, stage1 = stage1_checkpoint
    cfg, model = build_initialised(adaptation_start_options(str(path), 'psi+f'))
    assert cfg.load_from == str(path) and cfg.model.psi_checkpoint is None
    load_checkpoint(model, cfg.load_from, map_location='cpu', strict=False)
    state = model.state_dict()
    for key in (k for k in stage1 if k.startswith(('backbone.', 'neck.', 'head.'))):
        torch.testing.assert_close(state[key], stage1[key], rtol=0, atol=0, msg=key)
    assert not torch.equal(state['adv_head.final_layer.weight'],
                           stage1['head.final_layer.weight'])
    with pytest.raises(ValueError, match="must be one of \\('psi', 'psi\\+f'\\)"):
        adaptation_start_options(str(path), 'f')
