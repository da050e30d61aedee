"""``fcnet.nn.functional``: the functional forms of layers, activations and losses."""

from fcnet.functional import *  # noqa: F403
from fcnet.functional import __all__  # noqa: F401
