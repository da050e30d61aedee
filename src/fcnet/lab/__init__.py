"""``fcnet lab``: the lecture's experiments, each a module with ``run(out, seed, full) -> LabResult``."""

LABS = {
    "templates": "fcnet.lab.templates",
    "boundaries": "fcnet.lab.boundaries",
    "naming": "fcnet.lab.naming",
    "collapse": "fcnet.lab.collapse",
    "activations": "fcnet.lab.activations",
    "losses": "fcnet.lab.losses",
    "gates": "fcnet.lab.gates",
    "gradients": "fcnet.lab.gradients",
    "optimizers": "fcnet.lab.optimizers",
    "init": "fcnet.lab.init",
    "batchnorm": "fcnet.lab.batchnorm",
    "overfit": "fcnet.lab.overfit",
    "lr": "fcnet.lab.lr",
    "search": "fcnet.lab.search",
}

__all__ = ["LABS"]
