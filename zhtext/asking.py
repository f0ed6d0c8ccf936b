"""The words a Chinese question asks with (什么, 哪里, 多少, 谁 …), in one list, and the patterns that tell what a
question asks for: a list, a time, a person, an amount, a plan, a place; whether it refers back to the one before.

Longer words come before the words they contain (哪里 before 哪), so that removing or splitting
on the pattern takes the whole word.  The answer model was fitted on features computed with
exactly these patterns; the variants below are named for what differs and why.
"""
from __future__ import annotations

import re

from zhtext.numerals import BEYOND_TWO

ASKING_WORDS = (
    "什么",
    "哪里",
    "哪儿",
    "哪个",
    "哪些",
    "哪",
    "多少",
    "几",
    "谁",
    "何",
    "怎么",
    "怎样",
    "为什么",
    "吗",
    "呢",
    "啥",
)
WHETHER = "是否"


def _alternation(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("(" + "|".join(words) + ")")


ASKING = _alternation(ASKING_WORDS)  # removed from a question before its character pairs are taken
ASKING_OR_WHETHER = _alternation((*ASKING_WORDS, WHETHER))  # where a question asks, and what it says around that
# Asks for something of its own: 呢 does not (「那二七华侨城项目呢?」 asks what the question before it asked),
# 是否 and any word with 怎 do.  Only searched for, so the shortest form of each word is enough.
ASKS_FOR_SOMETHING = _alternation(("多少", "几", "哪", "什么", "啥", "谁", "何", "吗", WHETHER, "怎"))
# The words a question asks for a plan with (目标, 要, 今后 …): also the target cues of zhtext.orientation.
PLAN_WORDS = ("目标", "计划", "规划", "打算", "要", "将", "今后", "未来", "往后", "接下来", "力争", "确保")

# What kind of answer a question asks for; assistant.question tries them in this order.
ASKS_AMOUNTS = re.compile(r"分别(是|有|为)?(多少|几)")  # 「…分别是多少?」: amounts, not a list of names
ASKS_LIST = re.compile(  # 「哪些…」「包括…」「哪三个…」 (哪一 asks "which"; BEYOND_TWO)
    rf"(分别|哪些|哪几|包括|包含|都有|有哪|指的是哪|是哪[{BEYOND_TWO}\d]|哪[{BEYOND_TWO}\d]+[个项条大类种])"
)
ASKS_TIME = re.compile(
    r"(什么时候|啥时候|何时|哪天|哪一天|哪年|哪一年|几月|几号|几点|几时|哪个月|时间|日期|时间表|节点|什么时间)"
)
ASKS_WHO = re.compile(r"(谁|哪位|什么人|叫什么|叫啥|名字)")
ASKS_QUANTITY = re.compile(r"(多少|几|多大|多高|多长|比例|倍|数量|规模)")
# A plan rather than a result (到2025年, 目标, 要): the question's own wording; zhtext.orientation.asked_side also
# reads later years (2023年) as a plan.
ASKS_PLAN = re.compile(r"(到20\d\d|" + "|".join(PLAN_WORDS) + ")")
ASKS_ORIGIN = re.compile(r"(哪里|哪儿|哪个地方的|什么地方的|何处|何地|哪国|哪个国家的)人")  # 「…是哪里人?」
ASKS_PLACE = re.compile(r"(哪里|哪儿|何处|何地|哪国|哪个(?:地方|国家|城市|省|州|县|区|地区)|什么地方|在哪)")
# The noun a 哪个/什么 question names as the kind of its answer: 哪一家报纸 → 报纸, 什么法律 → 法律.
ASKED_NOUN = re.compile(
    r"(?:哪一|哪个|哪家|哪所|哪种|哪类|哪|什么|何种|何)(?:个|家|所|位|种|类|座|条|部)?([\u4e00-\u9fff]{1,2})"
)
HOW_MANY_MEASURE = re.compile(r"(?:几|多少)([\u4e00-\u9fff])")  # the measure word counted: 几层 → 层
# A question word at either end of a segmented word, cut off before the word is a term (哪个区 → 区, 几个 → 个).
QUESTION_WORD_PART = re.compile(r"^(哪些|哪几个|哪个|哪|几|多少|第几个|第几)|(多少|几个|什么)$")

# A question that refers back to the one before it: opening with 那/还有/它…, or holding 它/这些/呢 …
FOLLOW_UP_CUE = re.compile(
    r"^(那|那么|那个|还有|另外|其中|它|它们|这个|这|该|此|又|再)|(它|其|这个|该|这些|那些|又)"
)
# The pronoun a follow-up opens with (「它能服务多少人?」), replaced by the subject it stands for.
LEADING_PRONOUN = re.compile(r"^(那么|那|还有|另外)?(它们|它|这个数|这个|这些|该|其)")
ASKS_AGAIN = re.compile(r"(呢|又)")  # 「那明年呢?」「又新增了多少?」: the question before, asked of something else

# How a claim's value is asked for when the claim becomes a question (「…床位为317张」 → 「…床位为多少张」): a date
# or year by its kind, an ordinal with 第几 and its measure word (第几届), any other amount with 多少 and its unit.
ASK_FOR_KIND = {"date": "哪一天", "year_month": "什么时候", "year": "哪一年"}
ASK_ORDINAL = "第几"
ASK_AMOUNT = "多少"
