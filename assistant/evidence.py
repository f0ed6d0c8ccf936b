"""Evidence at sentence level: candidates from retrieved chunks, and how well each covers a question."""
from __future__ import annotations

import dataclasses
import re

from assistant.question import NOT_TERMS
from assistant.termstats import TermStats
from assistant.types import MIN_TERM_CHARS, WORD_WEIGHT, AnalysedQuestion, Candidate, Term
from vectorstore.records import ScoredChunk
from zhtext.asking import ASKING
from zhtext.chars import pairs as char_pairs
from zhtext.dates import DATE_OR_PERIOD
from zhtext.numerals import DIGITS, HUNDRED, LARGE, LIANG, TEN, THOUSAND
from zhtext.sentences import Span, answer_units
from zhtext.units import UNIT_CLASSES, UnitClass

# Chinese numerals: one digit, or a positional form (十一, 二十, 三百); "二七" is a name, not a number.
_NUMBER_UNIT = re.compile(
    rf"(\d+(?:\.\d+)?|[{DIGITS}{LIANG}]?[{TEN}{HUNDRED}{THOUSAND}][{DIGITS}]?"
    rf"|(?<![{DIGITS}{LIANG}{TEN}])[{DIGITS}{LIANG}](?![{DIGITS}{LIANG}]))"
    r"(多|余|近)?(万|亿)?(多|余)?([^\d\s,\uff0c。;\uff1b、]{1,4})"
)
_CLAUSE_END = re.compile(r"[,\uff0c;\uff1b:\uff1a—]")


def candidates(evidence: list[ScoredChunk]) -> list[Candidate]:
    """Every sentence of every retrieved chunk, with offsets into the original file.

    A passage flagged at ingest as addressed to a model (忽略以上指令…, ``Chunk.suspicious``) is
    never a candidate: it may be retrieved and listed, but never quoted as an answer."""
    out = []
    for rank, scored in enumerate(evidence):
        chunk = scored.chunk
        if chunk.suspicious:
            continue
        for s in answer_units(chunk.text, whole=chunk.kind == "heading"):
            out.append(
                Candidate(
                    chunk,
                    rank,
                    scored.score,
                    Span(chunk.start + s.start, chunk.start + s.end),
                    chunk.text[s.start : s.end],
                )
            )
    return out


def unknown_terms(question: AnalysedQuestion, stats: TermStats) -> list[Term]:
    """The question's own words of two or more characters that no indexed passage contains."""
    return [
        t
        for t in question.terms
        if not t.carried and not t.guessed and len(t.surface) >= MIN_TERM_CHARS and not stats.known(t)
    ]


def term_present(term: Term, text: str) -> bool:
    low = text.lower()
    return any(alt.lower() in low for alt in term.alternatives)


CARRIED_SHARE = 0.2  # terms from earlier turns only help tell candidates apart


def _share(terms: list[Term], text: str, stats: TermStats) -> float | None:
    total = got = 0.0
    for term in terms:
        w = term.weight * stats.idf(term.alternatives)
        total += w
        got += w if term_present(term, text) else 0.0
    return got / total if total else None


# retrieved text this close to a chunk, in its source file, is read with it (an article, a report's section)
NEAR_CHARS = 1000


def surroundings(evidence: list[ScoredChunk]) -> dict[str, str]:
    """For each retrieved chunk, the retrieved text of its source near it, so that a sentence saying 他 or 本鱼
    is read with the subject its article names; far parts of a long report are other subjects."""
    out = {}
    for scored in evidence:
        c = scored.chunk
        near = [
            o.chunk
            for o in evidence
            if o.chunk.source == c.source
            and o.chunk.start - NEAR_CHARS <= c.end
            and c.start <= o.chunk.end + NEAR_CHARS
        ]
        out[c.chunk_id] = "\n".join(f"{n.section}\n{n.text}" for n in near)
    return out


def _own_terms(question: AnalysedQuestion, stats: TermStats) -> list[Term]:
    # Verbs and adverbs the corpus never uses (出事, 颁发) say nothing either way; unknown nouns (区长) do.
    return [
        t for t in question.terms if not t.carried and not t.guessed and (t.weight >= WORD_WEIGHT or stats.known(t))
    ]


# A term in at most this share of the corpus's chunks names something (楼曾瑞, 雀鲷); below 100 chunks
# no term is rare enough to tell, and a sentence holds only its own terms.
NAME_DF_SHARE = 0.01


def names_around(question: AnalysedQuestion, stats: TermStats, around: str) -> list[Term]:
    """The question's names (rare terms) that the retrieved text around a sentence holds."""
    return [
        t
        for t in _own_terms(question, stats)
        if stats.df(t.alternatives) <= NAME_DF_SHARE * stats.n and term_present(t, around)
    ]


def anchored(question: AnalysedQuestion, text: str, stats: TermStats, names: list[Term]) -> float:
    """Like ``coverage``, but the ``names`` found around the sentence count as held by it.

    「楼曾瑞毕业于哪个大学?」: 「他…毕业于香港中文大学」 names him only through his article,
    and beats the sentences that name him but say nothing of 毕业 or 大学."""
    total = got = 0.0
    for term in _own_terms(question, stats):
        w = term.weight * stats.idf(term.alternatives)
        total += w
        if term in names or term_present(term, text):
            got += w
    return got / total if total else 0.0


def coverage(question: AnalysedQuestion, text: str, stats: TermStats) -> float:
    """Share of the question's key terms (weighted by part of speech and rarity) found in ``text``."""
    own = _share(_own_terms(question, stats), text, stats)
    carried = _share([t for t in question.terms if t.carried], text, stats)
    if own is None:
        return carried or 0.0
    return own if carried is None else (1 - CARRIED_SHARE) * own + CARRIED_SHARE * carried


_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_WORD_RUN = re.compile(r"[\u4e00-\u9fff\w]{2,}")


def _pairs(text: str, run: re.Pattern) -> list[str]:
    """Overlapping character pairs of every run the pattern finds (二七区 → 二七, 七区)."""
    return [p for r in run.findall(text) for p in char_pairs(r)]
NAME_MAX_SHARE = 0.05  # a character pair in more of the corpus than this is wording, not a name
COMPOUND_MIN_CHARS = 4  # an unknown word this long may be a compound of known words (合作开发 → 合作 开发)
MISCUT_MIN_CHARS = 3  # an unknown word this long may be a name with a neighbour's character glued on (侯景封)


def _known_parts(word: str, stats: TermStats) -> list[str] | None:
    """``word`` cut into pieces of two characters or more that the corpus knows (合作开发 → 合作 开发), or None."""
    best: dict[int, list[str]] = {0: []}
    for end in range(2, len(word) + 1):
        for start in range(0, end - 1):  # longest piece first
            piece = word[start:end]
            if start in best and len(piece) < len(word) and stats.df((piece,)) > 0:
                best[end] = best[start] + [piece]
                break
    return best.get(len(word))


def _name_pairs(question: AnalysedQuestion, stats: TermStats, terms: list[Term]) -> list[Term]:
    """Rare character pairs of the words the segmenter missed (硕塞卒于哪一年 → 硕塞)."""
    text = ASKING.sub(" ", question.text)
    for word in sorted({alt for t in terms for alt in t.alternatives} | NOT_TERMS, key=len, reverse=True):
        if len(word) >= MIN_TERM_CHARS:
            text = text.replace(word, " ")
    return _rare_pairs(_pairs(text, _RUN), stats)


def _run_pairs(question: AnalysedQuestion, stats: TermStats) -> list[Term]:
    """Rare pairs of the single characters the segmenter left between words (「祭遵小时候…」 → 祭遵)."""
    return _rare_pairs([p for r in question.name_runs for p in char_pairs(r)], stats)


def _name_like(text: str, stats: TermStats) -> bool:
    """In the corpus, but rare enough to be a name rather than wording."""
    return 0 < stats.df((text,)) <= max(1, NAME_MAX_SHARE * stats.n)


def _rare_pairs(pairs: list[str], stats: TermStats) -> list[Term]:
    return [Term(p, (p,), WORD_WEIGHT) for p in dict.fromkeys(pairs) if _name_like(p, stats)]


def _miscut_core(word: str, stats: TermStats) -> str | None:
    """A rare name the segmenter glued a neighbour's character to (侯景封 → 侯景, 上乙二醛 → 乙二醛)."""
    return next((core for core in (word[1:], word[:-1]) if _name_like(core, stats)), None)


def _unknown_word(t: Term, stats: TermStats, min_chars: int) -> bool:
    """A segmented word (not guessed by the HMM, one spelling) of at least ``min_chars`` the corpus never uses."""
    return not t.guessed and len(t.surface) >= min_chars and len(t.alternatives) == 1 and not stats.known(t)


def refine(question: AnalysedQuestion, stats: TermStats) -> AnalysedQuestion:
    """The question's terms as the corpus can match them.

    A compound the corpus never uses but whose parts it does (合作开发 → 合作 开发) becomes
    its parts; an unknown word that is a rare name plus a neighbour's character becomes the
    name (侯景封 → 侯景); a name only the HMM found (沼鹿) counts once the corpus has it; the
    rare pairs of characters the segmenter left single are added (祭遵小时候… → 祭遵), and a
    question whose words all fall away keeps its rare character pairs (硕塞卒于哪一年 → 硕塞)."""
    terms: list[Term] = []
    changed = False
    for t in question.terms:
        if t.carried or t.generic:
            terms.append(t)
        elif t.guessed and stats.known(t):
            terms.append(dataclasses.replace(t, guessed=False))
            changed = True
        elif _unknown_word(t, stats, COMPOUND_MIN_CHARS) and (parts := _known_parts(t.surface, stats)):
            terms += [Term(p, (p,), t.weight / len(parts)) for p in parts if p not in NOT_TERMS]
            changed = True
        elif _unknown_word(t, stats, MISCUT_MIN_CHARS) and (core := _miscut_core(t.surface, stats)):
            terms.append(Term(core, (core,), t.weight))
            changed = True
        else:
            terms.append(t)
    if any(not t.guessed and not t.generic for t in terms):
        pairs = [
            p for p in _run_pairs(question, stats) if not any(p.surface in alt for t in terms for alt in t.alternatives)
        ]
    else:
        pairs = _name_pairs(question, stats, terms)
    if pairs:
        terms += pairs
        changed = True
    return dataclasses.replace(question, terms=terms) if changed else question


def pair_overlap(pairs: frozenset[str], text: str) -> float:
    """Share of the question's character pairs found in ``text``."""
    return sum(1 for p in pairs if p in text) / len(pairs) if pairs else 0.0


def question_pairs(question: AnalysedQuestion) -> frozenset[str]:
    return frozenset(_pairs(ASKING.sub(" ", question.text), _WORD_RUN))


def has_unit(text: str, unit_class: UnitClass | None) -> bool:
    """Does ``text`` hold a number of the kind asked for (people, money, area, percent, count)?"""
    if unit_class is None:
        return bool(re.search(rf"\d|[{LARGE}]+[个项所张家户条名人]", text))
    if unit_class == "percent":
        return "%" in text or "百分" in text
    units = UNIT_CLASSES[unit_class]
    return any(any(u in m.group(5) for u in units) for m in _NUMBER_UNIT.finditer(text))


def has_date(text: str) -> bool:
    return bool(DATE_OR_PERIOD.search(text))


def clauses(text: str) -> list[tuple[int, int]]:
    """Clause boundaries inside one sentence, as offsets into it."""
    bounds, start = [], 0
    for m in _CLAUSE_END.finditer(text):
        bounds.append((start, m.start()))
        start = m.end()
    bounds.append((start, len(text)))
    return [(a, b) for a, b in bounds if b > a]
