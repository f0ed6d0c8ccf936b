"""Word lists: what keyword search leaves out of every text, what question analysis never takes for a term, and
the words that name the kind of answer wanted.

Two lists leave words out, for two readers, and share what they both leave out (:data:`ASKING_WORDING`):

* :data:`STOPWORDS` — BM25 (the keyword index's ``tokenize``) drops them from every passage and every query: the
  wording of questions and the words of grammar (:data:`GRAMMAR_WORDS`), which carry no evidence.  BM25
  reads no parts of speech, so it needs the words of grammar listed.
* :data:`FILLER` — question analysis (``assistant.question``) never makes them a term of the question: the
  wording of questions and words that are content in a passage but in a question only frame what is asked
  (:data:`QUESTION_FRAMING`: 报告, 数量, 今后, 多远).  BM25 keeps those: a passage that says 数量 may be the
  one asked about.  Question analysis drops words of grammar by their part of speech (``zhtext.tags``).

A question's terms have two characters at least, so the single characters of FILLER change nothing there;
they are listed with the words they belong with.  Words of one corpus (the place the bundled reports are
about) are not Chinese in general and are not here: see ``assistant/corpus_words.py``.
"""
from __future__ import annotations

# How a question is asked: question words, particles, pronouns, asking verbs, vague amounts and times.
ASKING_WORDING = frozenset(
    [
        "什么", "多少", "哪些", "哪个", "哪", "几", "几个", "怎样", "如何", "啥", "是不是", "有没有",  # asking
        "了", "呢", "吗", "吧", "啊", "呀", "嘛",  # particles
        "这", "那", "这些", "那些", "其", "它", "该", "各", "我们",  # pointing
        "请问", "一下", "告诉", "是", "有", "能", "会", "要",  # asking verbs
        "都", "还", "又", "分别", "包括", "具体", "共", "一共", "总共", "目前", "现在", "时候", "情况", "方面", "里",
    ]
)
# Words of grammar (and question words jieba tags as pronouns): BM25 drops them; question analysis drops them by
# their part of speech or their length.
GRAMMAR_WORDS = frozenset(
    [
        "的", "在", "和", "与", "及", "以及", "或", "等", "为", "把", "被", "对", "也", "就", "这个", "那个", "个",
        "之", "中", "上", "下", "着", "过", "么", "哪里", "谁", "怎么", "是否", "主要", "哪儿", "咋", "请", "我", "你",
        "你们", "他们", "它们", "关于", "通过", "进行", "可以", "能够", "将", "从", "到", "由", "向", "给", "让", "以",
        "而", "并", "则", "但", "所", "此", "每", "一个", "以来",
    ]
)
# Content words of a passage that in a question only frame what is asked: where the answer is said (报告, 文中),
# which aspect (数量, 时间, 范围), when (今后, 当时), how sure (大概, 听说), how big (多远, 多久).
QUESTION_FRAMING = frozenset(
    [
        "名字", "叫啥", "来着", "那会儿", "那阵子", "那边", "这边", "大概", "大约", "左右", "到底", "究竟", "听说",
        "据说", "哦", "哪天", "哪年", "哪一年", "啥时候", "何时", "多大", "多不多", "多么", "怎么样", "报道", "报告",
        "资料", "文中", "文章", "问题", "内容", "知道", "指的是", "指", "大家", "整个", "已经", "最早", "当时", "后来",
        "数量", "人数", "数字", "数", "变化", "范围", "场合", "部门", "位置", "地点", "时间", "时间表", "日期", "节点",
        "规划", "接下来", "往后", "今后", "以后", "将来", "未来", "打算", "进来", "出来", "起来", "搞", "弄", "拉",
        "想", "定", "按照", "按", "多长", "多高", "多重", "多远", "多久", "多宽", "多深", "多厚", "多大年纪", "目标",
        "计划", "当天", "当日", "发生", "程度", "水平", "样子", "什么样", "相当于", "相比", "比", "前", "后", "期间",
        "其中", "分别是", "各是", "多", "大", "少", "老", "新",
    ]
)
STOPWORDS = ASKING_WORDING | GRAMMAR_WORDS  # BM25 leaves these out of every passage and query
FILLER = ASKING_WORDING | QUESTION_FRAMING  # never a term of a question

# Words that name the kind of answer wanted (地址, 出生地, 特点): texts state the answer («位于…», «生于…»)
# rather than repeat the word, so they weigh little and their absence from the corpus proves nothing.
# (位置 is one too, but FILLER has it: it is no term at all.)
ANSWER_TYPE = frozenset(
    [
        "地址", "地理位置", "所在地", "出生地", "出生地点", "发源地", "籍贯", "科目", "科属", "类别", "特性",
        "特点", "特征", "特色", "性质", "性态", "原因", "缘故", "病因", "用途", "作用", "功能", "习性", "生活习性",
        "职业", "身份", "名称", "别名", "别称", "本名", "原名", "全名", "外形", "外观", "形状", "颜色", "体型",
        "来历", "由来", "意思", "含义", "定义", "方法", "方式", "办法", "过程", "经过", "结果", "影响", "目的",
        "类型", "种类", "背景", "意义", "评价", "优势", "优点", "缺点", "金额", "数额", "售价", "价格",
    ]
)
# Characters that are words of grammar or of asking: a run of single characters the segmenter left holding one
# is no name (「硕塞是谁」: 塞是 is no name).
FUNCTION_CHARS = frozenset("的了是在和与及或被把对从向也都就而将让给由这那有谁哪几何啥吗呢")
