"""Generated contrasts in the shapes of a district's plan and review reports, for the reader to learn what a
question asks: a target or an achievement, which indicator, which place, and what a follow-up means.

``python -m training.contrasts [--count 3000] [--out var/train/contrasts.jsonl]``

Every example is a reader window of made-up report sentences (an indicator's result in a year, its target
for a later year, other indicators, the same indicator of another place) and a question about one of them.
The label is the asked value's span, or "no answer here" when the window gives only the other side
(the 2020 result for a question on the target), another indicator (GDP for fiscal revenue), or another
place (郑州市's figure for a district's).  Follow-ups are asked with the question before them
(:func:`assistant.reader.question_side`): 「那目标呢?」 after a result question asks for the target of the same
indicator, 「那X呢?」 for X on the same side, and a complete new question asks only itself.

The figures are random and the places are a list of other districts and cities (never 二七区), so nothing
here can teach a fact about the bundled reports; only the shapes are theirs.  Deterministic for a seed.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from training.reader_data import Example

OUT = Path("var/train/contrasts.jsonl")

PLACES = (
    "金水区", "中原区", "管城区", "惠济区", "上街区", "高新区", "经开区", "航空港区", "新郑市", "巩义市", "荥阳市",
    "登封市", "新密市", "中牟县", "海淀区", "朝阳区", "天河区", "南山区", "江北区", "武侯区", "雁塔区", "鼓楼区",
    "城关区", "历下区", "西湖区", "江汉区", "岳麓区", "渝中区", "和平区", "锦江区", "滨湖区", "思明区", "龙华区",
)
CITIES = ("郑州市", "洛阳市", "开封市", "全省", "全市", "河南省")


@dataclass(frozen=True)
class Indicator:
    name: str  # as the report names it
    asked: tuple[str, ...]  # how a question may name it
    unit: str
    low: float
    high: float
    decimals: int = 0
    counted: bool = False  # a count of things built (学校, 床位): "新建…", "累计建成…"

    def value(self, rng: random.Random, scale: float = 1.0) -> float:
        v = rng.uniform(self.low, self.high) * scale
        return min(v, 99.0) if self.unit == "%" and self.high <= 100 else v

    def text(self, v: float) -> str:
        return f"{v:.{self.decimals}f}" if self.decimals else str(max(1, int(round(v))))


INDICATORS = (
    Indicator("地区生产总值", ("地区生产总值", "GDP", "经济总量"), "亿元", 300, 1500),
    Indicator("一般公共预算收入", ("一般公共预算收入", "财政收入", "公共预算收入"), "亿元", 20, 120, 1),
    Indicator("固定资产投资", ("固定资产投资", "投资总额"), "亿元", 200, 900),
    Indicator("社会消费品零售总额", ("社会消费品零售总额", "社零总额", "消费品零售总额"), "亿元", 150, 700),
    Indicator("研发经费投入强度", ("研发经费投入强度", "研发投入强度", "研发投入"), "%", 1.2, 3.5, 1),
    Indicator("城镇居民人均可支配收入", ("城镇居民人均可支配收入", "居民人均收入", "人均可支配收入"), "元",
              30000, 60000),
    Indicator("常住人口", ("常住人口", "人口"), "万人", 40, 180, 1),
    Indicator("城镇化率", ("城镇化率",), "%", 60, 98, 1),
    Indicator("建成区面积", ("建成区面积", "城区面积"), "平方公里", 30, 150, 2),
    Indicator("建成区绿化覆盖率", ("绿化覆盖率", "建成区绿化覆盖率"), "%", 35, 50, 1),
    Indicator("空气质量优良天数", ("空气优良天数", "空气质量优良天数", "好天气天数"), "天", 180, 320),
    Indicator("市场主体", ("市场主体", "企业和个体户"), "万户", 5, 40, 1),
    Indicator("高新技术企业", ("高新技术企业", "高新企业"), "家", 50, 600, counted=True),
    Indicator("重大项目", ("重大项目",), "个", 40, 900, counted=True),
    Indicator("中小学校", ("中小学校", "学校"), "所", 10, 80, counted=True),
    Indicator("学位", ("学位", "上学名额"), "个", 5000, 60000, counted=True),
    Indicator("养老床位", ("养老床位", "床位"), "张", 300, 5000, counted=True),
    Indicator("城镇新增就业", ("新增就业", "城镇新增就业"), "万人", 1, 8, 1),
    Indicator("游客接待量", ("游客", "游客接待量"), "万人次", 200, 3000),
    Indicator("棚户区改造", ("棚户区改造", "棚改"), "户", 2000, 40000, counted=True),
    Indicator("口袋公园", ("口袋公园", "公园"), "个", 10, 120, counted=True),
    Indicator("道路", ("道路", "新修道路"), "公里", 20, 300, 1, counted=True),
)

ACTUAL_SENTENCES = (
    "{y}年,{p}{name}达到{v}{u},是{y0}年的{r}倍",
    "{y}年,{p}{name}完成{v}{u},比上年增长{g}%",
    "截至{y}年底,{p}{name}达到{v}{u}",
    "“十三五”期间,{p}{name}年均增长{g}%,{y}年达到{v}{u}",
    "过去五年,{p}{name}由{y0}年的{v0}{u}增加到{y}年的{v}{u}",
)
ACTUAL_COUNTED = (
    "五年来,{p}累计建成{name}{v}{u}",
    "过去五年,{p}新增{name}{v}{u}",
    "截至{y}年底,{p}共有{name}{v}{u}",
    "{y}年,{p}新建{name}{v}{u},全部投入使用",
)
TARGET_SENTENCES = (
    "到{y2}年,{name}突破{v}{u},年均增长{g}%以上",
    "力争到{y2}年,{p}{name}达到{v}{u}",
    "今后五年,{name}年均增长{g}%左右,{y2}年达到{v}{u}",
    "“十四五”末,{p}{name}确保达到{v}{u}以上",
    "到{y2}年,{p}{name}力争达到{v}{u}",
)
TARGET_COUNTED = (
    "今后五年,{p}将新建{name}{v}{u}",
    "未来五年,计划新增{name}{v}{u}",
    "到{y2}年,{p}{name}累计达到{v}{u}",
    "五年内引进{v}{u}以上{name}",
)
ACTUAL_QUESTIONS = (
    "{y}年{p}{asked}是多少?", "{p}{asked}达到了多少?", "{p}过去五年{asked}完成了多少?", "{p}现在{asked}有多少?",
    "{y}年的时候{p}{asked}多少来着?", "这几年{p}{asked}到了多少?", "{p}{asked}实际达到多少?",
)
TARGET_QUESTIONS = (
    "{p}{asked}的目标是多少?", "到{y2}年{p}{asked}要达到多少?", "{p}未来五年{asked}计划是多少?",
    "{p}今后{asked}打算达到多少?", "{p}{asked}规划目标是多少?", "到{y2}年{p}的{asked}能到多少?",
    "{p}接下来五年{asked}要搞到多少?",
)
FOLLOW_TO_TARGET = ("那目标呢?", "那规划呢?", "到{y2}年呢?", "今后五年呢?", "那未来的计划呢?")
FOLLOW_TO_ACTUAL = ("那{y}年呢?", "那现在呢?", "过去五年呢?", "那实际完成了多少?", "之前达到多少了?")
FOLLOW_OTHER = ("那{asked}呢?", "{asked}呢?", "那{asked}又是多少?")
FOLLOW_PLACE = ("那{p}呢?", "{p}呢?")


@dataclass(frozen=True)
class Fact:
    indicator: Indicator
    side: str  # actual | target
    place: str  # the place the sentence names ("" when implicit, as reports leave their own district)
    value: str
    sentence: str


class Generator:
    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)

    def fact(self, ind: Indicator, side: str, place: str, y: int, y2: int) -> Fact:
        rng = self.rng
        raw = ind.value(rng, 1.0 if side == "actual" else rng.uniform(1.1, 1.8))
        v = ind.text(raw)
        templates = (ACTUAL_COUNTED if ind.counted else ACTUAL_SENTENCES) if side == "actual" else (
            TARGET_COUNTED if ind.counted else TARGET_SENTENCES)
        fill = {"y": y, "y0": y - 5, "y2": y2, "p": place, "name": ind.name, "v": v, "u": ind.unit,
                "v0": ind.text(raw * rng.uniform(0.4, 0.9)), "r": f"{rng.uniform(1.1, 3.0):.2f}",
                "g": f"{rng.uniform(2, 12):.1f}"}
        sentence = rng.choice(templates).format(**fill)
        if place and place not in sentence:
            sentence = place + sentence
        return Fact(ind, side, place, v, sentence)

    def example(self, n: int) -> Example:
        rng = self.rng
        y = rng.choice((2019, 2020, 2020, 2021))
        y2 = y + 5
        home = rng.choice(PLACES)
        named = rng.random() < 0.4  # a report names its own place in some sentences and leaves it out of others
        inds = rng.sample(INDICATORS, 4)
        asked_ind = inds[0]
        facts = []
        for ind in inds:
            for side in ("actual", "target"):
                if rng.random() < 0.55 or ind is asked_ind:
                    facts.append(self.fact(ind, side, home if named and rng.random() < 0.5 else "", y, y2))
        shape = rng.choices(("plain", "other_side", "other_indicator", "other_place", "follow_side", "follow_other",
                             "switch", "follow_place"), (30, 16, 12, 8, 12, 10, 7, 5))[0]
        side = rng.choice(("actual", "target"))
        if shape == "other_side":  # only the other side of the asked indicator is given
            facts = [f for f in facts if not (f.indicator is asked_ind and f.side == side)]
        elif shape == "other_indicator":  # the asked indicator is not there at all
            facts = [f for f in facts if f.indicator is not asked_ind]
        elif shape == "other_place":  # the asked indicator is given for another place only, which it names
            other = rng.choice([p for p in CITIES + PLACES if p != home])
            facts = [self.fact(f.indicator, f.side, other, y, y2) if f.indicator is asked_ind else f for f in facts]
        if not facts:
            facts = [self.fact(inds[1], "actual", "", y, y2)]
        rng.shuffle(facts)
        fill = {"p": home if rng.random() < 0.8 else "", "y": y, "y2": y2, "asked": rng.choice(asked_ind.asked)}
        question, previous, want_ind, want_side = self._question(shape, side, asked_ind, inds, fill, home)
        context, spans = self._context(facts, home, rng)
        answer, start = "", -1
        if want_ind is not None:
            for f, (a, _) in zip(facts, spans, strict=True):
                if f.indicator is want_ind and f.side == want_side and (not f.place or f.place == home):
                    at = f.sentence.find(f.value + f.indicator.unit)
                    answer, start = f.value + f.indicator.unit, a + at
                    break
        from assistant.reader import question_side

        return Example(f"contrast:{n}:{shape}", "contrasts", "train" if n % 10 else "val", "contrast",
                       question_side(question, previous), context, answer, start)

    def _question(self, shape: str, side: str, asked: Indicator, inds: list[Indicator], fill: dict, home: str):
        rng = self.rng
        ask = lambda s, f=fill: rng.choice(ACTUAL_QUESTIONS if s == "actual" else TARGET_QUESTIONS).format(**f)  # noqa: E731
        if shape == "follow_side":  # the previous turn asked the other side; 「那目标呢?」 asks this one
            before = ask("target" if side == "actual" else "actual")
            follow = rng.choice(FOLLOW_TO_TARGET if side == "target" else FOLLOW_TO_ACTUAL).format(**fill)
            return follow, before, asked, side
        if shape == "follow_other":  # the previous turn asked another indicator on the same side
            first = rng.choice([i for i in inds if i is not asked])
            before = ask(side, fill | {"asked": rng.choice(first.asked)})
            return rng.choice(FOLLOW_OTHER).format(**fill), before, asked, side
        if shape == "switch":  # a complete new question after one on another indicator
            first = rng.choice([i for i in inds if i is not asked])
            before = ask(rng.choice(("actual", "target")), fill | {"asked": rng.choice(first.asked)})
            return ask(side), before, asked, side
        if shape == "follow_place":  # 「那金水区呢?」 after a question on this place: the window has only this place
            before = ask(side)
            other = rng.choice([p for p in PLACES if p != home])
            return rng.choice(FOLLOW_PLACE).format(p=other), before, None, side
        return ask(side), None, asked, side

    @staticmethod
    def _context(facts: list[Fact], home: str, rng: random.Random) -> tuple[str, list[tuple[int, int]]]:
        heading = rng.choice((f"【{home}发展报告】", f"【{home}|具体目标】", f"【{home}|五年成就】", ""))
        parts, spans, cursor = [], [], len(heading) + (1 if heading else 0)
        for f in facts:
            text = f.sentence + rng.choice(("。", ";", "。"))
            parts.append(text)
            spans.append((cursor, cursor + len(text)))
            cursor += len(text) + 1
        return (heading + " " if heading else "") + " ".join(parts), spans


def generate(count: int, seed: int = 0) -> list[Example]:
    gen = Generator(seed)
    return [gen.example(n) for n in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.contrasts", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for ex in generate(args.count, args.seed):
            f.write(json.dumps(asdict(ex), ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
