"""One immutable piece of the kept keyword index: chunks, their BM25 postings, character and pair
postings (term statistics) and outline keys, as flat arrays in one folder, opened memory-mapped.

A segment is written once (to ``NAME.tmp``, synced, then renamed) and never changed: deleting a
chunk is recorded in the snapshot that uses the segment (its dead rows), and segments are merged
into new ones (:func:`merge_segments`) from their arrays, without tokenizing anything again.  Rows
are stored in the order of their ``key``, their place in the collection's order.
"""

from __future__ import annotations

import hashlib
import io
import json
import mmap
import os
import shutil
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vectorstore.keyword.grams import GramArrays, build_grams, term_text
from vectorstore.records import SECTION_SEP, Chunk

FORMAT = 1
_STRINGS = ("id", "section", "text", "lower", "tok")  # UTF-8 blobs with offsets
_ROW_STRINGS = ("id", "section", "text", "lower")
_DOC_FIELDS = ("doc_id", "source", "title", "doc_hash", "ingested_at")
_ROW_ARRAYS = ("key", "start", "end", "suspicious", "dl")
MERGE_BLOCK = 4_000_000  # postings moved per step of a merge: bounds its temporary arrays


class SegmentError(Exception):
    """A segment folder that is missing, incomplete or does not match its description."""


def hash64(text: str) -> int:
    """A stable 64-bit hash of a string (never 0: 0 marks "no key")."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little") or 1


def _hashes(texts: Iterable[str | None]) -> np.ndarray:
    return np.fromiter((hash64(t) if t is not None else 0 for t in texts), dtype=np.uint64)


def section_key(doc_id: str, section: str) -> str:
    return f"{doc_id}\x00{section}"


def outline_keys(chunk: Chunk) -> tuple[str | None, str | None]:
    """(section key of a text chunk, parent-section key of a child heading): see assistant.lists.Outline."""
    sec = section_key(chunk.doc_id, chunk.section) if chunk.kind == "text" else None
    grp = (
        section_key(chunk.doc_id, chunk.section.rsplit(SECTION_SEP, 1)[0])
        if chunk.kind == "heading" and SECTION_SEP in chunk.section
        else None
    )
    return sec, grp


@dataclass(frozen=True)
class Row:
    """One chunk as a segment stores it: ``key`` orders it in the collection, ``tokens`` are its BM25 tokens."""

    key: int
    chunk: Chunk
    tokens: Sequence[str]


def _blob(values: list[bytes]) -> tuple[bytes, np.ndarray]:
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum([len(v) for v in values], out=offsets[1:])
    return b"".join(values), offsets


def _sorted_lookup(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(hashes, kind="stable")
    return hashes[order], order.astype(np.int32)


def write_segment(folder: Path, rows: list[Row]) -> None:
    """Write ``rows`` as a new segment in ``folder``; atomic (a crash leaves only ``folder.tmp``)."""
    rows = sorted(rows, key=lambda r: r.key)
    chunks = [r.chunk for r in rows]
    docs: dict[tuple, int] = {}
    doc_index = np.fromiter(
        (docs.setdefault(tuple(getattr(c, f) for f in _DOC_FIELDS), len(docs)) for c in chunks),
        dtype=np.int32,
        count=len(chunks),
    )
    kinds, orientations = sorted({c.kind for c in chunks}), sorted({c.orientation for c in chunks})
    arrays: dict[str, np.ndarray] = {
        "key": np.asarray([r.key for r in rows], dtype=np.int64),
        "doc": doc_index,
        "start": np.asarray([c.start for c in chunks], dtype=np.int64),
        "end": np.asarray([c.end for c in chunks], dtype=np.int64),
        "kind": np.asarray([kinds.index(c.kind) for c in chunks], dtype=np.uint8),
        "orientation": np.asarray([orientations.index(c.orientation) for c in chunks], dtype=np.uint8),
        "suspicious": np.asarray([c.suspicious for c in chunks], dtype=np.uint8),
        "dl": np.asarray([len(r.tokens) for r in rows], dtype=np.int32),
    }
    lower = [term_text(c) for c in chunks]
    strings = {
        "id": [c.chunk_id for c in chunks],
        "section": [c.section for c in chunks],
        "text": [c.text for c in chunks],
        "lower": lower,
    }
    blobs: dict[str, bytes] = {}
    for name, values in strings.items():
        blobs[name], arrays[f"{name}_off"] = _blob([v.encode("utf-8") for v in values])
    for prefix, size in (("c", 1), ("p", 2)):
        grams = build_grams(lower, size)
        arrays[f"{prefix}_keys"], arrays[f"{prefix}_off"], arrays[f"{prefix}_docs"] = (
            grams.keys,
            grams.offsets,
            grams.docs,
        )
    # BM25 postings: (token, row) pairs with their counts, grouped by token
    vocab: dict[str, int] = {}
    n = max(len(rows), 1)
    flat = np.fromiter((vocab.setdefault(t, len(vocab)) for r in rows for t in r.tokens), dtype=np.int64)
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), arrays["dl"].astype(np.int64))
    pairs, tf = np.unique(flat * n + owner, return_counts=True)
    token_ids, posting_rows = np.divmod(pairs, n)
    tokens = [t.encode("utf-8") for t in vocab]
    _finish(
        folder,
        arrays,
        blobs,
        tokens,
        token_ids,
        posting_rows,
        tf,
        docs=[list(d) for d in docs],
        kinds=kinds,
        orientations=orientations,
    )


def _finish(
    folder: Path,
    arrays: dict[str, np.ndarray],
    blobs: dict[str, bytes],
    tokens: list[bytes],
    token_ids: np.ndarray,
    posting_rows: np.ndarray,
    tf: np.ndarray,
    **meta,
) -> None:
    """Derived lookups (hash order of ids, sections, tokens), the postings by token, then the folder."""
    ids = [
        blobs["id"][int(a) : int(b)].decode("utf-8")
        for a, b in zip(arrays["id_off"][:-1], arrays["id_off"][1:], strict=True)
    ]
    arrays["id_hash"], arrays["id_order"] = _sorted_lookup(_hashes(ids))
    secs = [
        blobs["section"][int(a) : int(b)].decode("utf-8")
        for a, b in zip(arrays["section_off"][:-1], arrays["section_off"][1:], strict=True)
    ]
    keys = [
        outline_keys(Chunk(i, meta["docs"][d][0], "", "", s, meta["kinds"][k], 0, 0, ""))
        for i, d, s, k in zip(ids, arrays["doc"].tolist(), secs, arrays["kind"].tolist(), strict=True)
    ]
    arrays["sec_hash"], arrays["sec_order"] = _sorted_lookup(_hashes(k[0] for k in keys))
    arrays["grp_hash"], arrays["grp_order"] = _sorted_lookup(_hashes(k[1] for k in keys))
    token_hash = np.fromiter((hash64(t.decode("utf-8")) for t in tokens), dtype=np.uint64, count=len(tokens))
    order = np.argsort(token_hash, kind="stable")  # tokens stored by hash: found with searchsorted
    rank = np.empty(len(tokens), dtype=np.int64)
    rank[order] = np.arange(len(tokens))
    new_ids = rank[token_ids]
    by_token = np.argsort(new_ids, kind="stable")
    arrays["tok_hash"] = token_hash[order]
    arrays["tok_ptr"] = np.concatenate([[0], np.cumsum(np.bincount(new_ids, minlength=len(tokens)))]).astype(np.int64)
    arrays["post_row"] = posting_rows[by_token].astype(np.int32)
    arrays["post_tf"] = tf[by_token].astype(np.uint16 if len(tf) == 0 or int(tf.max()) < 2**16 else np.int32)
    blobs["tok"], arrays["tok_off"] = _blob([tokens[i] for i in order])
    meta = {"format": FORMAT, "rows": len(arrays["key"]), "tokens": len(tokens)} | meta
    _write_folder(folder, arrays, blobs, meta)


def _write_folder(folder: Path, arrays: dict[str, np.ndarray], blobs: dict[str, bytes], meta: dict) -> None:
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    files: dict[str, list[int]] = {}
    for name, array in arrays.items():
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
        files[f"{name}.npy"] = _write_file(tmp / f"{name}.npy", buf.getvalue())
    for name, data in blobs.items():
        files[f"{name}.bin"] = _write_file(tmp / f"{name}.bin", data)
    _write_file(tmp / "meta.json", json.dumps(meta | {"files": files}, ensure_ascii=False).encode("utf-8"))
    fsync_dir(tmp)
    os.replace(tmp, folder)
    fsync_dir(folder.parent)


def _write_file(path: Path, data: bytes) -> list[int]:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return [len(data), zlib.crc32(data)]


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Blob:
    """A UTF-8 blob, memory-mapped, with its offsets."""

    def __init__(self, path: Path, offsets: np.ndarray) -> None:
        self.offsets = offsets
        self.data: mmap.mmap | bytes = b""
        if path.stat().st_size:
            with open(path, "rb") as fh:
                self.data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)

    def raw(self, i: int) -> bytes:
        return self.data[int(self.offsets[i]) : int(self.offsets[i + 1])]

    def get(self, i: int) -> str:
        return self.raw(i).decode("utf-8")

    def contains(self, i: int, needle: bytes) -> bool:
        """``needle`` occurs in string ``i`` (UTF-8 is self-synchronising: a byte match is a character match)."""
        return self.data.find(needle, int(self.offsets[i]), int(self.offsets[i + 1])) >= 0


class Segment:
    """A segment folder, opened memory-mapped (nothing is read until it is used)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.name = self.folder.name
        try:
            self.meta = json.loads((self.folder / "meta.json").read_text(encoding="utf-8"))
            if self.meta.get("format") != FORMAT:
                raise SegmentError(f"{self.name}: format {self.meta.get('format')}, expected {FORMAT}")
            for file, (size, _) in self.meta["files"].items():
                actual = (self.folder / file).stat().st_size
                if actual != size:
                    raise SegmentError(f"{self.name}/{file}: {actual} bytes, expected {size}")
            self.a = {
                f[:-4]: np.load(self.folder / f, mmap_mode="r", allow_pickle=False)
                for f in self.meta["files"]
                if f.endswith(".npy")
            }
            self.s = {name: _Blob(self.folder / f"{name}.bin", self.a[f"{name}_off"]) for name in _STRINGS}
            self.n = int(self.meta["rows"])
            self.docs = [dict(zip(_DOC_FIELDS, d, strict=True)) for d in self.meta["docs"]]
            self.kinds, self.orientations = self.meta["kinds"], self.meta["orientations"]
            shapes = [len(self.a[k]) == self.n for k in ("key", "doc", "dl", "id_hash")] + [
                len(self.a["tok_ptr"]) == self.meta["tokens"] + 1
            ]
        except SegmentError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SegmentError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        if not all(shapes):
            raise SegmentError(f"{self.name}: arrays do not match its {self.n} rows")
        self.chars = GramArrays(self.a["c_keys"], self.a["c_off"], self.a["c_docs"])
        self.pairs = GramArrays(self.a["p_keys"], self.a["p_off"], self.a["p_docs"])

    def verify(self) -> None:
        """Read every file and compare its checksum (every byte: for a background check)."""
        for file, (size, crc) in self.meta["files"].items():
            data = (self.folder / file).read_bytes()
            if len(data) != size or zlib.crc32(data) != crc:
                raise SegmentError(f"{self.name}/{file}: checksum mismatch")

    # --- rows ------------------------------------------------------------------------------
    def chunk(self, row: int) -> Chunk:
        a, doc = self.a, self.docs[int(self.a["doc"][row])]
        return Chunk(
            chunk_id=self.s["id"].get(row),
            doc_id=doc["doc_id"],
            source=doc["source"],
            title=doc["title"],
            section=self.s["section"].get(row),
            kind=self.kinds[int(a["kind"][row])],
            start=int(a["start"][row]),
            end=int(a["end"][row]),
            text=self.s["text"].get(row),
            doc_hash=doc["doc_hash"],
            ingested_at=doc["ingested_at"],
            orientation=self.orientations[int(a["orientation"][row])],
            suspicious=bool(a["suspicious"][row]),
        )

    def doc_rows(self) -> dict[str, np.ndarray]:
        """Rows of each document of the segment."""
        doc = np.asarray(self.a["doc"])
        order = np.argsort(doc, kind="stable")
        bounds = np.searchsorted(doc[order], np.arange(len(self.docs) + 1))
        out: dict[str, list[np.ndarray]] = {}
        for i, d in enumerate(self.docs):  # one document may be listed twice (two versions, one of them dead)
            out.setdefault(d["doc_id"], []).append(order[bounds[i] : bounds[i + 1]])
        return {d: np.sort(np.concatenate(parts)).astype(np.int32) for d, parts in out.items()}

    def row_of_id(self, chunk_id: str) -> int:
        for row in self._hashed("id", hash64(chunk_id)).tolist():
            if self.s["id"].raw(row) == chunk_id.encode("utf-8"):
                return row
        return -1

    def _hashed(self, name: str, h: int) -> np.ndarray:
        hashes = self.a[f"{name}_hash"]
        lo, hi = np.searchsorted(hashes, np.uint64(h), "left"), np.searchsorted(hashes, np.uint64(h), "right")
        return np.asarray(self.a[f"{name}_order"][lo:hi])

    def rows_with(self, name: str, key: str) -> np.ndarray:
        """Rows whose section key (``sec``) or parent-section key (``grp``) has the hash of ``key``
        (callers check the strings)."""
        return self._hashed(name, hash64(key))

    # --- BM25 ----------------------------------------------------------------------------------
    def token_id(self, token: str) -> int:
        hashes = self.a["tok_hash"]
        h = np.uint64(hash64(token))
        lo = int(np.searchsorted(hashes, h, "left"))
        raw = token.encode("utf-8")
        while lo < len(hashes) and hashes[lo] == h:
            if self.s["tok"].raw(lo) == raw:
                return lo
            lo += 1
        return -1

    def postings(self, token_id: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = int(self.a["tok_ptr"][token_id]), int(self.a["tok_ptr"][token_id + 1])
        return self.a["post_row"][lo:hi], self.a["post_tf"][lo:hi]

    def tokens(self) -> list[bytes]:
        return [self.s["tok"].raw(i) for i in range(self.meta["tokens"])]


def _regroup(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_keys: int, row_dtype: type
) -> tuple[np.ndarray, np.ndarray]:
    """Posting lists of several pieces under one key numbering: ``parts`` are (key offsets, new key of each of
    the piece's keys, new row of each posting or -1 to drop).  Returns (offsets, rows) grouped by new key,
    each piece's postings after the previous pieces' (a counting sort, block by block)."""
    counts = np.zeros(n_keys, dtype=np.int64)
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for offsets, new_key, new_row in parts:
        per_key = np.diff(offsets)
        keep = new_row >= 0
        key_of = np.repeat(new_key.astype(np.int32), per_key)
        counts += np.bincount(key_of[keep], minlength=n_keys)
        kept.append((key_of, new_row, keep))
    out_offsets = np.zeros(n_keys + 1, dtype=np.int64)
    np.cumsum(counts, out=out_offsets[1:])
    rows: np.ndarray = np.empty(int(out_offsets[-1]), dtype=row_dtype)
    cursor = out_offsets[:-1].copy()
    for key_of, new_row, keep in kept:
        for lo in range(0, len(key_of), MERGE_BLOCK):
            k, r = key_of[lo : lo + MERGE_BLOCK], new_row[lo : lo + MERGE_BLOCK]
            m = keep[lo : lo + MERGE_BLOCK]
            k, r = k[m], r[m]
            if not len(k):
                continue
            # rank of each posting within its key's run in this block (a piece's runs are contiguous)
            starts = np.flatnonzero(np.concatenate([[True], k[1:] != k[:-1]]))
            run_len = np.diff(np.append(starts, len(k)))
            rank = np.arange(len(k)) - np.repeat(starts, run_len)
            rows[cursor[k] + rank] = r
            cursor[k[starts]] += run_len
    return out_offsets, rows


def merge_segments(folder: Path, parts: list[tuple[Segment, np.ndarray]]) -> None:
    """Write one segment holding the given rows (ascending) of each segment, ordered by key; nothing is re-tokenized."""
    picks = [(s, np.asarray(rows, dtype=np.int64)) for s, rows in parts]
    keys = np.concatenate([np.asarray(s.a["key"])[r] for s, r in picks] or [np.zeros(0, np.int64)])
    piece = np.concatenate(
        [np.full(len(r), i, dtype=np.int32) for i, (_, r) in enumerate(picks)] or [np.zeros(0, np.int32)]
    )
    local = np.concatenate([r for _, r in picks] or [np.zeros(0, np.int64)])
    order = np.argsort(keys, kind="stable")
    total = len(order)
    new_row_of = []
    for i, (s, _) in enumerate(picks):
        m = np.full(s.n, -1, dtype=np.int32)  # int32 throughout: a merge of 100k chunks moves ~70M postings
        mine = order[piece[order] == i]
        m[local[mine]] = np.flatnonzero(piece[order] == i)
        new_row_of.append(m)
    # documents and small tables
    docs: dict[tuple, int] = {}
    kinds = sorted({k for s, _ in picks for k in s.kinds})
    orientations = sorted({o for s, _ in picks for o in s.orientations})
    arrays: dict[str, np.ndarray] = {}
    doc_new, kind_new, orient_new = [], [], []
    for s, _ in picks:
        doc_new.append(
            np.asarray(
                [docs.setdefault(tuple(d[f] for f in _DOC_FIELDS), len(docs)) for d in s.docs] or [0], dtype=np.int32
            )
        )
        kind_new.append(np.asarray([kinds.index(k) for k in s.kinds] or [0], dtype=np.uint8))
        orient_new.append(np.asarray([orientations.index(o) for o in s.orientations] or [0], dtype=np.uint8))

    def gather(name: str, remap: list[np.ndarray] | None = None) -> np.ndarray:
        parts_ = [
            np.asarray(s.a[name])[r] if remap is None else remap[i][np.asarray(s.a[name])[r]]
            for i, (s, r) in enumerate(picks)
        ]
        values = np.concatenate(parts_) if parts_ else np.zeros(0)
        return values[order]

    for name in _ROW_ARRAYS:
        arrays[name] = gather(name)
    arrays["kind"], arrays["orientation"] = gather("kind", kind_new), gather("orientation", orient_new)
    used, arrays["doc"] = np.unique(gather("doc", doc_new), return_inverse=True)  # only the documents of kept rows
    arrays["doc"] = arrays["doc"].astype(np.int32)
    table = list(docs)
    docs = {table[i]: j for j, i in enumerate(used.tolist())}
    blobs: dict[str, bytes] = {}
    where = list(zip(piece[order].tolist(), local[order].tolist(), strict=True))
    for name in _ROW_STRINGS:
        blobs[name], arrays[f"{name}_off"] = _blob([picks[p][0].s[name].raw(r) for p, r in where])
    # term statistics: the union of gram keys, each piece's postings renumbered
    for prefix in ("c", "p"):
        union = np.unique(
            np.concatenate([np.asarray(s.a[f"{prefix}_keys"]) for s, _ in picks] or [np.zeros(0, np.int64)])
        )
        pieces = [
            (
                np.asarray(s.a[f"{prefix}_off"]),
                np.searchsorted(union, np.asarray(s.a[f"{prefix}_keys"])).astype(np.int32),
                new_row_of[i][np.asarray(s.a[f"{prefix}_docs"])],
            )
            for i, (s, _) in enumerate(picks)
        ]
        offsets, docs_ = _regroup(pieces, len(union), np.int32)
        # a key no kept row holds any more is dropped
        alive = np.diff(offsets) > 0
        arrays[f"{prefix}_keys"] = union[alive].astype(np.int64)
        arrays[f"{prefix}_off"] = np.concatenate([[0], np.cumsum(np.diff(offsets)[alive])]).astype(np.int64)
        arrays[f"{prefix}_docs"] = docs_
    # BM25: the union of tokens, postings renumbered (dropped rows' postings go)
    vocab: dict[bytes, int] = {}
    token_maps = [np.asarray([vocab.setdefault(t, len(vocab)) for t in s.tokens()], dtype=np.int32) for s, _ in picks]
    pieces = [
        (np.asarray(s.a["tok_ptr"]), token_maps[i], new_row_of[i][np.asarray(s.a["post_row"])])
        for i, (s, _) in enumerate(picks)
    ]
    tf_pieces = [
        (
            np.asarray(s.a["tok_ptr"]),
            token_maps[i],
            np.where(new_row_of[i][np.asarray(s.a["post_row"])] >= 0, np.asarray(s.a["post_tf"]).astype(np.int32), -1),
        )
        for i, (s, _) in enumerate(picks)
    ]
    ptr, rows = _regroup(pieces, len(vocab), np.int32)
    _, tfs = _regroup(tf_pieces, len(vocab), np.int32)
    alive = np.diff(ptr) > 0
    tokens = [t for t, a in zip(vocab, alive.tolist(), strict=True) if a]
    token_ids = np.repeat(np.cumsum(alive)[alive] - 1, np.diff(ptr)[alive])
    meta = {"docs": [list(d) for d in docs], "kinds": kinds, "orientations": orientations}
    _finish(folder, arrays, blobs, tokens, token_ids, rows, tfs, **meta)
    assert len(arrays["key"]) == total
