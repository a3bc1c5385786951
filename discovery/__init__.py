"""discovery: closed-loop discovery campaigns for materials and chemistry.

Learn from every experiment run so far, choose the next one, dispatch it to an
oracle (a simulation, a dataset emulator, a lab robot), record the result, repeat.

The public API is listed in ``__init__.pyi``. Each name is imported on first use
(scientific Python's lazy loading, SPEC 1): torch, scikit-learn and pandas take
seconds to import, and the command line's help or a one-line error should not wait
for them.
"""

import lazy_loader

__getattr__, _, _lazy_names = lazy_loader.attach_stub(__name__, __file__)
__version__ = "0.1.0"
__all__ = [*_lazy_names, "__version__"]


def __dir__() -> list[str]:
    return list(__all__)
