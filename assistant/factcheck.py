"""Fact-checking a claim against the reports, without an LLM.

Find the sentence that talks about the same thing as the claim (its terms,
values aside), then compare what the claim asserts: amounts with units,
percentages, dates, ordinals, and names.  Verdicts: supported, contradicted
(with what the sources say instead), conflicting (one source supports the claim,
another denies it), or not_found.

Every document that speaks to the claim's figures is read, as the answerer reads them: each gives its
view (supports, or states another amount), the views are listed by the standing of their documents
(official first, :data:`assistant.conflicts.ORIGIN_RANK`), and when they disagree among themselves the
result says so (``conflict``).  An uploaded bulletin can add a view; it never decides alone while an
official report says otherwise.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from assistant import texts
from assistant.conflicts import SCOPE_KINDS, disagree, same_scope, source_label, standing
from assistant.evidence import candidates, coverage, term_present
from assistant.response import Verdict
from assistant.termstats import TermStats
from assistant.types import MIN_TERM_CHARS, WORD_WEIGHT, AnalysedQuestion, Candidate, CheckResult, Quote, Value
from assistant.values import parse_values, same
from vectorstore.records import Origin, ScoredChunk
from zhtext.asking import ASK_AMOUNT, ASK_FOR_KIND, ASK_ORDINAL
from zhtext.dates import SCOPE_BEFORE_YEAR
from zhtext.numerals import VALUE
from zhtext.words import COMMON, Segmenter

NAME_TOPIC = 0.7  # a claim must match a passage this well before a differing name (or figure) counts against it
# How the sentence to check against is picked: the claim's terms it holds, then its values, then retrieval.
MATCHED_VALUE_BONUS = 0.15  # per claim value the sentence's passage states
COMPARABLE_VALUE_BONUS = 0.05  # per claim value the sentence states something of the same kind for
RETRIEVAL_SHARE = 0.05
SENTENCE_SHARE = 0.5  # a sentence's topic: this share its own coverage of the claim, the rest its passage's
ALIGN_CHARS = 6  # the characters before a value that tell which value of the passage stands where it stands
SUFFIX_CHARS = 2  # a name's rivals end like it: its last characters, or the characters that follow it
RIVAL_HEAD_CHARS = 4  # …after at most this many characters of their own
RIVAL_MIN_CHARS = 3  # a rival name has at least this many characters
SAME_WORDS_WIDTHS = (4, 3)  # characters before a name that must match for what follows them to be its rival
MAX_SOURCES = 3  # documents quoted for one claim (one passage each), official first
BOUNDS_MEMO = 256  # passages whose word boundaries are remembered per dictionary


def _contradicted(quote: Quote, said: list[str]) -> CheckResult:
    return CheckResult("contradicted", [quote], [texts.CHECK_DIFFERS.format(value=v) for v in said], said=said)


@dataclass(frozen=True)
class _Match:
    candidate: Candidate
    topic: float  # coverage of the claim's terms
    matched: int  # claim values found in the sentence or its chunk
    score: float  # how well the sentence serves to check the claim


def _aligned(claim: str, value: Value, sentence: str, options: list[Value]) -> Value:
    """The evidence value standing where the claim's value stands (same words before it)."""
    before = claim[max(0, value.start - ALIGN_CHARS) : value.start]
    best, best_len = options[0], -1
    for option in options:
        context = sentence[max(0, option.start - ALIGN_CHARS) : option.start]
        common = 0
        while common < min(len(before), len(context)) and before[-1 - common] == context[-1 - common]:
            common += 1
        if common > best_len:
            best, best_len = option, common
    return best


def _asked(value: Value) -> str:
    if value.kind == "ordinal":
        return ASK_ORDINAL + value.amount[1]
    unit = re.sub(rf"^[\d.]+|^[{VALUE}]+", "", value.text).lstrip("多余近").replace("%", "")
    return ASK_FOR_KIND.get(value.kind) or ASK_AMOUNT + unit


def question_form(claim: str) -> str:
    """The question a claim answers, its values asked for: 「…床位为317张」 → 「…床位为多少张」.

    Whether the documents answer that question (the answer model's confidence) is whether they
    say anything about the claim at all.  A year next to other values is their scope and stays;
    names stay too (a wrong name is found through its rivals)."""
    values = parse_values(claim)
    asked = [v for v in values if v.kind != "year"] or values
    for value in sorted(asked, key=lambda v: -v.start):
        claim = claim[: value.start] + _asked(value) + claim[value.start + len(value.text) :]
    return claim


class FactChecker:
    def check(self, claim: AnalysedQuestion, evidence: list[ScoredChunk], stats: TermStats, answerable: bool,
              segmenter: Segmenter = COMMON, origins: Mapping[str, Origin] | None = None) -> CheckResult:
        """``answerable``: whether the answer model finds the claim's question form (:func:`question_form`) answered;
        ``segmenter``: the dictionary of the index (where names start and end); ``origins``: doc id → where the
        document came from (its standing: official first)."""
        known = replace(claim, terms=[t for t in claim.terms if stats.known(t)])
        values = parse_values(claim.text)
        matches = self._matches(known, values, evidence, stats)
        if not matches:
            return CheckResult("not_found", reason="no passage was retrieved")
        best = max(matches, key=lambda m: m.score)
        result = self._verdict(claim, values, best, stats, answerable, segmenter)
        if result.verdict not in ("supported", "contradicted"):
            return result
        views = [result] + self._other_views(claim, values, matches, best, stats, answerable, segmenter)
        return _combined(views, origins or {})

    def _other_views(self, claim: AnalysedQuestion, values: list[Value], matches: list[_Match], best: _Match,
                     stats: TermStats, answerable: bool, segmenter: Segmenter) -> list[CheckResult]:
        """What each other document says about the claim's figures: its best passage about them (the claim's words,
        the same year and the same kind of statement, an amount of a kind the claim states), checked as the best
        passage was.  A claim without figures is decided by its best passage alone."""
        figures = {v.measure for v in values if v.kind not in SCOPE_KINDS}
        if not figures:
            return []
        heard = {best.candidate.chunk.doc_id}
        views = []
        for match in sorted(matches, key=lambda m: -m.score):
            cand = match.candidate
            if (
                cand.chunk.doc_id in heard
                or match.topic < NAME_TOPIC
                or not same_scope(claim.text, cand.text)
                or not figures & {v.measure for v in parse_values(cand.text)}
            ):
                continue
            view = self._verdict(claim, values, match, stats, answerable, segmenter)
            if view.verdict in ("supported", "contradicted"):
                heard.add(cand.chunk.doc_id)
                views.append(view)
        return views

    def _verdict(self, claim: AnalysedQuestion, values: list[Value], best: _Match, stats: TermStats, answerable: bool,
                 segmenter: Segmenter) -> CheckResult:
        cand = best.candidate
        unknown = [t for t in claim.terms if not t.carried and len(t.surface) >= MIN_TERM_CHARS and not stats.known(t)]
        if unknown:  # an unknown name where the passage has a rival (淮河路街道 vs 福华街街道) is a wrong name
            rivals = self._name_differences(claim, cand, stats, segmenter)
            if rivals and best.topic >= NAME_TOPIC:
                return _contradicted(Quote(cand.chunk, cand.span.start, cand.span.end, cand.text), rivals)
        if not answerable:
            return CheckResult("not_found", reason="the documents do not answer what the claim asserts")
        if coverage(claim, f"{cand.chunk.section}\n{cand.chunk.text}", stats) < NAME_TOPIC:
            # The passage must hold the claim's own words (国际机场, 一般公共预算收入), not just its topic:
            # a figure it gives for something else neither supports nor contradicts the claim.
            return CheckResult("not_found", reason="no passage states what the claim is about")
        quote = Quote(cand.chunk, cand.span.start, cand.span.end, cand.text)
        context_values = parse_values(cand.chunk.text)
        sentence_values = parse_values(cand.text)
        said, matched = [], 0
        for value in values:
            if any(same(value, v) for v in context_values):
                matched += 1
                continue
            if value.kind == "year":
                if SCOPE_BEFORE_YEAR.search(claim.text[: value.start]):
                    return CheckResult("not_found", [quote], reason=f"the reports say nothing about {value.text}")
                continue
            options = [v for v in sentence_values if v.measure == value.measure]
            if options:
                said.append(_aligned(claim.text, value, cand.text, options).text)
        said += self._name_differences(claim, cand, stats, segmenter)
        if said:
            return _contradicted(quote, said)
        if values and not matched:
            return CheckResult("not_found", [quote], reason="the passage states none of the claim's values")
        return CheckResult("supported", [quote])

    @staticmethod
    def _matches(
        claim: AnalysedQuestion, values: list[Value], evidence: list[ScoredChunk], stats: TermStats
    ) -> list[_Match]:
        out = []
        for cand in candidates(evidence):
            topic = SENTENCE_SHARE * coverage(claim, cand.text, stats) + (1 - SENTENCE_SHARE) * coverage(
                claim, f"{cand.chunk.section}\n{cand.chunk.text}", stats
            )
            found = parse_values(cand.chunk.text)
            matched = sum(1 for v in values if any(same(v, f) for f in found))
            kinds = {v.measure for v in parse_values(cand.text)}
            comparable = sum(1 for v in values if v.measure in kinds)
            score = (
                topic
                + MATCHED_VALUE_BONUS * matched
                + COMPARABLE_VALUE_BONUS * comparable
                + RETRIEVAL_SHARE * cand.retrieval
            )
            out.append(_Match(cand, topic, matched, score))
        return out

    def _name_differences(
        self, claim: AnalysedQuestion, cand: Candidate, stats: TermStats, segmenter: Segmenter
    ) -> list[str]:
        """Names the passage has where the claim has another of the same kind (常庄水库 vs 郭家咀水库)."""
        context = f"{cand.chunk.section}\n{cand.chunk.text}"
        out = []
        for term in claim.terms:
            if term.weight < WORD_WEIGHT or term_present(term, context) or len(term.surface) < MIN_TERM_CHARS:
                continue
            at = claim.text.find(term.surface)
            following = claim.text[at + len(term.surface) : at + len(term.surface) + SUFFIX_CHARS] if at >= 0 else ""
            rivals: set[str] = set()
            for suffix in {term.surface[-SUFFIX_CHARS:], following} - {""}:
                found = {
                    m.group(0)
                    for m in re.finditer(rf"[\u4e00-\u9fff]{{1,{RIVAL_HEAD_CHARS}}}{re.escape(suffix)}", context)
                    if _whole_words(context, m.start(), m.end(), segmenter)
                }
                rivals |= {
                    r for r in found
                    if term.surface not in r and len(r) >= RIVAL_MIN_CHARS and not r.startswith(suffix)
                }
            if rivals:
                out.append(sorted(rivals, key=lambda r: context.index(r))[0])
                continue
            aligned = self._after_same_words(claim.text, term.surface, cand.text, segmenter)
            if aligned:
                out.append(aligned)
        return out

    @staticmethod
    def _after_same_words(claim: str, name: str, sentence: str, segmenter: Segmenter) -> str | None:
        """「区委书记张振威走进…」 vs 「区委书记陈红民走进…」: what follows the same 3–4 words."""
        i = claim.find(name)
        for width in SAME_WORDS_WIDTHS:
            before = claim[max(0, i - width) : i]
            if len(before) == width and before in sentence:
                j = sentence.index(before) + width
                other = sentence[j : j + len(name)]
                if (
                    other
                    and other != name
                    and re.fullmatch(r"[\u4e00-\u9fff]+", other)
                    and _whole_words(sentence, j, j + len(other), segmenter)
                ):
                    return other
        return None


def _combined(views: list[CheckResult], origins: Mapping[str, Origin]) -> CheckResult:
    """One result from the views of several documents (the best passage's first): listed by standing, official
    first; ``conflict`` when they disagree: one supports the claim and another denies it (``conflicting``), or they
    deny it with different amounts (``contradicted``, each source's amount named)."""
    views = sorted(views, key=lambda v: standing(v.quotes[0].chunk.doc_id, origins))  # stable: best first
    quotes = [v.quotes[0] for v in views][:MAX_SOURCES]
    denying = [v for v in views if v.verdict == "contradicted"]
    supported = len(denying) < len(views)
    disputed = (supported and bool(denying)) or any(
        disagree(a.quotes[0].text, b.quotes[0].text) for i, a in enumerate(denying) for b in denying[i + 1 :]
    )
    if not disputed:
        return replace(views[0], quotes=quotes)
    differences = [
        texts.CHECK_SOURCE_SAYS.format(source=_label(v.quotes[0], origins), value=value)
        for v in denying
        for value in v.said
    ]
    verdict: Verdict = "conflicting" if supported else "contradicted"
    return CheckResult(verdict, quotes, list(dict.fromkeys(differences)), conflict=True)


def _label(quote: Quote, origins: Mapping[str, Origin]) -> str:
    return source_label(origins.get(quote.chunk.doc_id, "unknown"), quote.chunk.source)


def _whole_words(text: str, start: int, end: int, segmenter: Segmenter) -> bool:
    """Whether text[start:end] begins and ends on jieba word boundaries (陈红民, not 设现代化国际)."""
    bounds = _word_bounds(text, segmenter)
    return start in bounds and end in bounds


def _word_bounds(text: str, segmenter: Segmenter) -> frozenset[int]:
    """Segmenting a passage once serves every name checked against it."""
    return segmenter.memo(Segmenter.boundaries, BOUNDS_MEMO)(text)
