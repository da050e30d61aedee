"""``fcnet exercise``: the lecture as graded exercises.

Students write the engine's pieces (gates and their local gradients, the losses, backpropagation
through a two-layer net, the optimizers, initialisation, batch norm, dropout, clipping) as NumPy
functions; fcnet grades them on the slides' worked numbers, by gradcheck and against its own
reference on hidden random cases, in a child process with time, memory and output limits, and
trains a net on digits with them (``fcnet exercise run``).

    >>> from fcnet.exercise import EXERCISES, grade
    >>> sorted(EXERCISES)[:3]
    ['activations', 'affine', 'batchnorm']
"""

from fcnet.exercise.catalogue import EXERCISES, SECTIONS, Exercise, solution_source
from fcnet.exercise.sandbox import Limits, Report, grade, run_student

__all__ = ["EXERCISES", "SECTIONS", "Exercise", "Limits", "Report", "grade", "run_student", "solution_source"]
