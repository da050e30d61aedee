"""``fcnet lab``: the lecture's experiments, each a function returning its numbers."""
