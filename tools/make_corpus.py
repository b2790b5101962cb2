"""Regenerate zigzag/data/sentences.txt: English sentences from Python standard library docstrings.

Run from the repository root with any CPython 3.10+: ``python tools/make_corpus.py``. The output
is committed, so the package never runs this; the file is sorted and deduplicated, so re-running
on another Python version only adds or drops a few sentences.
"""

import importlib
import inspect
import pkgutil
import re
import sys
import warnings
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "zigzag" / "data" / "sentences.txt"
SKIP = ("idlelib", "tkinter", "turtle", "test", "lib2to3", "ensurepip", "antigravity", "this", "pydoc_data",
        "__main__", "xxsubtype", "_", "distutils", "msilib", "turtledemo")
SENTENCE = re.compile(r"^[A-Z][a-z]+(?: [A-Za-z][a-z'-]*,?){3,30} [a-z][a-z-]*\.$")
BAD_WORDS = {"e.g", "i.e", "etc", "xxx", "todo", "fixme", "deprecated"}


def docstrings():
    seen = set()
    for info in sorted(pkgutil.iter_modules(), key=lambda m: m.name):
        name = info.name
        if name.startswith(SKIP) or name not in sys.stdlib_module_names:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - some stdlib modules need a platform or a GUI
            continue
        objects = [module] + [v for _, v in sorted(vars(module).items()) if inspect.isclass(v) or inspect.isroutine(v)]
        for obj in list(objects):
            if inspect.isclass(obj):
                objects.extend(v for _, v in sorted(vars(obj).items()) if inspect.isroutine(v))
        for obj in objects:
            doc = getattr(obj, "__doc__", None)
            if isinstance(doc, str) and id(doc) not in seen:
                seen.add(id(doc))
                yield doc


def sentences(doc):
    for para in re.split(r"\n\s*\n", doc):
        text = " ".join(para.split())
        for piece in re.split(r"(?<=[a-z]\.)\s+(?=[A-Z])", text):
            if SENTENCE.match(piece) and not any(w in piece.lower() for w in BAD_WORDS):
                yield piece


def main():
    found = sorted({s for doc in docstrings() for s in sentences(doc)})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(found) + "\n", encoding="utf-8")
    print(f"{len(found)} sentences, {OUT.stat().st_size} bytes -> {OUT}")


if __name__ == "__main__":
    main()
