"""The Gradio page's chat, driven through gradio_client against the running app (real index, no mocks)."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

pytest.register_assert_rewrite("webapp_fixtures")
pytest_plugins = ["webapp_fixtures"]

from gradio_client import Client  # noqa: E402

from webapp.render import md_escape  # noqa: E402

from webapp_fixtures import GDP_QUESTION  # noqa: E402


def text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


@pytest.fixture
def clients(base_url: str) -> Iterator[Callable[[], Client]]:
    """``new()`` → a gradio_client session (each one is a separate browser tab); all closed afterwards."""
    made: list[Client] = []

    def new() -> Client:
        made.append(Client(base_url, verbose=False))
        return made[-1]

    yield new
    for c in made:
        c.close()


@pytest.fixture
def client(clients: Callable[[], Client]) -> Client:
    return clients()


def test_chat_gives_a_cited_answer_with_collapsible_sources(client: Client) -> None:
    box, chat = client.predict(GDP_QUESTION, [], api_name="/chat")
    assert box == ""  # the input box is cleared
    user, answer, sources = chat[-3:]
    assert user["role"] == "user" and GDP_QUESTION in text(user)
    assert "760亿元" in text(answer) and "\\[1\\]" in text(answer)  # the marker, escaped for Markdown
    assert not answer["metadata"] or "title" not in answer["metadata"]
    assert sources["metadata"]["title"].startswith("参考来源")
    assert sources["metadata"]["status"] == "done"  # rendered collapsed
    body = text(sources)
    assert "**\\[1\\] 深耕“三个二七”出重彩" in body and "秒懂五年 数字见证了发展高度" in body  # title › section
    plain = body.replace("<strong>", "").replace("</strong>", "")
    assert "<mark>2020年,二七区地区生产总值达到760亿元</mark>" in plain  # the cited sentence highlighted in its passage
    assert "<strong>760亿元</strong>" in body  # …and the direct answer inside it
    assert "erqi-review-2016-2021.txt · 第 308–330 字" in body


def test_answer_is_streamed_in_pieces(client: Client) -> None:
    job = client.submit("“六个区”分别是什么?", [], api_name="/chat")
    job.result(timeout=60)
    answers = [
        text(chat[-1])
        for _, chat in job.outputs()
        if chat and chat[-1]["role"] == "assistant" and not chat[-1]["metadata"]
    ]
    assert len(answers) >= 4, len(answers)
    lengths = [len(a) for a in answers]
    assert lengths == sorted(lengths) and lengths[0] < lengths[-1]
    final = job.outputs()[-1][1]
    assert "中优功能核心区" in text(final[-2]) and final[-1]["metadata"]["title"].startswith("参考来源 · 6")


def test_history_is_kept_per_session(clients: Callable[[], Client]) -> None:
    alice, bob = clients(), clients()
    _, chat = alice.predict("福华颐养院有多少张床位?", [], api_name="/chat")
    assert "317张" in text(chat[-2])
    _, bob_chat = bob.predict("二七区2020年的地区生产总值是多少?", [], api_name="/chat")
    _, chat = alice.predict("它能服务多少人?", chat, api_name="/chat")
    assert "6万余人" in text(chat[-2]), text(chat[-2])
    assert "理解为" in text(chat[-2])  # the follow-up is shown as understood
    # Bob's follow-up is resolved against his own first question, not Alice's.
    _, bob_chat = bob.predict("那到2025年的目标呢?", bob_chat, api_name="/chat")
    assert "1200亿元" in text(bob_chat[-2]), text(bob_chat[-2])
    assert "颐养院" not in text(bob_chat[-2])


def test_no_answer_reply_looks_different_and_lists_related(client: Client) -> None:
    _, chat = client.predict("二七区的区长是谁?", [], api_name="/chat")
    answer, related = chat[-2:]
    assert text(answer).startswith("**资料中没有找到答案**")
    assert "抱歉" in text(answer)
    assert related["metadata"]["title"].startswith("相关段落")
    assert text(related).count("**") >= 2


def test_bad_question_gets_a_message_not_a_crash(client: Client) -> None:
    _, chat = client.predict("问" * 2100, [], api_name="/chat")
    assert text(chat[-1]).startswith("【错误】") and "过长" in text(chat[-1])
    box, chat = client.predict("   ", [], api_name="/chat")
    assert chat == []  # nothing is sent for an empty box


def test_fact_check_endpoint(client: Client) -> None:
    result = client.predict("二七区2020年地区生产总值达到800亿元", api_name="/check")
    assert result.startswith("### 【不符】与资料记载不符")
    assert "资料记载为760亿元" in result
    assert "<mark>" in result and "#### 依据原文" in result
    assert client.predict("二七区的区长是张三", api_name="/check").startswith("### 【待核实】")
    assert client.predict("福华颐养院设立床位317张", api_name="/check").startswith("### 【相符】")


@pytest.mark.parametrize(
    "raw, forbidden",
    [
        ("<script>alert(1)</script>", ["<script"]),
        ("<img src=x onerror=alert(1)>", ["<img"]),
        ("[点我](javascript:alert(1))", ["[点我]("]),
        ("**粗体** _斜体_ `代码` $$x$$", ["**粗体**", "_斜体_", "`代码`", "$$"]),
        ("# 标题\n- 列表\n1. 编号\n    缩进", ["\n# ", "\n- ", "\n1. ", "    "]),
        ("https://example.com www.example.com", ["https://", "www.e"]),
    ],
)
def test_document_text_is_escaped_for_markdown(raw: str, forbidden: list[str]) -> None:
    escaped = "\n" + md_escape(raw)
    for snippet in forbidden:
        assert snippet not in escaped, (snippet, escaped)
