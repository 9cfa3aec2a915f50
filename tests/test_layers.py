"""The layering, checked on the source: domains never import the web layer, routers never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import valueprint

PACKAGE = Path(valueprint.__file__).parent
ROUTERS = {"valueprint.web.api", "valueprint.web.ui", "valueprint.web.personal", "valueprint.web.admin"}
ROUTERS |= {"valueprint.web.chat", "valueprint.web.picks", "valueprint.web.rank", "valueprint.web.annotate_api"}
ROUTERS |= {"valueprint.web.annotate_pages", "valueprint.web.labelstudio"}
ROUTERS |= {"valueprint.web.moralgraph_api", "valueprint.web.moralgraph_pages"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[module_name(path)] = names
    return found


def test_only_the_app_factory_is_imported_from_the_web_layer() -> None:
    outside = {
        module: sorted(n for n in names if n.startswith("valueprint.web") and not n.startswith("valueprint.web.app"))
        for module, names in imports().items()
        if not module.startswith("valueprint.web")
    }
    assert {module: names for module, names in outside.items() if names} == {}


def test_routers_import_deps_and_templating_never_each_other() -> None:
    for module, names in imports().items():
        if module in ROUTERS:
            assert not {n for n in names if n in ROUTERS or n.rsplit(".", 1)[0] in ROUTERS}, module


def test_the_services_live_outside_the_web_layer() -> None:
    from valueprint.services import Services

    assert Services.__module__ == "valueprint.services"
    assert not (PACKAGE / "web" / "services.py").exists()
