"""Every user-facing Chinese string and every prompt, in one place."""
from __future__ import annotations

NO_ANSWER = "抱歉,现有资料中没有找到能回答这个问题的内容。"
RELATED_INTRO = "以下是资料中最接近的段落,供参考:"
# A refusal whose closest passage gives the other side of what was asked (the 2020 result for a target question).
ONLY_OTHER_SIDE = {
    "actual": "资料中没有找到所问的目标,只给出了已实现的情况【实际】:",
    "target": "资料中没有找到所问的实际数字,只给出了今后的目标【目标】:",
}
SHORT_ANSWER = "答:{short}"  # the direct answer, before the quotes that hold it
TENTATIVE_INTRO = "资料中可能没有直接答案,以下是最接近的原文:"
LIST_INTRO = "资料中列出的各项如下:"
SOURCES_TITLE = "参考来源"
ORIENTATION_LABELS = {"actual": "实际", "target": "目标"}
VERDICT_LABELS = {
    "supported": "资料支持这一说法",
    "contradicted": "与资料记载不符",
    "conflicting": "不同资料的说法不一致",
    "not_found": "资料中没有找到相关内容,无法核实",
}
CONFLICT_NOTE = "不同资料的说法不一致,以下分别列出(官方资料在前):"
CONFLICT_SOURCE = "(来源:{source})"
CHECK_ANSWER = "核查结论:{label}。"
CHECK_DIFFERS = "资料记载为{value}"
CHECK_SOURCE_SAYS = "{source}记载为{value}"  # when the documents disagree, each named by its standing
CHECK_SOURCES_DISAGREE = "各资料的说法也不一致:"  # a contradicted claim whose sources give different amounts
# Where a document came from (vectorstore.records.Origin), as answers name it; official (bundled) first.
ORIGIN_NAMES = {
    "bundled": "官方资料",
    "folder": "语料目录中的资料",
    "cli": "命令行导入的资料",
    "upload": "上传的资料",
    "unknown": "来源不明的资料",
}
SOURCE_LABEL = "{origin}「{source}」"

ERR_EMPTY = "问题不能为空。 / The question is empty."
ERR_TOO_LONG = "问题过长({n} 字),请控制在 {limit} 字以内。 / The question is too long ({n} > {limit} characters)."
ERR_CONTROL = "问题中含有控制字符,请删除后重试。 / The question contains control characters."
ERR_BAD_HISTORY = (
    "对话历史格式不正确:应为 [{{\"role\": \"user\"|\"assistant\", \"content\": \"...\"}}]。 / Malformed history."
)
ERR_BAD_TASK = "未知任务 {task!r}(可选 ask、check)。 / Unknown task {task!r} (use ask or check)."
ERR_EMPTY_CLAIM = "待核查的说法不能为空。 / The claim is empty."
ERR_BAD_LINE = "无法解析的输入行:{reason} / Unparseable input line: {reason}"
NOT_AN_OBJECT = "not a JSON object"  # the reason of ERR_BAD_LINE for a line that is JSON but not an object
ERR_SURROGATE = "文本中含有无效的 Unicode 字符(孤立代理项)。 / The text contains invalid Unicode (a lone surrogate)."
ERR_HISTORY_MESSAGES = "对话历史过长({n} 条消息,上限 {limit} 条)。 / The history has too many messages ({n} > {limit})."
ERR_HISTORY_MESSAGE_CHARS = (
    "对话历史中有一条消息过长({n} 字,上限 {limit} 字)。 / A history message is too long ({n} > {limit} characters)."
)
ERR_HISTORY_CHARS = (
    "对话历史总字数过多({n} 字,上限 {limit} 字)。 / The history is too long ({n} > {limit} characters in all)."
)
ERR_MODEL_UNREADABLE = "答案模型无法读取 / cannot read the answer model {path}: {reason}"
ERR_MODEL_FORMAT = "答案模型格式不符 / answer model {path} has format {found}, expected {expected}: run `make train`"
ERR_MODEL_FEATURES = "答案模型与代码的特征不一致 / answer model {path} was fitted on other features: run `make train`"

# python -m assistant (the terminal chat and the plain-text answer)
CHAT_BANNER = "二七区资料问答 — 输入问题回车;/reset 清空对话;/quit 或 Ctrl-D 退出。"
CHAT_PROMPT = "\n问> "
CHAT_ERROR = "错误: {message}"
CLI_DESCRIPTION = "Answer questions about the indexed documents, with citations."
CLI_ERROR = "error: {message}"
CLI_GOLD_MISSING = "error: gold file not found: {path}"
EVAL_TITLE = "Evaluation on {gold}"
UNDERSTOOD_AS = "(理解为:{question})"
NO_SECTION = "—"


# =============================================================================
# LLM (optional backend: assistant/llm.py, assistant/verify.py, assistant/condense.py)
# Prompts are LangChain ChatPromptTemplates: {name} is a variable, so a literal
# brace would have to be doubled.  None of these strings needs one.
# =============================================================================
LLM_REFUSAL = NO_ANSWER  # the fixed refusal sentence the model must use when the passages do not answer

LLM_ANSWER_SYSTEM = (
    "你是郑州市二七区发展资料的问答助手,只能依据用户给出的编号资料段落回答问题。\n"
    "要求:\n"
    "1. 用简体中文简短作答,一般不超过三句话;不要寒暄,不要解释推理过程。\n"
    "2. 每一句话的句号前都要用 [n] 标出依据的段落编号,例如:2020年,二七区地区生产总值达到760亿元[1]。"
    "一句话依据多个段落时写 [1][2]。只能引用给出的编号。\n"
    "3. 数字、百分比、日期、届次、人名、地名、机构名和引号中的说法,都要照抄所引段落的原文写法,"
    "不得推算、换算,也不得补充段落中没有的信息。\n"
    "4. 资料讲的是已完成的成绩还是今后的目标,要照原文说清楚。\n"
    f"5. 如果这些段落不能回答问题,只输出这一句:{LLM_REFUSAL}"
)
LLM_ANSWER_USER = "资料段落:\n\n{passages}\n\n问题:{question}"
LLM_PASSAGE = "[{ref}] 《{title}》{section}\n{text}"  # one numbered passage of the answer prompt
LLM_PASSAGE_SECTION = " › {section}"

LLM_CONDENSE_SYSTEM = (
    "你的任务是把对话中的追问改写成一个不看上下文也能理解的完整问题,用于检索资料。"
    "资料是{report_month}发布的关于郑州市二七区的报道。\n"
    "要求:\n"
    "1. 用此前的提问补全追问省略或指代的对象(“它”“这个”“那……呢”“又”“还有”等)。\n"
    "2. 把相对时间换成具体年份:今年={this_year}年,去年={last_year}年,前年={year_before}年,"
    "明年={next_year}年,今年底={this_year}年底,明年底={next_year}年底。\n"
    "3. 只改写,不回答;不要加入此前提问和追问里都没有的数字或事实。\n"
    "4. 追问本身已经完整、也没有相对时间时,原样输出。\n"
    "5. 只输出改写后的问题,不加引号、前缀或解释。"
)
LLM_CONDENSE_USER = "此前的提问:\n{history}\n追问:{question}"
LLM_CONDENSE_NO_HISTORY = "(无)"
# Few-shot examples: (earlier questions, follow-up, standalone question); {this_year}… are filled from
# settings.llm.report_date.
LLM_CONDENSE_EXAMPLES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("福华颐养院有多少张床位?",), "它能服务多少人?", "福华颐养院能服务多少人?"),
    (("二七区2020年的地区生产总值是多少?",), "那到2025年的目标呢?", "二七区到2025年地区生产总值的目标是多少?"),
    (("二七区有多少户市场主体?",), "去年又新增了多少户?", "二七区{last_year}年新增了多少户市场主体?"),
    (("二七区的建成区面积有多大?",), "今年底要达到多少?", "二七区{this_year}年底建成区面积要达到多少?"),
    (("“六个区”分别是什么?",), "二七区明年计划引进多少个重大项目?", "二七区{next_year}年计划引进多少个重大项目?"),
    (("郭家咀水库出现险情后二七区撤离了多少居民?",), "“官方带娃”是什么?", "“官方带娃”是什么?"),
)

# Added to an answer read while documents the registry lists are not yet in the keyword index (after a crash, or
# during an upload): AssistantResponse.indexing names them.
INDEXING_NOTE = (
    "(注意:{names} 仍在建立索引,本回答可能尚未读到其中的内容,请稍后再问。"
    " / Still being indexed: {names_en}; this answer may not have read them yet, please ask again shortly.)"
)

# What the user is told when the LLM answer is not used as is (AssistantResponse.notice).
LLM_NOTICE_ERROR = "大模型暂时无法作答({reason}),以下为直接摘录的原文。"
LLM_NOTICE_UNVERIFIED = "大模型的回答未能在资料中核实,以下为直接摘录的原文。"
LLM_NOTICE_DROPPED = "已删去 {n} 句无法在所引资料中核实的内容。"
LLM_REASON_TIMEOUT = "请求超时,{seconds:g} 秒内没有回复"
LLM_REASON_CONNECTION = "无法连接 {url}"
LLM_REASON_STATUS = "服务返回错误 {status}"
LLM_REASON_EMPTY = "回复为空"
LLM_REASON_MALFORMED = "回复格式无法解析:{detail}"

# Why one sentence of an LLM answer is unverified (SentenceCheck.reason).
LLM_UNVERIFIED_NO_REF = "没有标注出处"
LLM_UNVERIFIED_BAD_REF = "引用的段落 {refs} 不存在"
LLM_UNVERIFIED_VALUE = "所引段落中没有「{value}」"
LLM_UNVERIFIED_NAME = "所引段落中没有「{name}」"
LLM_UNVERIFIED_SEP = ";"
