# MMPose's runtime (hooks, logger, visualizer) plus the plugin's registration.
_base_ = ['mmpose::_base_/default_runtime.py']

default_scope = 'mmpose'
custom_imports = dict(imports=['mmpose_regda'], allow_failed_imports=False)

# Default hooks (dict entries), so that configs setting their own `custom_hooks` keep them:
default_hooks = dict(
    # every training stops on a NaN or infinite loss, naming the term, before anything is saved
    non_finite_loss=dict(type='NonFiniteLossHook'),
    # convolutions in the channels-last memory format, faster on CPUs and GPUs for these models
    # (docs/results.md); `default_hooks.channels_last.enable=False` keeps the default layout
    channels_last=dict(type='ChannelsLastHook'))
