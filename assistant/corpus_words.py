"""The bundled reports' own words (data/corpus: 二七区's five-year review and plan), apart from the general word lists.

These are not Chinese in general (``zhtext/lexicon.py`` is): they are what this corpus is about and how it words
things.  They are kept as fixed lists, not derived from the index, because the answer model was fitted on
questions analysed with exactly these (deriving "what every document is about" from the indexed corpus would
change the terms of other corpora's questions too, CMRC's among them: a change to make with the next fitting).
"""
from __future__ import annotations

# What every bundled report is about: never a term of a question asked of them (「二七区的GDP是多少?」 asks about
# GDP; every passage is about 二七区).  区 and 全区 are how the reports name it when they do not spell it out.
REPORTS_SUBJECT = frozenset(["二七区", "二七", "区", "全区"])

# Everyday words and how the reports word them (GDP → 地区生产总值): they expand the retrieval query and count as
# the question's term in the evidence.  A small curated list.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "gdp": ("地区生产总值",),
    "经济总量": ("地区生产总值",),
    "生产总值": ("地区生产总值",),
    "学校": ("中小学", "幼儿园", "学校"),
    "娃": ("学生", "孩子", "中小学"),
    "孩子": ("学生", "孩子", "中小学"),
    "养老院": ("颐养院", "养老"),
    "敬老院": ("颐养院", "养老"),
    "床": ("床位",),
    "企业": ("市场主体", "企业"),
    "大水": ("暴雨", "防汛"),
    "洪水": ("暴雨", "防汛"),
    "水灾": ("暴雨", "防汛"),
    "研发投入": ("研发经费投入强度",),
    "大奖": ("奖",),
    "奖项": ("奖",),
    "全国性": ("全国", "国字号"),
    "省级": ("全省",),
    "荣誉": ("荣誉", "荣获"),
    "开园": ("开门迎客",),
    "施工": ("改造",),
    "调动": ("发动",),
    "新建": ("新投用", "建成", "建设"),
    "新添": ("新增",),
    "建好": ("建成", "完成"),
    "撤": ("撤离",),
    "设置": ("设立",),
    "城区面积": ("建成区面积",),
    "党的建设": ("党建", "党的建设"),
    "翻了一番": ("一倍",),
    "翻一番": ("一倍",),
}
