from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .pose_estimators import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403
