"""Parts of speech: jieba's tags as the program groups them (names, content words, words of grammar), in one place.

jieba's tags: n noun, nr person, ns place, nt organisation, nz other proper noun, nrt and nrfg the
dictionary's transliterated and other person names, v verb, vn verbal noun, a adjective, l set phrase, i idiom,
j abbreviation, m numeral, q measure word, r pronoun, p preposition, c conjunction, d adverb, f direction,
u… particles, y modal particle, e interjection, o onomatopoeia, eng Latin letters, x not a word (symbols).
The sets differ on purpose; each is named for what it is used to find.
"""
from __future__ import annotations

NOUN_TAG = "n"
PLACE_TAG = "ns"  # a dictionary place name (河南, 郑州)
OTHER_PROPER_TAG = "nz"
LATIN_TAG = "eng"
NON_WORD_TAG = "x"
NOUN_PREFIX = "n"  # every noun tag starts so (n, nr, ns, nz, nrt …)
NUMERAL_PREFIX = "m"  # m, mq
PARTICLE_PREFIX = "u"  # uj, ul, uz, ug, uv, ud …

# Proper nouns (person, place, organisation, other): what a sentence must not name without its source saying it.
PROPER_NOUN_TAGS = frozenset({"nr", "ns", "nt", "nz"})
# A dictionary word tagged so names someone or something: the proper nouns and the dictionary's other name tags.
NAME_TAGS = PROPER_NOUN_TAGS | {"nrt", "nrfg"}
# A question word weighs as a name when it is a proper noun or written in Latin letters (GDP).
NAME_WEIGHT_TAGS = PROPER_NOUN_TAGS | {LATIN_TAG}
# A word only jieba's HMM finds is kept as a (guessed) term of a question when it is a name or a noun.
GUESSED_TERM_TAGS = PROPER_NOUN_TAGS | {NOUN_TAG}
# Weigh like nouns in a question: verbal nouns, set phrases, abbreviations, idioms.
NOUN_LIKE_TAGS = frozenset({"vn", "l", "j", "i"})
# Never a term of a question: particles, modal particles, interjections, onomatopoeia, prepositions, conjunctions,
# pronouns, non-words, directions, measure words and adverbs (and every other u… tag: PARTICLE_PREFIX).
FUNCTION_TAGS = frozenset({"uj", "ul", "uz", "ug", "y", "e", "o", "p", "c", "r", "x", "f", "q", "d"})
CORPUS_TERM_TAG = OTHER_PROPER_TAG  # the part of speech a corpus term (「六个区」) gets in an index's dictionary
