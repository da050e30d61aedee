"""Plots shared by training and the lab (matplotlib, Agg backend, PNG files)."""

from fcnet.viz.plots import confusion_matrix, plot_confusion, plot_curves, plot_grad_norms, save_figure

__all__ = ["confusion_matrix", "plot_confusion", "plot_curves", "plot_grad_norms", "save_figure"]
