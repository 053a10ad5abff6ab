# MMPose's runtime (hooks, logger, visualizer) plus the plugin's registration.
_base_ = ['mmpose::_base_/default_runtime.py']

default_scope = 'mmpose'
custom_imports = dict(imports=['mmpose_regda'], allow_failed_imports=False)

# Every training stops on a NaN or infinite loss, naming the term, before anything is saved. A
# default hook (a dict entry), so that configs setting their own `custom_hooks` keep it.
default_hooks = dict(non_finite_loss=dict(type='NonFiniteLossHook'))
