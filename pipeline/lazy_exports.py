"""Package names that load their submodule on first use (PEP 562), so that importing a package
costs nothing until one of its names is used (the CLI reads its files before NumPy and Numba load)."""

from __future__ import annotations

import importlib
import sys


def lazy_exports(package: str, exports: dict[str, tuple[str, ...]]):
    """(`__getattr__`, `__all__`) for `package`, whose names are `exports` {submodule: names}.

    The returned `__getattr__` imports the submodule that holds a name, binds the name in the
    package and returns it; an unknown name raises AttributeError as usual.
    """
    home = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str):
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__, sorted(home)
