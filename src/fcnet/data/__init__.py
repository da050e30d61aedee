"""Data sets, file formats and mini-batches."""

from fcnet.data.augment import ImageAugment
from fcnet.data.dataset import Dataset, Preprocess, check_arrays, split
from fcnet.data.loader import batches
from fcnet.data.registry import DATASETS, describe, load, load_file
from fcnet.data.toy import TOYS, make_toy

__all__ = ["DATASETS", "TOYS", "Dataset", "ImageAugment", "Preprocess", "batches", "check_arrays", "describe", "load",
           "load_file", "make_toy", "split"]
