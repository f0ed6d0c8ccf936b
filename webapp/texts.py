"""User-facing strings of the web layer added for access control, limits and index health (中文 / English).

The answer-side strings stay in ``assistant/texts.py``.
"""
from __future__ import annotations

# --- access ------------------------------------------------------------------------------------------
ERR_AUTH_REQUIRED = "写入需要管理员凭据:请在请求头中加入 Authorization: Bearer <ERQI_ADMIN_TOKEN>。 / Writing needs the admin credential: send Authorization: Bearer <ERQI_ADMIN_TOKEN>."
ERR_AUTH_WRONG = "管理员凭据不正确。 / Wrong admin credential."
ERR_LOOPBACK_ONLY = (
    "未设置管理员令牌(ERQI_ADMIN_TOKEN),上传、删除和重新索引只接受来自本机(127.0.0.1)的请求。"
    " / No admin token is set (ERQI_ADMIN_TOKEN): uploads, deletes and re-indexing are accepted from this machine (loopback) only."
)
ERR_CROSS_ORIGIN = (
    "拒绝来自其他网站({origin})的写请求。如需允许,请在 ERQI_ALLOWED_ORIGINS 中加入该来源。"
    " / Refused a state-changing request from another origin ({origin}); list it in ERQI_ALLOWED_ORIGINS to allow it."
)
ERR_RATE_LIMITED = "请求过于频繁,请 {seconds} 秒后再试。 / Too many requests: try again in {seconds} s."
ERR_BODY_TOO_LARGE = "请求体超过上限 {limit}。 / The request body is larger than the {limit} limit."
ERR_SURROGATE = "文本中含有无效的 Unicode 字符(孤立代理项)。 / The text contains invalid Unicode (a lone surrogate)."
ERR_NAME_TOO_LONG = "文件名过长({n} 字节,上限 {limit} 字节)。 / The file name is too long ({n} bytes > {limit})."
ERR_UNKNOWN_ENDPOINT = "没有这个接口:{name}。 / No such endpoint: {name}."
ERR_BAD_EVENT = "页面请求的参数不正确。 / The page request's data is malformed."
ERR_NOT_MULTIPART = "请以 multipart/form-data 上传,文件放在字段 file 中。 / Upload as multipart/form-data with the file in the field 'file'."
ERR_REINDEX_CONFIRM = (
    "重新索引需要确认:它将新增 {added}、更新 {updated}、移除 {removed} 篇文档(只处理语料目录 {folder} 中的文件,"
    "其他来源的文档不受影响)。确认请发送 {{\"confirm\": true}}。"
    " / Re-indexing needs confirmation: it would add {added}, update {updated} and remove {removed} document(s)"
    " (only files of the corpus folder; documents from elsewhere are kept). Send {{\"confirm\": true}} to proceed."
)

# --- the documents tab -------------------------------------------------------------------------------
UI_WRITE_LOOPBACK_NOTICE = (
    "🔓 未设置管理员令牌(ERQI_ADMIN_TOKEN):只有在本机(127.0.0.1)打开的页面可以上传、删除和重新索引。"
)
UI_WRITE_LOGIN_NOTICE = "🔒 上传、删除和重新索引需要管理员登录。"
UI_LOGIN_LABEL = "管理员令牌"
UI_LOGIN_BUTTON = "登录"
UI_LOGIN_OK = "✅ 已登录,可以上传、删除和重新索引。"
UI_LOGIN_FAILED = "❌ 令牌不正确。"
UI_NOT_AUTHORISED_LOGIN = "❌ 请先以管理员身份登录。"
UI_NOT_AUTHORISED_LOOPBACK = "❌ 未设置管理员令牌:只接受在本机打开的页面的写操作。"
UI_REINDEX_PLAN = (
    "⚠️ 重新索引将新增 **{added}**、更新 **{updated}**、移除 **{removed}** 篇文档(只处理语料目录中的文件,"
    "命令行或其他目录导入的文档不受影响)。确认请点「确认重新索引」。"
)
UI_REINDEX_CONFIRM_BUTTON = "确认重新索引"
UI_DOCS_HEADERS = ("标题", "文件名", "段落数", "入库时间", "来源", "可疑", "文档 ID")
UI_ORIGINS = {"bundled": "随附资料", "upload": "上传", "cli": "命令行", "folder": "语料目录", "unknown": "未知"}
UI_SUSPICIOUS_NOTE = "⚠️ 其中 {n} 段疑似对模型下达的指令(如「{phrase}」),已标记为可疑,不会被引用为答案。"
UI_WARNING_NOTE = "ℹ️ {warning}"
UI_EMBEDDING_PROGRESS = "⏳ 语义索引进行中:{done}/{total} 个段落(关键词检索已可用)。"
UI_STATUS_DAMAGED = "⛔ **索引已损坏:** {message}"

# --- several workers (ui.py --workers) -------------------------------------------------------------------
ERR_WORKERS_NEED_SERVER = (
    "多个工作进程需要 Chroma 服务器:内嵌索引只能由一个进程写入。请先运行 `chroma run --path 目录 --port 8000`,"
    "再设置 ERQI_CHROMA_HOST 和 ERQI_CHROMA_PORT(见 docs/deploy.md)。"
    " / Several workers need a Chroma server: an embedded index has one writing process. Start `chroma run --path DIR --port 8000`"
    " and set ERQI_CHROMA_HOST and ERQI_CHROMA_PORT (see docs/deploy.md)."
)
