"""The core never imports Qt: every module of ``agentdesk`` loads without PySide6 or ``ui``."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "agentdesk"
FORBIDDEN = ("PySide6", "shiboken6", "qasync", "ui")

# Imports every module of the package (``__main__`` would run the command line instead)
# and prints the modules of the forbidden packages that got loaded along the way.
PROBE = """
import json, pkgutil, sys
import agentdesk

forbidden = set(sys.argv[1:])
names = []
for info in pkgutil.walk_packages(agentdesk.__path__, "agentdesk."):
    if info.name.rsplit(".", 1)[-1] == "__main__":
        continue
    __import__(info.name)
    names.append(info.name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in forbidden)
print(json.dumps({"imported": names, "loaded": loaded}))
"""


def imports_of(path: Path) -> set[str]:
    """Top-level package of every absolute import statement in a source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_importing_every_core_module_loads_no_qt() -> None:
    # Given a fresh interpreter
    # When it imports every module under agentdesk/
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *FORBIDDEN],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout)

    # Then the whole package was walked, and no Qt, qasync or ui module was loaded
    assert {"agentdesk.cli", "agentdesk.store.local", "agentdesk.server.app"} <= set(
        report["imported"]
    )
    assert report["loaded"] == []


def test_no_core_source_file_imports_qt() -> None:
    # Given every Python file under agentdesk/, migrations included
    sources = sorted(PACKAGE.rglob("*.py"))

    # When their import statements are read
    offenders = {
        str(path.relative_to(ROOT)): sorted(imports_of(path) & set(FORBIDDEN)) for path in sources
    }

    # Then none of them imports PySide6, shiboken6, qasync or ui
    assert len(sources) > 20
    assert {path: names for path, names in offenders.items() if names} == {}


def test_import_scan_sees_the_forms_of_import_statement(tmp_path: Path) -> None:
    # Given a file with each form of import of a forbidden package, and a relative one
    source = tmp_path / "sample.py"
    source.write_text(
        "import PySide6.QtCore\n"
        "from shiboken6 import isValid\n"
        "def later():\n"
        "    import qasync\n"
        "    from ui.app import run_desk\n"
        "from .ui import nothing\n",
        encoding="utf-8",
    )

    # When its imports are read
    found = imports_of(source)

    # Then every absolute one is seen, nested ones included, and the relative one is not
    assert found == {"PySide6", "shiboken6", "qasync", "ui"}
