# Set-up and the two jobs the README promises: `make demo` and `make test`.
# Both create (or reuse) the virtual environment .venv in the repository.

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.zigzag-installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MPLBACKEND := Agg

.PHONY: demo test setup clean

setup: $(STAMP)

# torch 2.13.0 first (the CPU build on this kind of machine; a bare `torch` pulls CUDA),
# then dionysus >= 2.2 built from source against Boost headers from PyPI (retried once:
# the build has been seen to fail once and pass on an identical retry), then the package.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0 boost-headers
	$(PY) -c "import sys, importlib.metadata as m; sys.exit(0 if tuple(map(int, m.version('dionysus').split('.')[:2])) >= (2, 2) else 1)" 2>/dev/null || \
	  { export CPLUS_INCLUDE_PATH="$$($(PY) -c 'import boost_headers; print(boost_headers.get_include())')"; \
	    $(PY) -m pip install --quiet "dionysus>=2.2" || $(PY) -m pip install --quiet "dionysus>=2.2"; }
	$(PY) -m pip install --quiet -e ".[test,demo,tables,lmeval,sweep]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/zigzag run --out zigzag-report

test: $(STAMP)
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) zigzag-report .pytest_cache
