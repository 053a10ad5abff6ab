# MMPose's runtime (hooks, logger, visualizer) plus the plugin's registration.
_base_ = ['mmpose::_base_/default_runtime.py']

default_scope = 'mmpose'
custom_imports = dict(imports=['mmpose_regda'], allow_failed_imports=False)
