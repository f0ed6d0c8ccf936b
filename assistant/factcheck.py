"""Fact-checking a claim against the reports, without an LLM.

Find the sentence that talks about the same thing as the claim (its terms,
values aside), then compare what the claim asserts: amounts with units,
percentages, dates, ordinals, and names.  Verdicts: supported, contradicted
(with what the sources say instead), or not_found.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

import jieba

from assistant import texts
from assistant.evidence import Candidate, Quote, candidates, coverage, missing_terms, term_present
from assistant.question import Question
from assistant.termstats import TermStats
from assistant.values import Value, parse_values, same
from vectorstore.records import ScoredChunk

_SCOPE_YEAR = re.compile(r"(到|至|截至|截止)$")
NAME_TOPIC = 0.7  # a claim must match a passage this well before a differing name counts as an error


@dataclass
class CheckResult:
    verdict: str  # "supported" | "contradicted" | "not_found"
    quotes: list[Quote] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    reason: str = ""


@dataclass(frozen=True)
class _Match:
    candidate: Candidate
    topic: float  # coverage of the claim's terms
    matched: int  # claim values found in the sentence or its chunk


def _aligned(claim: str, value: Value, sentence: str, options: list[Value]) -> Value:
    """The evidence value standing where the claim's value stands (same words before it)."""
    before = claim[max(0, value.start - 6) : value.start]
    best, best_len = options[0], -1
    for option in options:
        context = sentence[max(0, option.start - 6) : option.start]
        common = 0
        while common < min(len(before), len(context)) and before[-1 - common] == context[-1 - common]:
            common += 1
        if common > best_len:
            best, best_len = option, common
    return best


class FactChecker:
    def __init__(self, min_topic: float) -> None:
        self.min_topic = min_topic

    def check(self, claim: Question, evidence: list[ScoredChunk], stats: TermStats) -> CheckResult:
        missing = missing_terms(claim, stats)
        known = replace(claim, terms=[t for t in claim.terms if stats.known(t)])
        values = parse_values(claim.text)
        best = self._best(known, values, evidence, stats)
        if best is None or best.topic < self.min_topic:
            return CheckResult("not_found", reason="no passage is about the same thing")
        cand = best.candidate
        if missing:  # an unknown name where the passage has a rival (淮河路街道 vs 福华街街道) is a wrong name
            rivals = self._name_differences(claim, cand, stats)
            if rivals and best.topic >= NAME_TOPIC:
                return CheckResult("contradicted", [Quote(cand.chunk, cand.span.start, cand.span.end, cand.text)], rivals)
            return CheckResult("not_found", reason=f"not in the documents: {', '.join(missing)}")
        quote = Quote(cand.chunk, cand.span.start, cand.span.end, cand.text)
        context_values = parse_values(cand.chunk.text)
        sentence_values = parse_values(cand.text)
        differences, matched = [], 0
        for value in values:
            if any(same(value, v) for v in context_values):
                matched += 1
                continue
            if value.kind == "year":
                if _SCOPE_YEAR.search(claim.text[: value.start]):
                    return CheckResult("not_found", [quote], reason=f"the reports say nothing about {value.text}")
                continue
            options = [v for v in sentence_values if v.kind == value.kind]
            if options:
                differences.append(texts.CHECK_DIFFERS.format(value=_aligned(claim.text, value, cand.text, options).text))
        differences += self._name_differences(claim, cand, stats)
        if differences:
            return CheckResult("contradicted", [quote], differences)
        if values and not matched:
            return CheckResult("not_found", [quote], reason="the passage states none of the claim's values")
        return CheckResult("supported", [quote])

    def _best(self, claim: Question, values: list[Value], evidence: list[ScoredChunk], stats: TermStats) -> _Match | None:
        best: tuple[float, _Match] | None = None
        for cand in candidates(evidence):
            topic = 0.5 * coverage(claim, cand.text, stats) + 0.5 * coverage(claim, f"{cand.chunk.section}\n{cand.chunk.text}", stats)
            found = parse_values(cand.chunk.text)
            matched = sum(1 for v in values if any(same(v, f) for f in found))
            kinds = {v.kind for v in parse_values(cand.text)}
            comparable = sum(1 for v in values if v.kind in kinds)
            score = topic + 0.15 * matched + 0.05 * comparable + 0.05 * cand.retrieval
            if best is None or score > best[0]:
                best = (score, _Match(cand, topic, matched))
        return best[1] if best else None

    def _name_differences(self, claim: Question, cand: Candidate, stats: TermStats) -> list[str]:
        """A name in the claim where the passage has another of the same kind (常庄水库 vs 郭家咀水库)."""
        context = f"{cand.chunk.section}\n{cand.chunk.text}"
        out = []
        for term in claim.terms:
            if term.weight < 1.0 or term_present(term, context) or len(term.surface) < 2:
                continue
            at = claim.text.find(term.surface)
            following = claim.text[at + len(term.surface) : at + len(term.surface) + 2] if at >= 0 else ""
            rivals: set[str] = set()
            for suffix in {term.surface[-2:], following} - {""}:
                found = {m.group(0) for m in re.finditer(rf"[\u4e00-\u9fff]{{1,4}}{re.escape(suffix)}", context) if _whole_words(context, m.start(), m.end())}
                rivals |= {r for r in found if term.surface not in r and len(r) >= 3 and not r.startswith(suffix)}
            if rivals:
                out.append(texts.CHECK_DIFFERS.format(value=sorted(rivals, key=lambda r: context.index(r))[0]))
                continue
            aligned = self._after_same_words(claim.text, term.surface, cand.text)
            if aligned:
                out.append(texts.CHECK_DIFFERS.format(value=aligned))
        return out

    @staticmethod
    def _after_same_words(claim: str, name: str, sentence: str) -> str | None:
        """「区委书记张振威走进…」 vs 「区委书记陈红民走进…」: what follows the same 3–4 words."""
        i = claim.find(name)
        for width in (4, 3):
            before = claim[max(0, i - width) : i]
            if len(before) == width and before in sentence:
                j = sentence.index(before) + width
                other = sentence[j : j + len(name)]
                if other and other != name and re.fullmatch(r"[\u4e00-\u9fff]+", other) and _whole_words(sentence, j, j + len(other)):
                    return other
        return None


def _whole_words(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] begins and ends on jieba word boundaries (陈红民, not 设现代化国际)."""
    bounds = _word_bounds(text)
    return start in bounds and end in bounds


@lru_cache(maxsize=256)
def _word_bounds(text: str) -> frozenset[int]:
    """Segmenting a passage once serves every name checked against it."""
    return frozenset({0} | {end for _, _, end in jieba.tokenize(text)})
