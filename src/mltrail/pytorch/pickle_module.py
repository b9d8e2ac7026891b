"""The default pickle module for whole PyTorch modules: cloudpickle to write (classes from
``__main__`` are kept by value), the standard unpickler to read (cloudpickle has none)."""

from pickle import Unpickler, load, loads  # noqa: F401

from cloudpickle import Pickler, dump, dumps  # noqa: F401
