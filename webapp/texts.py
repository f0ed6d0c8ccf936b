"""Every user-facing string of the web process (the page, the HTTP API, ``ui.py``), in one place (中文 / English).

The few answer-side strings the page shows as they are (verdict labels, the follow-up's standalone
wording, the validation messages) come from ``assistant/texts.py`` and are named here.
"""
from __future__ import annotations

from assistant import texts as _answer

# --- shared with the answer side -----------------------------------------------------------------
VERDICT_LABELS = _answer.VERDICT_LABELS
ERR_SURROGATE = _answer.ERR_SURROGATE
ERR_EMPTY_QUESTION = _answer.ERR_EMPTY
ERR_EMPTY_CLAIM = _answer.ERR_EMPTY_CLAIM
UI_UNDERSTOOD_AS = _answer.UNDERSTOOD_AS

# --- ui.py ---------------------------------------------------------------------------------------
BANNER = "二七区发展资料问答: http://{host}:{port}/  (API docs: /docs)"
CLI_DESCRIPTION = "二七区发展资料问答: web page at /, JSON API at /api, OpenAI-compatible API at /v1, docs at /docs."

# --- the page: chat, check and documents tabs ------------------------------------------------------
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
UI_NO_ANSWER_PREFIX = "**资料中没有找到答案**"
UI_NO_ANSWER_HINT = "可以换个说法再问,或展开下方「相关段落」看看资料里最接近的内容。"
UI_ERROR_PREFIX = "【错误】"
UI_FAILED_MARK = "【失败】"
UI_NOTICE_PREFIX = "【说明】"
UI_SOURCES_TITLE = "参考来源 · {n} 条(点开可核对原文)"
UI_RELATED_TITLE = "相关段落 · {n} 条(资料中最接近的内容,并非答案)"
UI_SOURCE_LOCATION = "{source} · 第 {start}–{end} 字"
UI_SOURCE_ORIGIN = " · 来源:{origin}"  # a cited document other than the official (bundled) reports
UI_NO_SECTION = "正文"
UI_STATUS_READY = "已收录 **{docs}** 篇文档,共 **{chunks}** 个段落。"
UI_STATUS_EMPTY = (
    "**还没有可供检索的文档。** 请打开「文档」标签页上传报道文件,"
    "或点击「重新索引语料目录」把语料目录中的文件建立索引。"
)
UI_STATUS_ERROR = "**索引无法打开:** {message}"
UI_NOT_READY_REPLY = "还没有可供检索的文档,请先在「文档」标签页上传文件或重新索引。"

UI_DOCS_INTRO = (
    "### 已收录的文档\n"
    "支持 {suffixes} 格式,单个文件不超过 {limit}。"
    "上传后会自动切分并建立索引,几秒到几分钟不等;同名文件会被新版本替换。"
)
UI_UPLOAD_LABEL = "选择要上传的文件(可多选)"
UI_UPLOAD_BUTTON = "上传并建立索引"
UI_DELETE_LABEL = "选择要删除的文档"
UI_DELETE_BUTTON = "删除所选文档"
UI_REINDEX_BUTTON = "重新索引语料目录"
UI_REINDEX_HELP = (
    "「重新索引」会与服务器的语料目录同步:新增或修改过的文件重新索引,目录中已不存在的文档从索引移除。"
)
UI_REFRESH_BUTTON = "刷新列表"
UI_NO_FILES = "请先选择文件。"
UI_NO_SELECTION = "请先在下拉框中选择要删除的文档。"
UI_UPLOAD_DONE = "【完成】《{title}》已{status},共 {chunks} 个段落(保存为 `{name}`)。"
UI_UPLOAD_STATUS = {"added": "加入索引", "updated": "更新", "unchanged": "在索引中且内容未变"}
UI_UPLOAD_FAILED = "【失败】{name}:{message}"
UI_DELETED = "【完成】已删除《{title}》({source})。"
UI_REINDEXED = (
    "【完成】重新索引完成:新增 {added},更新 {updated},未变 {unchanged},"
    "移除 {removed},跳过 {skipped};用时 {seconds:.1f} 秒。"
)
UI_REINDEX_SKIPPED = "跳过 {name}:{reason}"
UI_PROGRESS_INDEXING = "正在切分并建立索引…"

# --- the HTTP API and uploads -----------------------------------------------------------------
API_EXAMPLE_QUESTION = "二七区2020年的地区生产总值是多少?"
API_EXAMPLE_CLAIM = "二七区2020年地区生产总值达到800亿元"
API_CHAT_DESCRIPTION = "问一个问题,流式返回带引用的回答(聊天消息列表)。"
API_CHECK_DESCRIPTION = "核查一个说法:返回结论(资料支持 / 与资料不符 / 无法核实)和原文依据(Markdown)。"
NO_SUFFIX = "(无)"
ERR_UNSUPPORTED_TYPE = (
    "不支持的文件类型「{suffix}」,请上传 {supported} 文件。 / Unsupported "
    "file type '{suffix}'; upload one of {supported}."
)
ERR_UPLOAD_TOO_LARGE = "文件超过大小上限 {limit}。 / The file is larger than the {limit} limit."
ERR_UPLOAD_EMPTY_NAME = "缺少文件名。 / The upload has no file name."
ERR_UPLOAD_UNREADABLE = "无法读取该文件:{reason} / The file could not be read: {reason}"
ERR_UPLOAD_OUTSIDE = (
    "文件名不合法,无法保存到语料目录。 / Invalid file name: it would be stored outside the corpus folder."
)
ERR_UNKNOWN_DOCUMENT = "索引中没有文档「{doc_id}」。 / No document with id '{doc_id}' in the index."
ERR_NO_USER_MESSAGE = "messages 中最后一条必须是 user 消息。 / The last message must have role 'user'."
ERR_BAD_MESSAGES = "messages 格式不正确:{reason} / Malformed messages: {reason}"
ERR_BAD_REQUEST = "请求格式不正确:{reason} / Malformed request: {reason}"
ERR_INTERNAL = "服务器内部错误,请稍后再试。 / Internal server error."
ERR_INDEX_UNAVAILABLE = "index unavailable"

# --- public replies when the index cannot answer (503): what to do, never a path, host, port or library text ------
ERR_PUBLIC_INDEX_MISSING = (
    "还没有可供检索的文档:请在「文档」标签页上传文件,或由管理员运行 `python -m ingest` 建立索引。"
    " / Nothing is indexed yet: upload a document on the 文档 tab, or ask the administrator to run"
    " `python -m ingest`."
)
ERR_PUBLIC_INDEX_DAMAGED = (
    "索引已损坏,暂时无法回答。管理员请停止服务后运行 `python -m ingest --repair`(详情见服务器日志)。"
    " / The index is damaged. Administrators: stop the server and run `python -m ingest --repair`"
    " (details in the server log)."
)
ERR_PUBLIC_STORE_UNAVAILABLE = (
    "索引服务(Chroma 服务器)暂时无法连接,请稍后再试;管理员请查看服务器日志。"
    " / The index service (Chroma server) cannot be reached right now; try again shortly."
    " Administrators: see the server log."
)
ERR_PUBLIC_INDEX_BUSY = (
    "索引正被另一个进程写入,请稍后再试;管理员请查看服务器日志。"
    " / The index is being written by another process; try again shortly. Administrators: see the server log."
)
ERR_PUBLIC_MODEL_MISMATCH = (
    "索引与当前配置的嵌入模型不一致,管理员请运行 `python -m ingest --rebuild` 重建索引。"
    " / The index was built with another embedding model. Administrators: run `python -m ingest --rebuild`."
)
ERR_PUBLIC_STORE_ERROR = (
    "索引暂时不可用,请稍后再试;管理员请查看服务器日志。"
    " / The index is unavailable right now; try again shortly. Administrators: see the server log."
)

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
# A text label before each verdict (an emoji needs an emoji font, which servers and many office PCs lack).
UI_CHECK_MARKS = {
    "supported": "【相符】",
    "contradicted": "【不符】",
    "conflicting": "【有分歧】",
    "not_found": "【待核实】",
}
UI_CHECK_CLAIM = "核查的说法:{claim}"
UI_CHECK_SOURCES_DISAGREE = "不同资料的说法不一致(官方资料在前)"
UI_CHECK_EVIDENCE = "#### 依据原文"
UI_CHECK_RELATED = "#### 相关段落(资料中最接近的内容,不足以核实)"
UI_CHECK_PLACEHOLDER_RESULT = "核查结果会显示在这里。"

# --- access ------------------------------------------------------------------------------------------
ERR_AUTH_REQUIRED = (
    "写入需要管理员凭据:请在请求头中加入 Authorization: Bearer <ERQI_ADMIN_TOKEN>。"
    " / Writing needs the admin credential: send Authorization: Bearer <ERQI_ADMIN_TOKEN>."
)
ERR_AUTH_WRONG = "管理员凭据不正确。 / Wrong admin credential."
ERR_PAGE_LOGIN_REQUIRED = (
    "通过页面上传或读取上传的文件需要先在「文档」标签页以管理员身份登录。"
    " / Uploading through the page, or reading an uploaded file, needs the admin login of its 文档 tab"
    " (or Authorization: Bearer <ERQI_ADMIN_TOKEN>)."
)
ERR_LOOPBACK_ONLY = (
    "未设置管理员令牌(ERQI_ADMIN_TOKEN),上传、删除和重新索引只接受来自本机(127.0.0.1)的请求。"
    " / No admin token is set (ERQI_ADMIN_TOKEN): uploads, deletes and "
    "re-indexing are accepted from this machine (loopback) only."
)
ERR_CROSS_ORIGIN = (
    "拒绝来自其他网站({origin})的写请求。如需允许,请在 ERQI_ALLOWED_ORIGINS 中加入该来源。"
    " / Refused a state-changing request from another origin ({origin}); list it in ERQI_ALLOWED_ORIGINS to allow it."
)
ERR_RATE_LIMITED = "请求过于频繁,请 {seconds} 秒后再试。 / Too many requests: try again in {seconds} s."
ERR_TOO_MANY_CONNECTIONS_CLIENT = (
    "来自同一地址的连接过多(上限 {limit} 个),请稍后再试。 / Too many connections from this address"
    " (limit {limit}); try again shortly."
)
ERR_TOO_MANY_CONNECTIONS = "服务器连接已满,请稍后再试。 / The server has too many connections; try again shortly."
ERR_HEADER_TIMEOUT = "请求头发送超时,连接已关闭。 / The request headers took too long: connection closed."
ERR_BODY_TOO_LARGE = "请求体超过上限 {limit}。 / The request body is larger than the {limit} limit."
ERR_NAME_TOO_LONG = "文件名过长({n} 字节,上限 {limit} 字节)。 / The file name is too long ({n} bytes > {limit})."
ERR_UNKNOWN_ENDPOINT = "没有这个接口:{name}。 / No such endpoint: {name}."
ERR_BAD_EVENT = "页面请求的参数不正确。 / The page request's data is malformed."
ERR_NOT_MULTIPART = (
    "请以 multipart/form-data 上传,文件放在字段 file 中。 / Upload as multipart/form-data "
    "with the file in the field 'file'."
)
ERR_REINDEX_CONFIRM = (
    "重新索引需要确认:它将新增 {added}、更新 {updated}、移除 {removed} 篇文档(只处理语料目录 {folder} 中的文件,"
    "其他来源的文档不受影响)。确认请发送 {{\"confirm\": true}}。"
    " / Re-indexing needs confirmation: it would add {added}, update {updated} and remove {removed} document(s)"
    " (only files of the corpus folder; documents from elsewhere are kept). Send {{\"confirm\": true}} to proceed."
)

# --- the documents tab -------------------------------------------------------------------------------
UI_WRITE_LOOPBACK_NOTICE = (
    "【提示】未设置管理员令牌(ERQI_ADMIN_TOKEN):只有在本机(127.0.0.1)打开的页面可以上传、删除和重新索引。"
)
UI_WRITE_LOGIN_NOTICE = "【提示】上传、删除和重新索引需要管理员登录。"
UI_LOGIN_LABEL = "管理员令牌"
UI_LOGIN_BUTTON = "登录"
UI_LOGIN_OK = "【完成】已登录,可以上传、删除和重新索引。"
UI_LOGIN_FAILED = "【失败】令牌不正确。"
UI_NOT_AUTHORISED_LOGIN = "【失败】请先以管理员身份登录。"
UI_NOT_AUTHORISED_LOOPBACK = "【失败】未设置管理员令牌:只接受在本机打开的页面的写操作。"
UI_REINDEX_PLAN = (
    "【请确认】重新索引将新增 **{added}**、更新 **{updated}**、移除 **{removed}** 篇文档(只处理语料目录中的文件,"
    "命令行或其他目录导入的文档不受影响)。确认请点「确认重新索引」。"
)
UI_REINDEX_CONFIRM_BUTTON = "确认重新索引"
UI_DOCS_HEADERS = ("标题", "文件名", "段落数", "入库时间", "来源", "可疑", "文档 ID")
UI_ORIGINS = {"bundled": "随附资料", "upload": "上传", "cli": "命令行", "folder": "语料目录", "unknown": "未知"}
UI_SUSPICIOUS_NOTE = "【注意】其中 {n} 段疑似对模型下达的指令(如「{phrase}」),已标记为可疑,不会被引用为答案。"
UI_WARNING_NOTE = "【提示】{warning}"
UI_EMBEDDING_PROGRESS = "【进行中】语义索引:{done}/{total} 个段落(关键词检索已可用)。"
UI_STATUS_DAMAGED = "**索引已损坏:** {message}"

# --- several workers (ui.py --workers) -------------------------------------------------------------------
ERR_WORKERS_NEED_SERVER = (
    "多个工作进程需要 Chroma 服务器:内嵌索引只能由一个进程写入。请先运行 `chroma run --path 目录 --port 8000`,"
    "再设置 ERQI_CHROMA_HOST 和 ERQI_CHROMA_PORT(见 docs/deploy.md)。"
    " / Several workers need a Chroma server: an embedded index has one writing process."
    " Start `chroma run --path DIR --port 8000` and set ERQI_CHROMA_HOST and ERQI_CHROMA_PORT (see docs/deploy.md)."
)

# --- the document view (/view/{doc_id}) --------------------------------------------------------------------------
VIEW_TITLE = "{title} · 原文"
VIEW_BACK = "← 返回问答页面"
VIEW_META = "文件 {source} · 文档 ID {doc_id}"
VIEW_WHERE = "引文位置:"
VIEW_WHERE_ARIA = "引文所在章节"
VIEW_OFFSETS = "第 {start}–{end} 字"
VIEW_SHARE = "本段链接(可分享):"
VIEW_SECTION_LABEL = "所在章节:"
VIEW_PASSAGE_LABEL = "引用的原文"
VIEW_MAIN_ARIA = "文档原文"
VIEW_WHOLE_DOCUMENT = "查看整篇文档"
VIEW_ERROR_TITLE = "无法显示原文"
ERR_VIEW_PASSAGE = (
    "引用位置 {start}–{end} 不在这篇文档的正文范围内(正文共 {length} 字)。"
    " / The offsets {start}-{end} are not a passage of this document ({length} characters)."
)
ERR_VIEW_UNAVAILABLE = "索引暂时不可用,请稍后再试。 / The index is unavailable right now; try again shortly."
UI_VIEW_LINK = "查看原文"
UI_VIEW_LINK_TITLE = "在原文中查看第 {ref} 条出处"
UI_DOCS_LINKS_TITLE = "在原文中阅读:"

# --- the indicators tab (指标一览) and /api/indicators -----------------------------------------------------------
UI_TAB_INDICATORS = "指标一览"
UI_INDICATORS_INTRO = (
    "### 指标一览\n"
    "从每篇文档中自动摘出的数字指标:指标、数值、时间,以及它是**已实现**(实际)还是**规划目标**。"
    "点击表头可排序,点「原文」可在文档中查看这句话。"
)
UI_INDICATORS_SEARCH_LABEL = "搜索指标"
UI_INDICATORS_SEARCH_PLACEHOLDER = "例如:生产总值、项目、学位(多个词用空格分开)"
UI_INDICATORS_DOC_LABEL = "文档"
UI_INDICATORS_ALL_DOCS = "全部文档"
UI_INDICATORS_SIDE_LABEL = "类型"
UI_INDICATORS_SIDES = (("全部", ""), ("实际", "actual"), ("目标", "target"))
UI_INDICATORS_SECTION_LABEL = "章节"
UI_INDICATORS_ALL_SECTIONS = "全部章节"
UI_INDICATORS_HEADERS = ("章节", "指标", "数值", "单位", "时间", "类型", "原文", "文档")
UI_INDICATORS_COUNT = (
    "共 **{n}** 条指标(全部 {total} 条),其中实际 {actual} 条、目标 {target} 条;实际与目标可对照的 {pairs} 组。"
)
UI_INDICATORS_EMPTY = "没有找到符合条件的指标。"
UI_INDICATORS_CSV = "下载 CSV"
UI_INDICATORS_CSV_TITLE = "把当前筛选出的指标下载为 CSV 文件"
UI_INDICATORS_CHART_LABEL = "实际与目标对比"
UI_INDICATORS_CHART_TITLE = "实际完成与规划目标"
UI_INDICATORS_CHART_EMPTY = "当前筛选中没有可以对照的实际值与目标值。"
UI_INDICATORS_CHART_SUMMARY = "图表内容:{items}。"
UI_INDICATORS_CHART_ITEM = "{subject}:实际 {actual}({actual_period}),目标 {target}({target_period})"
UI_INDICATORS_MORE_PAIRS = "(图中显示前 {shown} 组,共 {total} 组)"
ORIENTATION_NAMES = {"actual": "实际", "target": "目标"}
UI_NO_PERIOD = "未注明"

# --- feedback on answers ------------------------------------------------------------------------------------------
UI_RATE_TITLE = "这个回答有帮助吗?"
UI_RATE_HELPFUL = "有帮助"
UI_RATE_UNHELPFUL = "没帮助"
UI_RATE_COMMENT_LABEL = "补充意见(可选)"
UI_RATE_COMMENT_PLACEHOLDER = "例如:数字不对、没回答到点子上……"
UI_RATE_NOTHING = "请先提问,收到回答后再评价。"
UI_RATE_THANKS = "【完成】已记录您对最近一个回答的评价({verdict}),谢谢!"
UI_RATE_VERDICTS = {True: "有帮助", False: "没帮助"}
UI_RATE_FAILED = "【失败】{message}"
UI_FEEDBACK_TITLE = "### 用户反馈"
UI_FEEDBACK_INTRO = (
    "用户对回答的评价。「导出为评测集」生成的文件可以直接用 `python -m assistant eval 文件名` 作为回归测试运行。"
)
UI_FEEDBACK_HEADERS = ("时间", "评价", "问题", "回答", "意见")
UI_FEEDBACK_EXPORT = "导出为评测集"
UI_FEEDBACK_REFRESH = "刷新反馈"
UI_FEEDBACK_COUNT = "共 {n} 条反馈:有帮助 {helpful} 条,没帮助 {unhelpful} 条。"
ERR_FEEDBACK_ANSWER_ID = (
    "answer_id 格式不正确:应为回答中返回的 answer_id(ans- 加 32 位十六进制数)。"
    " / answer_id must be the answer_id an answer carried (ans- and 32 hex digits)."
)
ERR_FEEDBACK_HELPFUL = "helpful 必须是 JSON 的 true 或 false。 / helpful must be JSON true or false."
ERR_FEEDBACK_COMMENT = "comment 必须是文本。 / comment must be a string."
ERR_FEEDBACK_COMMENT_TOO_LONG = (
    "意见过长({n} 字,上限 {limit} 字)。 / The comment is too long ({n} characters, limit {limit})."
)
ERR_FEEDBACK_UNKNOWN_ANSWER = (
    "没有找到回答 {answer_id}:只能评价本服务给出的回答(未被评价的回答保留一段时间后会被清理)。"
    " / No answer {answer_id}: only answers this server gave can be rated (unrated ones are forgotten after a while)."
)
ERR_FEEDBACK_UNAVAILABLE = (
    "反馈暂时无法保存,请稍后再试;管理员请查看服务器日志。"
    " / Feedback cannot be stored right now; try again shortly. Administrators: see the server log."
)
