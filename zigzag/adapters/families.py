"""What kind of model this is, and the defaults that follow from it, decided in one place.

* :func:`declared_kind`: what a checkpoint says it is, from
  ``config.architectures`` (every family: ``GPT2LMHeadModel`` is a causal LM
  as much as ``LlamaForCausalLM``), looked up in transformers' own auto
  mappings: ``"causal_lm"``, ``"masked_lm"`` or ``"encoder"`` (no head the
  evaluation uses).
* :func:`family_of`: the model type, whether it is a decoder (causal
  attention) or an encoder, and where its blocks are, from
  :func:`~zigzag.adapters.structure.find_structure`.
* :func:`resolve_defaults`: the hook point and pooling every entry point
  uses when the user gives none (``zigzag.extract``, ``zigzag extract``,
  ``zigzag run``): the paper's input of each block's feed-forward part for
  every model, pooled at the last real token for decoders (the paper's) and
  by the mean over real tokens for encoders (how sentence encoders pool;
  their last real token is ``[SEP]``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Family", "declared_kind", "family_of", "is_decoder", "model_kind", "resolve_defaults", "DEFAULT_HOOK",
           "KINDS"]

DEFAULT_HOOK = "post_attention_norm"
KINDS = ("causal_lm", "masked_lm", "encoder")


@dataclass(frozen=True)
class Family:
    """A model's type and layout, with paths relative to ``model.base_model``.

    Attributes
    ----------
    name : str
        ``config.model_type``.
    blocks : str
        The list of blocks, relative to the base model (``"layers"``, ``"h"``,
        ``"encoder.layer"``).
    final_norm : str or None
        Relative to the base model; None when there is none (BERT).
    kind : {"decoder", "encoder"}
        Causal attention or not.
    """

    name: str
    blocks: str
    final_norm: str | None
    kind: str


def _relative(model, path):
    if path is None:
        return None
    base = getattr(model, "base_model", model)
    if base is model:
        return path
    prefix = next((name for name, module in model.named_modules() if module is base), "")
    return path[len(prefix) + 1:] if prefix and path.startswith(prefix + ".") else path


def family_of(model) -> Family:
    """The :class:`Family` of a transformers model, found by structure.

    Raises
    ------
    ValueError
        When the model has no stack of blocks; the message lists module
        patterns that would work as ``hook``.
    """
    from .structure import find_structure

    s = find_structure(model)
    return Family(s.model_type, _relative(model, s.blocks), _relative(model, s.final_norm), s.kind)


def declared_kind(config) -> str | None:
    """``"causal_lm"``, ``"masked_lm"`` or ``"encoder"`` from ``config.architectures``; None when it declares none.

    An architecture counts as a causal LM when transformers lists it as the
    causal-LM class of some model type (``GPT2LMHeadModel``,
    ``BertLMHeadModel``, ``*ForCausalLM``), as a masked LM likewise, and as
    an encoder otherwise (``BertModel``, ``*ForSequenceClassification``).
    """
    architectures = [str(a) for a in (getattr(config, "architectures", None) or [])]
    if not architectures:
        return None
    from transformers.models.auto import modeling_auto as auto

    causal = set(auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values())
    masked = set(auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES.values())
    if any(a in causal or a.endswith("ForCausalLM") or a.endswith("LMHeadModel") for a in architectures):
        return "causal_lm"
    if any(a in masked or a.endswith("ForMaskedLM") for a in architectures):
        return "masked_lm"
    return "encoder"


def model_kind(model) -> str | None:
    """What a model object is: the kind its config declares, else its class's (None for a bare base model)."""
    declared = declared_kind(getattr(model, "config", None))
    if declared is not None:
        return declared
    return declared_kind(type("config", (), {"architectures": [type(model).__name__]})) if getattr(
        model, "base_model", model) is not model else None


def resolve_defaults(model, hook=None, pooling=None) -> tuple:
    """The hook point and pooling to use: the caller's, or the default for this kind of model.

    Returns
    -------
    hook : str or list of str
        ``hook``, or ``"post_attention_norm"`` (the input of each block's
        feed-forward part, then the final norm).
    pooling : str or int
        ``pooling``, or ``"last"`` for decoders and ``"mean"`` for encoders.
        Whether a model is a decoder is read from its attention (see
        :func:`~zigzag.adapters.structure.find_structure`); for a model with
        no stack of blocks, from what its checkpoint declares (a causal LM is
        a decoder).
    """
    hook = DEFAULT_HOOK if hook is None else hook
    if pooling is None:
        pooling = "last" if is_decoder(model) else "mean"
    return hook, pooling


def is_decoder(model) -> bool:
    """True when the model's attention is causal (decoders), False for encoders."""
    from .structure import find_structure

    try:
        return find_structure(model).causal
    except ValueError:  # no stack of blocks (state-space models): what the checkpoint declares
        return model_kind(model) == "causal_lm"
