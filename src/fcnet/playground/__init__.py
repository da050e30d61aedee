"""``fcnet playground``: the lecture's experiments in the browser, trained live on fcnet's engine."""
