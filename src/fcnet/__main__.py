"""``python -m fcnet``."""

from fcnet.cli.main import entry

entry()
