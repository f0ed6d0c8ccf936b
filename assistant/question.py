"""What a question asks: its key terms, the numbers it pins down, and the kind of answer it wants."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from assistant.texts import SYNONYMS
from assistant.values import parse_values
from zhtext import chars
from zhtext.dates import DATED_MONTH_DAY, MONTH_DAY, YEAR
from zhtext.numerals import BEYOND_TWO, HUNDRED, LARGE, SMALL, UP_TO_TEN, is_exact, to_int
from zhtext.tags import (
    FUNCTION_TAGS,
    GUESSED_TERM_TAGS,
    NAME_WEIGHT_TAGS,
    NON_WORD_TAG,
    NOUN_LIKE_TAGS,
    NOUN_PREFIX,
    NOUN_TAG,
    NUMERAL_PREFIX,
    OTHER_PROPER_TAG,
    PARTICLE_PREFIX,
)
from zhtext.units import units_of
from zhtext.words import COMMON, Segmenter

QuestionKind = Literal["quantity", "time", "who", "list", "other"]
UnitClass = Literal["people", "money", "area", "percent", "count"]

# Words that say how a question is asked, not what it is about.
FILLER = frozenset(
    [
        "名字", "叫啥", "啥", "来着", "那会儿", "那阵子", "那边", "这边", "现在", "目前", "时候", "大概", "大约",
        "左右", "一共", "总共", "共", "到底", "究竟", "听说", "据说", "呀", "啊", "吧", "呢", "嘛", "哦", "了", "吗",
        "多少", "几", "几个", "哪", "哪些", "哪个", "哪天", "哪年", "哪一年", "什么", "啥时候", "何时", "是", "有",
        "是不是", "有没有", "多大", "多不多", "多么", "怎么样", "如何", "怎样", "分别", "具体", "包括", "都", "还",
        "又", "那", "这", "它", "其", "该", "报道", "报告", "资料", "文中", "文章", "里", "方面", "情况", "问题",
        "内容", "一下", "请问", "告诉", "知道", "指的是", "指", "二七区", "二七", "区", "全区", "我们", "大家",
        "整个", "已经", "最早", "当时", "后来", "数量", "人数", "数字", "数", "变化", "范围", "场合", "部门", "位置",
        "地点", "时间", "时间表", "日期", "节点", "规划", "接下来", "往后", "今后", "以后", "将来", "未来", "打算",
        "进来", "出来", "起来", "搞", "弄", "拉", "要", "能", "会", "想", "定", "按照", "按", "多长", "多高", "多重",
        "多远", "多久", "多宽", "多深", "多厚", "多大年纪", "目标", "计划", "当天", "当日", "发生", "程度", "水平",
        "样子", "什么样", "怎样", "相当于", "相比", "比", "前", "后", "期间", "那些", "这些", "其中", "分别是",
        "各是", "各", "多", "大", "少", "老", "新",
    ]
)
# Words that name the kind of answer wanted (地址, 出生地, 特点): texts state the answer («位于…», «生于…»)
# rather than repeat the word, so they weigh little and their absence from the corpus proves nothing.
ANSWER_TYPE = frozenset(
    [
        "地址", "位置", "地理位置", "所在地", "出生地", "出生地点", "发源地", "籍贯", "科目", "科属", "类别", "特性",
        "特点", "特征", "特色", "性质", "性态", "原因", "缘故", "病因", "用途", "作用", "功能", "习性", "生活习性",
        "职业", "身份", "名称", "别名", "别称", "本名", "原名", "全名", "外形", "外观", "形状", "颜色", "体型",
        "来历", "由来", "意思", "含义", "定义", "方法", "方式", "办法", "过程", "经过", "结果", "影响", "目的",
        "类型", "种类", "背景", "意义", "评价", "优势", "优点", "缺点", "金额", "数额", "售价", "价格",
    ]
)
_QUESTION_WORD_PART = re.compile(r"^(哪些|哪几个|哪个|哪|几|多少|第几个|第几)|(多少|几个|什么)$")
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?:%|万|亿)?")
_ORDINAL = re.compile(rf"第[{UP_TO_TEN}{HUNDRED}\d]+[届次个]")
_CN_COUNT = re.compile(rf"(?<![哪几第])([{SMALL}]+)(?=[个项条所张家户名位届次])")
_LIST_COUNT = re.compile(rf"(?:哪|这|那)?([{SMALL}\d]+)(?:个|项|条|大|类|种|方面)")

# The units that answer a 多少/几 question of each kind; 几倍 asks for a count like 几个 does.
UNIT_CLASSES: dict[UnitClass, tuple[str, ...]] = {
    "people": units_of("people"),
    "money": units_of("money"),
    "area": units_of("area"),
    "percent": units_of("percent"),
    "count": units_of("count", "ratio"),
}
_QUOTED_COUNT = re.compile(rf"[“「\"]([{SMALL}]+)[\u4e00-\u9fff]")
_UNIT_AFTER_HOW_MANY = re.compile(
    r"(?:多少|几)(平方公里|亿元|万元|人次|亿(?![人个])|[个项所张家户条部封座处次倍届人名位元])?"
)
_TIME_Q = re.compile(
    r"(什么时候|啥时候|何时|哪天|哪一天|哪年|哪一年|几月|几号|几点|几时|哪个月|时间|日期|时间表|节点|什么时间)"
)
_WHO_Q = re.compile(r"(谁|哪位|什么人|叫什么|叫啥|名字)")
_LIST_Q = re.compile(
    rf"(分别|哪些|哪几|包括|包含|都有|有哪|指的是哪|是哪[{BEYOND_TWO}\d]|哪[{BEYOND_TWO}\d]+[个项条大类种])"
)
_PLAN_Q = re.compile(r"(到20\d\d|目标|计划|规划|打算|要|将|今后|未来|往后|接下来|力争|确保)")


@dataclass(frozen=True)
class Term:
    surface: str
    alternatives: tuple[str, ...]  # any of these in the evidence counts as the term
    weight: float  # by part of speech: names and nouns count most
    carried: bool = False  # brought in from an earlier turn of the conversation
    # a word only jieba's HMM found (常庄, or a mis-split like 院能): used only to spot wrong names
    guessed: bool = False
    generic: bool = False  # names the kind of answer wanted (地址, 特点): never proof that the corpus lacks the subject


@dataclass
class Question:
    text: str
    terms: list[Term] = field(default_factory=list)
    years: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)  # other numbers/ordinals the evidence must contain
    kind: QuestionKind = "other"
    unit_class: UnitClass | None = None
    list_count: int | None = None
    wants_plan: bool = False
    wants_origin: bool = False  # 「…是哪里人?」: the answer is where someone comes from (「广东开平人。」)
    measure: str | None = None  # the measure word counted (几层 → 层): the answer reads 「两层」
    name_runs: list[str] = field(
        default_factory=list
    )  # single characters the segmenter could not join (祭 遵): a rare name, maybe

    def retrieval_query(self) -> str:
        """The question plus report wording for colloquial words (GDP → 地区生产总值)."""
        extra = [alt for t in self.terms for alt in t.alternatives if alt not in self.text]
        return self.text + (" " + " ".join(dict.fromkeys(extra)) if extra else "")


def _pos_weight(flag: str, word: str) -> float:
    if flag in NAME_WEIGHT_TAGS or len(word) >= 4:
        return 1.5
    if flag.startswith(NOUN_PREFIX) or flag in NOUN_LIKE_TAGS:
        return 1.0
    if flag.startswith(NUMERAL_PREFIX):
        return 1.0
    return 0.4


_QUOTED = chars.quoted(2, 10)
_COUNT_PREFIX = re.compile(rf"^[{SMALL}\d]+个?")
_COUNT_WORD = re.compile(rf"^[{LARGE}几\d]+[个项条所张家户名位届次年大类种倍座批]?$")  # 一座, 三个: values, not names


def _segment(text: str, segmenter: Segmenter) -> list[tuple[str, str]]:
    """Dictionary words (no HMM guessing), plus names only HMM recognises (常庄, 张振威)."""
    plain = [
        (w, OTHER_PROPER_TAG if f == NON_WORD_TAG and len(w) > 1 else f) for w, f in segmenter.tag(text, hmm=False)
    ]
    guessed = [(w, f) for w, f in segmenter.tag(text) if f in GUESSED_TERM_TAGS and len(w) >= 2]
    known = {w for w, _ in plain}
    return plain + [(w, f"guessed-{f}") for w, f in guessed if w not in known]


def _mask_values(text: str) -> str:
    """Numbers and dates are pins, not terms: 「7月20日特大暴雨」 must not yield the word 日特."""
    for value in parse_values(text):
        text = text[: value.start] + "," * len(value.text) + text[value.start + len(value.text) :]
    return YEAR.sub(lambda m: "," * len(m.group(0)), text)


def _terms(text: str, pairs: list[tuple[str, str]]) -> list[Term]:
    terms: dict[str, Term] = {}
    for quoted in _QUOTED.findall(text):
        head = _COUNT_PREFIX.sub("", quoted)  # “六个核心板块” → also 核心板块
        for word in dict.fromkeys((quoted, head)):
            if len(word) >= 2 and not _COUNT_WORD.match(word) and word not in FILLER:
                terms[word] = Term(word, (word,), 1.5)
    lowered = text.lower()
    for key, alternatives in SYNONYMS.items():
        if key in lowered:
            terms[key] = Term(key, alternatives + (key,), 1.0)
    fixed = list(terms.values())
    for word, flag in pairs:
        word = _QUESTION_WORD_PART.sub("", word.strip())
        if len(word) < 2 or word in FILLER or _COUNT_WORD.match(word) or not re.search(r"[\w\u4e00-\u9fff]", word):
            continue
        if flag in FUNCTION_TAGS or flag.startswith(PARTICLE_PREFIX):
            continue
        if any(word in t.alternatives or word in t.surface or t.surface in word.lower() for t in fixed):
            continue
        guess = flag.startswith("guessed-")
        flag = flag.removeprefix("guessed-")
        if word in ANSWER_TYPE:
            terms.setdefault(word, Term(word, (word,), 0.4, generic=True))
            continue
        terms.setdefault(word, Term(word, (word,), _pos_weight(flag, word), guessed=guess and flag == NOUN_TAG))
    return list(terms.values())


_FUNCTION_CHARS = frozenset(
    "的了是在和与及或被把对从向也都就而将让给由这那有谁哪几何啥吗呢"
)  # 「硕塞是谁」: 塞是 is no name


def _name_runs(words: list[tuple[str, str]]) -> list[str]:
    """Runs of two or more single-character words (祭 遵, 朱 载 圳): names the dictionary does not know."""
    runs, run = [], ""
    for word, flag in words:
        if flag.startswith("guessed-"):
            break  # the HMM's guesses follow the plain words
        if len(word) == 1 and "\u4e00" <= word <= "\u9fff" and word not in _FUNCTION_CHARS:
            run += word
            continue
        if len(run) >= 2:
            runs.append(run)
        run = ""
    return runs + ([run] if len(run) >= 2 else [])


_ORIGIN_Q = re.compile(r"(哪里|哪儿|哪个地方的|什么地方的|何处|何地|哪国|哪个国家的)人")
_HOW_MANY_MEASURE = re.compile(r"(?:几|多少)([\u4e00-\u9fff])")


def _measure(text: str, segmenter: Segmenter) -> str | None:
    """The measure word after 几 or 多少: at the question's end (共有几层?) or joined to 几 by the dictionary (几种)."""
    m = _HOW_MANY_MEASURE.search(text)
    if not m:
        return None
    if not re.search(r"[\u4e00-\u9fff]", text[m.end() :]):
        return m.group(1)
    return m.group(1) if m.group(0) in segmenter.cut(text, hmm=False) else None


def _unit_class(text: str) -> UnitClass | None:
    m = _UNIT_AFTER_HOW_MANY.search(text)
    unit = m.group(1) if m and m.group(1) else None
    if unit is None:
        named: tuple[tuple[UnitClass, tuple[str, ...]], ...] = (
            ("percent", UNIT_CLASSES["percent"]),
            ("area", ("面积",)),
            ("money", ("资金", "投资", "钱", "奖金", "金额", "经费")),
        )
        for name, words in named:
            if any(w in text for w in words):
                return name
        return None
    for name, units in UNIT_CLASSES.items():
        if unit in units:
            return name
    return None


def _kind(text: str) -> QuestionKind:
    if re.search(r"分别(是|有|为)?(多少|几)", text):
        return "quantity"
    if _LIST_Q.search(text):
        return "list"
    if _TIME_Q.search(text):
        return "time"
    if _WHO_Q.search(text):
        return "who"
    if re.search(r"(多少|几|多大|多高|多长|比例|倍|数量|规模)", text):
        return "quantity"
    return "other"


def _list_count(text: str) -> int | None:
    for m in list(_LIST_COUNT.finditer(text)) + list(_QUOTED_COUNT.finditer(text)):
        n = to_int(m.group(1)) if is_exact(m.group(1)) else None
        if n and 2 <= n <= 20:
            return n
    return None


def analyse(text: str, segmenter: Segmenter = COMMON) -> Question:
    """``segmenter``: the dictionary of the index the question is read against (its corpus terms stay whole)."""
    dates = MONTH_DAY.findall(text)  # a full date pins its month and day; the year may be implied by the report
    without_dates = DATED_MONTH_DAY.sub(" ", text)
    years = [m.group(0) for m in YEAR.finditer(without_dates)]
    rest = YEAR.sub(" ", without_dates)
    numbers = [n for n in _NUMBER.findall(rest)] + _ORDINAL.findall(text)
    numbers += [m.group(0) for m in _CN_COUNT.finditer(_ORDINAL.sub(" ", text)) if not _LIST_Q.search(text)]
    kind = _kind(text)
    segmented = _segment(_mask_values(text), segmenter)
    return Question(
        text=text,
        terms=_terms(text, segmented),
        years=years,
        dates=dates,
        numbers=numbers,
        kind=kind,
        unit_class=_unit_class(text) if kind == "quantity" else None,
        list_count=_list_count(text) if kind == "list" else None,
        wants_plan=bool(_PLAN_Q.search(text)),
        wants_origin=bool(_ORIGIN_Q.search(text)),
        measure=_measure(text, segmenter) if kind == "quantity" else None,
        name_runs=_name_runs(segmented),
    )
