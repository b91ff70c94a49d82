"""Documentation that runs: every ```python block of the README and docs/ executes.
Only pages with such blocks are collected, and that set must not be empty.
(docs/extending.md has its own test, which also checks what it prints.)"""
import os
import re

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks(doc):
    with open(os.path.join(ROOT, doc)) as f:
        return _BLOCK.findall(f.read())


PAGES = ["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
                               if f.endswith(".md") and f != "extending.md")
DOCS = [doc for doc in PAGES if _blocks(doc)]


def test_pages_with_code_are_found():
    # Guards against a pattern or folder change that would leave nothing to run.
    assert "README.md" in DOCS and len(DOCS) >= 2, DOCS


@pytest.mark.parametrize("doc", DOCS)
def test_python_blocks_run(doc):
    namespace = {}
    for block in _blocks(doc):  # blocks of one page share a namespace, as a reader's session would
        exec(compile(block, doc, "exec"), namespace)
