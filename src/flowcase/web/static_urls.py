"""The one way a page names a static file: content-hashed and aware of where the app is mounted.

``static("js/editor.js")`` is ``<prefix>/static/js/editor.js?v=<12 hex of its SHA-256>``: a changed file gets a
new URL (so browsers and CDNs may cache the old one forever), and the prefix is the ASGI ``root_path`` when the
app is mounted below ``/`` (a proxy, the sandbox), or ``.`` in a Forge Custom UI bundle, where each resource is
served from its own CDN folder. ``page_script("editor.js")`` is the page's module script: loaded directly on the
web, through ``host-forge.js`` (which connects ``@forge/bridge`` first) in Forge. Templates call both; nothing
rewrites the rendered HTML afterwards.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

STATIC = Path(__file__).parent / "static"


#: a static ``import``/``export ... from`` of a relative module in one of our JavaScript modules
_IMPORT = re.compile(rb"""^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"](\.{1,2}/[^'"]+)['"]""", re.MULTILINE)


@lru_cache(maxsize=512)
def content_hash(relative: str) -> str:
    """The first 12 hex digits of the SHA-256 of ``static/<relative>`` (a missing file is a bug: it raises).

    A JavaScript module's hash covers the modules it imports (relative ``import ... from './x.js'``, all the way
    down): its dependencies are loaded by their plain URL, so a page's script URL changes whenever any part of
    the page's code does (a page split into several modules, such as the editor's, is covered as a whole)."""
    path = (STATIC / relative).resolve()
    if not path.is_relative_to(STATIC.resolve()) or not path.is_file():
        raise FileNotFoundError(f"no static file {relative!r}")
    digest = hashlib.sha256(path.read_bytes())
    if path.suffix == ".js":
        for module in sorted(_imports(path.relative_to(STATIC.resolve()).as_posix())):
            digest.update(module.encode() + b"\0" + _own_hash(module).encode())
    return digest.hexdigest()[:12]


def _own_hash(relative: str) -> str:
    return hashlib.sha256((STATIC / relative).read_bytes()).hexdigest()


def _imports(relative: str) -> set[str]:
    """Every module ``static/<relative>`` imports, directly or not (paths relative to ``static/``)."""
    seen: set[str] = set()
    todo = [relative]
    while todo:
        current = todo.pop()
        folder = posixpath.dirname(current)
        for match in _IMPORT.finditer((STATIC / current).read_bytes()):
            target = posixpath.normpath(posixpath.join(folder, match.group(1).decode()))
            if target not in seen and target != relative and (STATIC / target).is_file():
                seen.add(target)
                todo.append(target)
    return seen


@dataclass(frozen=True, slots=True)
class StaticUrls:
    """URLs of static files for one way of serving them: ``prefix`` is "" (the app at the root), a mount path
    such as ``/flowcase``, or ``.`` (relative, for a Forge bundle); ``forge`` routes page scripts through
    ``host-forge.js``."""

    prefix: str = ""
    forge: bool = False

    def __call__(self, relative: str) -> str:
        return f"{self.prefix.rstrip('/')}/static/{relative}?v={content_hash(relative)}"

    def page_script(self, script: str) -> Markup:
        if self.forge:
            page = f"./{script}?v={content_hash('js/' + script)}"
            return Markup('<script type="module" src="{}" data-flowcase-page="{}"></script>').format(
                self("js/host-forge.js"), page
            )
        return Markup('<script type="module" src="{}"></script>').format(self("js/" + script))

    def globals(self) -> dict[str, object]:
        """What templates call: ``static(path)`` and ``page_script(name)``."""
        return {"static": self, "page_script": self.page_script}


FORGE = StaticUrls(prefix=".", forge=True)


def for_root_path(root_path: str) -> StaticUrls:
    """The URLs for an app mounted at ``root_path`` (the ASGI scope's, "" at the root)."""
    return StaticUrls(prefix=root_path.rstrip("/"))
