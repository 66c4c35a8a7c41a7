"""Lists every module-valued attribute of the allowed modules that leads outside
the allow-list: `HOLDER ATTRIBUTE TARGET` per line.

Run in the sandbox image (no network, nothing written):
    docker run --rm -i --network none finsandbox-runtime:1 python3 - ALLOWED... < tests/screening/module_attributes.py

After importing every allowed module (and so everything they import), a module
outside the allow-list is reachable from strategy code only as one of these
attributes; the screen refuses each one by name, or judges it harmless
(`HARMLESS_MODULE_ATTRIBUTES` in src/screen/rules.rs).
"""

import importlib
import sys
import types

allowed = sys.argv[1:]
for name in allowed:
    importlib.import_module(name)
for holder, module in sorted(sys.modules.items()):
    if module is None or holder.split(".")[0] not in allowed:
        continue
    for attr, value in sorted(vars(module).items()):
        if isinstance(value, types.ModuleType) and value.__name__.split(".")[0] not in allowed:
            print(holder, attr, value.__name__)
