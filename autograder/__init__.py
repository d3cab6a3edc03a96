"""TensorFlow course autograder: read -> run (sandboxed) -> judge -> record."""

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__version__ = "0.3.0"  # 0.2: checks stored once in the gradebook; 0.2.1: time limits follow the load now;
# 0.3.0: a public check earns its points only with its unpublished sibling; training checks see training

# Check files written before the package was grouped into subpackages import these by their
# old names: they still load (the same objects), with a warning to import autograder.authoring.
MOVED = {"autograder.rules": "autograder.checks.rules", "autograder.spec": "autograder.checks.spec",
         "autograder.artefacts": "autograder.checks.artefacts", "autograder.probing": "autograder.checks.probe_tools"}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name in MOVED else None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        warnings.warn(f"{module.__name__} is now {MOVED[module.__name__]}: check files import "
                      "autograder.authoring", DeprecationWarning, stacklevel=2)
        module.__dict__.update({k: v for k, v in vars(importlib.import_module(MOVED[module.__name__])).items()
                                if not k.startswith("__")})


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.append(_MovedModules())
