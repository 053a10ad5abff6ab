import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpose.registry import HOOKS


def _inputs_channels_last(module, args, outputs):
    """Forward hook of the data preprocessor: its 4-D ``inputs`` in channels-last order."""
    inputs = outputs.get('inputs') if isinstance(outputs, dict) else None
    if isinstance(inputs, torch.Tensor) and inputs.dim() == 4:
        outputs['inputs'] = inputs.contiguous(memory_format=torch.channels_last)
    return outputs


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Train and test in the channels-last (NHWC) memory format.

    Before the run, the model's 4-D weights and buffers move to channels-last order and the data
    preprocessor's output images are made channels-last too, so every convolution, batch norm
    and activation of the model runs on NHWC tensors: oneDNN on CPUs and cuDNN on GPUs (with
    mixed precision especially) are faster on them for these convolutional pose models
    (``docs/results.md`` has the measurements). The numbers computed are the same up to float
    rounding. Checkpoints load either way: loading copies values, whatever their layout.

    It runs before the weights are initialised or loaded, which keep the layout.

    Args:
        enable (bool): False leaves the default layout
            (``--cfg-options default_hooks.channels_last.enable=False``).
    """
    priority = 'VERY_HIGH'

    def __init__(self, enable: bool = True):
        self.enable = enable

    def before_run(self, runner) -> None:
        if not self.enable:
            return
        runner.model.to(memory_format=torch.channels_last)
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        preprocessor = getattr(model, 'data_preprocessor', None)
        if preprocessor is not None and not getattr(preprocessor, '_channels_last', False):
            preprocessor.register_forward_hook(_inputs_channels_last)
            preprocessor._channels_last = True
