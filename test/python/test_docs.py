"""Documentation that runs: every ```python block of the README and docs/ executes.
(docs/extending.md has its own test, which also checks what it prints.)"""
import os
import re

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
DOCS = ["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
                              if f.endswith(".md") and f != "extending.md")


@pytest.mark.parametrize("doc", DOCS)
def test_python_blocks_run(doc):
    text = open(os.path.join(ROOT, doc)).read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    namespace = {}
    for block in blocks:  # blocks of one page share a namespace, as a reader's session would
        exec(compile(block, doc, "exec"), namespace)
