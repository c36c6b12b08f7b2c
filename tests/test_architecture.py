"""The layers of the code, as CONTRIBUTING.md draws them, checked on the source: which package may
import which, no import cycle between packages, and modules small enough to read (service/, cli/).
Every ``import`` counts, those inside functions and under TYPE_CHECKING too: a type-only import
is still a dependency a reader has to follow."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import jingwu

PACKAGE = Path(jingwu.__file__).parent

#: What each part may import of Jingwu (besides itself). The pure core at the bottom, the edges
#: (api, cli, simulation, bench) at the top; nothing imports the command line.
ALLOWED: dict[str, frozenset[str]] = {
    part: frozenset(may.split())
    for part, may in {
        "errors": "",
        "domain": "errors",
        "dispatch": "domain errors",
        "routing": "domain errors",
        "devices": "domain errors",
        "avl": "domain errors",
        "bus": "errors",
        "geocode": "domain errors",
        "store": "domain errors",
        "analytics": "domain errors",
        "video": "domain vision errors",
        "vision": "errors",
        "settings": "devices errors",
        "service": (
            "domain dispatch routing geocode devices avl bus store settings analytics video vision errors"
        ),
        "composition": "service store bus routing geocode settings errors",
        "api": "composition service domain dispatch routing geocode devices avl bus settings errors",
        "simulation": "composition service domain routing geocode bus store settings video vision errors",
        "bench": (
            "api composition service simulation analytics video vision domain routing geocode store settings "
            "errors"
        ),
        "cli": (
            "api bench composition service simulation analytics video vision domain routing geocode devices "
            "store settings errors"
        ),
        "web": "",  # the console's and the terminal's files, a package only to be found
        "__init__": "",  # the package's own __init__: the version, which every part may read
    }.items()
}

#: A module passing this many lines is split by job (CONTRIBUTING.md), in every part.
MAX_LINES = 600


def _part(module: str) -> str:
    """``jingwu.service.auth.logins`` → ``service``; ``jingwu.errors`` → ``errors``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        yield name, path


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every jingwu module or package ``path`` imports, relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "jingwu")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "jingwu":
                continue
            if base == "jingwu":  # `from jingwu import __version__`, `from jingwu import errors`
                yield from (f"jingwu.{a.name}" for a in node.names)
            else:
                yield base


def _part_graph() -> dict[str, dict[str, list[str]]]:
    """part → imported part → the modules that import it (for the failure message)."""
    graph: dict[str, dict[str, list[str]]] = {}
    for name, path in _modules():
        source = _part(name)
        for imported in _imports(name, path):
            target = _part(imported)
            if target not in (source, "__init__", "__version__"):
                graph.setdefault(source, {}).setdefault(target, []).append(name)
    return graph


def test_every_part_of_the_package_has_its_place_in_the_layers() -> None:
    parts = {_part(name) for name, _ in _modules()}
    assert parts - set(ALLOWED) == set(), "a new part: give it its place in ALLOWED and CONTRIBUTING.md"


def test_each_part_imports_only_the_layers_it_may() -> None:
    wrong = [
        f"{source} → {target} (in {', '.join(sorted(set(modules)))})"
        for source, targets in _part_graph().items()
        for target, modules in targets.items()
        if target not in ALLOWED.get(source, frozenset())
    ]
    assert wrong == []


def test_no_import_cycle_between_parts() -> None:
    graph = {source: set(targets) for source, targets in _part_graph().items()}
    cycles: list[list[str]] = []

    def walk(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in trail:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif len(trail) < len(ALLOWED):
                walk(nxt, [*trail, nxt])

    for start in sorted(graph):
        walk(start, [start])
    assert cycles == []


def test_the_rules_themselves_have_no_cycle() -> None:
    """ALLOWED must draw layers: were it to allow a cycle, the test above could pass by luck."""
    done: set[str] = set()

    def depth_first(node: str, trail: tuple[str, ...]) -> None:
        assert node not in trail, " → ".join((*trail, node))
        if node in done:
            return
        for nxt in ALLOWED[node]:
            depth_first(nxt, (*trail, node))
        done.add(node)

    for part in ALLOWED:
        depth_first(part, ())


def test_modules_stay_small_enough_to_read() -> None:
    long = {
        str(path.relative_to(PACKAGE)): n
        for _, path in _modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by job (at most {MAX_LINES} lines): {long}"


def test_the_import_reader_resolves_relative_imports_and_from_jingwu_import(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("from jingwu.service import x\nfrom jingwu import cli\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("from . import sibling\nfrom ..store import tables\n", encoding="utf-8")
    assert list(_imports("jingwu.domain.a", tmp_path / "a.py")) == ["jingwu.service", "jingwu.cli"]
    assert list(_imports("jingwu.service.auth.b", tmp_path / "b.py")) == [
        "jingwu.service.auth",
        "jingwu.service.store",
    ]
