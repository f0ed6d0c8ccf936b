"""Every user-facing Chinese string and every prompt, in one place."""
from __future__ import annotations

NO_ANSWER = "抱歉,现有资料中没有找到能回答这个问题的内容。"
RELATED_INTRO = "以下是资料中最接近的段落,供参考:"
TENTATIVE_INTRO = "资料中可能没有直接答案,以下是最接近的原文:"
LIST_INTRO = "资料中列出的各项如下:"
SOURCES_TITLE = "参考来源"
ORIENTATION_LABELS = {"actual": "实际", "target": "目标"}
VERDICT_LABELS = {"supported": "资料支持这一说法", "contradicted": "与资料记载不符", "conflicting": "不同资料的说法不一致",
                  "not_found": "资料中没有找到相关内容,无法核实"}
CONFLICT_NOTE = "不同资料的说法不一致,以下分别列出(官方资料在前):"
CONFLICT_SOURCE = "(来源:{source})"
CHECK_ANSWER = "核查结论:{label}。"
CHECK_DIFFERS = "资料记载为{value}"
CHECK_ALSO = "另有资料记载:{text}"
RELATED_TITLE = "相关段落"

ERR_EMPTY = "问题不能为空。 / The question is empty."
ERR_TOO_LONG = "问题过长({n} 字),请控制在 {limit} 字以内。 / The question is too long ({n} > {limit} characters)."
ERR_CONTROL = "问题中含有控制字符,请删除后重试。 / The question contains control characters."
ERR_BAD_HISTORY = "对话历史格式不正确:应为 [{{\"role\": \"user\"|\"assistant\", \"content\": \"...\"}}]。 / Malformed history."
ERR_BAD_TASK = "未知任务 {task!r}(可选 ask、check)。 / Unknown task {task!r} (use ask or check)."
ERR_EMPTY_CLAIM = "待核查的说法不能为空。 / The claim is empty."
ERR_BAD_LINE = "无法解析的输入行:{reason} / Unparseable input line: {reason}"

# Colloquial words and how the reports word them: used to expand queries and to match evidence.
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


# =============================================================================
# web page (webapp/, ui.py): page texts, chat decorations, document tab, API errors
# =============================================================================
UI_TITLE = "二七区发展资料问答"
UI_SUBTITLE = (
    "根据两篇关于郑州市二七区发展的报道作答:"
    "《深耕“三个二七”出重彩 加速“打造六区”成高峰》(2016—2021 年回顾)与"
    "《今后五年,二七将重点打造“六个区”》(2021—2026 年规划)。"
    "回答逐句引用原文,并用 [1]、[2] 等编号标明出处,点开「参考来源」即可核对原话。"
)
UI_TAB_CHAT = "问答"
UI_TAB_CHECK = "核查"
UI_TAB_DOCS = "文档"
UI_CHAT_PLACEHOLDER = (
    "### 您好!\n"
    "可以问我二七区的发展数据、规划目标和重点项目。\n\n"
    "每个回答都直接摘录报道原文,句末的 [1]、[2] 对应下方「参考来源」中的段落;"
    "资料里没有的内容,我会如实说明。"
)
UI_INPUT_PLACEHOLDER = "请输入问题,例如:二七区2020年的地区生产总值是多少?(回车发送)"
UI_SEND = "发送"
UI_CLEAR = "清空对话"
UI_EXAMPLES_TITLE = "试试这些问题:"
UI_FOLLOWUP_HINT = "追问示例:先点「①」,再点「②」,助手会接着上一个问题理解。"
# (label on the button, question sent)
UI_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("二七区2020年的地区生产总值是多少?", "二七区2020年的地区生产总值是多少?"),
    ("“六个区”分别是什么?", "“六个区”分别是什么?"),
    ("到2025年地区生产总值的目标是多少?", "到2025年地区生产总值的目标是多少?"),
    ("① 福华颐养院有多少张床位?", "福华颐养院有多少张床位?"),
    ("② 它能服务多少人?", "它能服务多少人?"),
)
UI_UNDERSTOOD_AS = "(理解为:{question})"
UI_NO_ANSWER_PREFIX = "🔎 **资料中没有找到答案**"
UI_NO_ANSWER_HINT = "可以换个说法再问,或展开下方「相关段落」看看资料里最接近的内容。"
UI_ERROR_PREFIX = "⚠️ "
UI_SOURCES_TITLE = "📑 参考来源 · {n} 条(点开可核对原文)"
UI_RELATED_TITLE = "📎 相关段落 · {n} 条(资料中最接近的内容,并非答案)"
UI_SOURCE_LOCATION = "{source} · 第 {start}–{end} 字"
UI_NO_SECTION = "正文"
UI_STATUS_READY = "📚 已收录 **{docs}** 篇文档,共 **{chunks}** 个段落。"
UI_STATUS_EMPTY = (
    "⚠️ **还没有可供检索的文档。** 请打开「文档」标签页上传报道文件,"
    "或点击「重新索引语料目录」把 `{corpus_dir}` 中的文件建立索引。"
)
UI_STATUS_ERROR = "⛔ **索引无法打开:** {message}"
UI_NOT_READY_REPLY = "还没有可供检索的文档,请先在「文档」标签页上传文件或重新索引。"

UI_DOCS_INTRO = (
    "### 已收录的文档\n"
    "支持 {suffixes} 格式,单个文件不超过 {limit}。"
    "上传后会自动切分并建立索引,几秒到几分钟不等;同名文件会被新版本替换。"
)
UI_DOCS_HEADERS = ("标题", "文件名", "段落数", "入库时间", "文档 ID")
UI_UPLOAD_LABEL = "选择要上传的文件(可多选)"
UI_UPLOAD_BUTTON = "上传并建立索引"
UI_DELETE_LABEL = "选择要删除的文档"
UI_DELETE_BUTTON = "删除所选文档"
UI_REINDEX_BUTTON = "重新索引语料目录"
UI_REINDEX_HELP = "「重新索引」会与语料目录 `{corpus_dir}` 同步:新增或修改过的文件重新索引,目录中已不存在的文档从索引移除。"
UI_REFRESH_BUTTON = "刷新列表"
UI_NO_FILES = "请先选择文件。"
UI_NO_SELECTION = "请先在下拉框中选择要删除的文档。"
UI_UPLOAD_DONE = "✅ 《{title}》已{status},共 {chunks} 个段落(保存为 `{name}`)。"
UI_UPLOAD_STATUS = {"added": "加入索引", "updated": "更新", "unchanged": "在索引中且内容未变"}
UI_UPLOAD_FAILED = "❌ {name}:{message}"
UI_DELETED = "🗑️ 已删除《{title}》({source})。"
UI_REINDEXED = "🔄 重新索引完成:新增 {added},更新 {updated},未变 {unchanged},移除 {removed},跳过 {skipped};用时 {seconds:.1f} 秒。"
UI_REINDEX_SKIPPED = "跳过 {name}:{reason}"
UI_PROGRESS_SAVING = "正在保存文件…"
UI_PROGRESS_INDEXING = "正在切分并建立索引…"
UI_PROGRESS_CHUNKS = "{where}正在为「{name}」建立语义索引:{done}/{total} 个段落"
UI_PROGRESS_CORPUS = "语料目录"
UI_PROGRESS_FILE = "第 {i}/{n} 个文件 · "

ERR_UNSUPPORTED_TYPE = "不支持的文件类型「{suffix}」,请上传 {supported} 文件。 / Unsupported file type '{suffix}'; upload one of {supported}."
ERR_UPLOAD_TOO_LARGE = "文件超过大小上限 {limit}。 / The file is larger than the {limit} limit."
ERR_UPLOAD_EMPTY_NAME = "缺少文件名。 / The upload has no file name."
ERR_UPLOAD_UNREADABLE = "无法读取该文件:{reason} / The file could not be read: {reason}"
ERR_UPLOAD_OUTSIDE = "文件名不合法,无法保存到语料目录。 / Invalid file name: it would be stored outside the corpus folder."
ERR_UNKNOWN_DOCUMENT = "索引中没有文档「{doc_id}」。 / No document with id '{doc_id}' in the index."
ERR_NO_USER_MESSAGE = "messages 中最后一条必须是 user 消息。 / The last message must have role 'user'."
ERR_BAD_MESSAGES = "messages 格式不正确:{reason} / Malformed messages: {reason}"
ERR_BAD_REQUEST = "请求格式不正确:{reason} / Malformed request: {reason}"
ERR_INTERNAL = "服务器内部错误,请稍后再试。 / Internal server error."

UI_CHECK_INTRO = (
    "### 核查一个说法\n"
    "输入一句关于二七区的说法(例如新闻稿里的一个数字),助手会到两篇报道中找依据,"
    "判断它与资料是否一致,并列出原文。"
)
UI_CHECK_PLACEHOLDER = "例如:二七区2020年地区生产总值达到800亿元"
UI_CHECK_BUTTON = "核查"
UI_CHECK_EXAMPLES_TITLE = "示例说法:"
UI_CHECK_EXAMPLES: tuple[str, ...] = (
    "二七区2020年地区生产总值达到800亿元",
    "福华颐养院设立床位317张",
    "二七区的区长是张三",
)
UI_CHECK_EMPTY = "请先输入要核查的说法。"
UI_CHECK_ICONS = {"supported": "✅", "contradicted": "❌", "conflicting": "⚠️", "not_found": "❔"}
UI_CHECK_CLAIM = "核查的说法:{claim}"
UI_CHECK_EVIDENCE = "#### 依据原文"
UI_CHECK_RELATED = "#### 相关段落(资料中最接近的内容,不足以核实)"
UI_CHECK_PLACEHOLDER_RESULT = "核查结果会显示在这里。"


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
# Few-shot examples: (earlier questions, follow-up, standalone question); {this_year}… are filled from settings.report_date.
LLM_CONDENSE_EXAMPLES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("福华颐养院有多少张床位?",), "它能服务多少人?", "福华颐养院能服务多少人?"),
    (("二七区2020年的地区生产总值是多少?",), "那到2025年的目标呢?", "二七区到2025年地区生产总值的目标是多少?"),
    (("二七区有多少户市场主体?",), "去年又新增了多少户?", "二七区{last_year}年新增了多少户市场主体?"),
    (("二七区的建成区面积有多大?",), "今年底要达到多少?", "二七区{this_year}年底建成区面积要达到多少?"),
    (("“六个区”分别是什么?",), "二七区明年计划引进多少个重大项目?", "二七区{next_year}年计划引进多少个重大项目?"),
    (("郭家咀水库出现险情后二七区撤离了多少居民?",), "“官方带娃”是什么?", "“官方带娃”是什么?"),
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
