"""The words of error messages in en and zh, defined once: what a support agent reads when a snapshot or a command is wrong.

Each message is a key and its two templates, filled by `say` with the same fields. The English
text is the message of record (the JSON error object, the batch's error report, the API's
exceptions); the Chinese text is what `--lang zh` prints on standard error. Fields hold values
(numbers, paths, a bad value already shown by `shown`), never a template: the templates are this
module's own. tests/test_errorwords.py checks that each pair takes the same fields and that the
Chinese follows docs/glossary.md.
"""

from __future__ import annotations

from typing import Any

from diagnose.vocab import Lang


class Said(tuple[str, str]):
    """One message in both languages: (en, zh).

    A plain tuple, not a NamedTuple: every command imports this module, and making a NamedTuple class
    costs a cold `diagnose run` some 160 us (bench/coldstart.py).
    """

    __slots__ = ()

    def __new__(cls, en: str, zh: str) -> Said:
        return tuple.__new__(cls, (en, zh))

    def __getnewargs__(self) -> tuple[str, str]:
        return (self[0], self[1])

    @property
    def en(self) -> str:
        return self[0]

    @property
    def zh(self) -> str:
        return self[1]

    def text(self, lang: Lang) -> str:
        return self[1] if lang == "zh" else self[0]


TEXTS: dict[str, tuple[str, str]] = {
    # the frame of every error
    "label.usage": ("usage error", "用法错误"),
    "label.invalid_input": ("invalid snapshot", "快照无效"),
    "label.invalid_labels": ("invalid labelled cases", "标注案例无效"),
    "label.invalid_pack": ("invalid rule pack", "规则包无效"),
    "label.output": ("output error", "输出失败"),
    "label.check_failed": ("check failed", "检查未通过"),
    "label.internal": ("error", "错误"),
    "label.rejected": ("rejected", "已拒收"),
    "label.batch_failed": ("batch failed", "批处理失败"),
    "label.pipe": ("closed pipe", "管道已关闭"),
    "frame.help": ("help", "提示"),
    "frame.top": ("(top level)", "（顶层）"),
    "frame.line": ("line {line}", "第 {line} 行"),
    "frame.line_column": ("line {line}, column {column}", "第 {line} 行第 {column} 列"),
    "frame.problems": ("{count} {noun}", "共 {count} {noun}"),
    "frame.more": ("... and {count} more", "……另有 {count} 处问题未列出"),
    "frame.and_more": (" (and {count} more)", "（另有 {count} 处）"),
    "internal": (
        "internal error: {name}: {text}. This is a bug in diagnose; please report it (run with --debug for the traceback).",
        "内部错误：{name}：{text}。这是 diagnose 的缺陷，请报告（加 --debug 运行可看到调用栈）。",
    ),
    # a bad value, as `shown` writes it
    "value.object": ("an object", "一个对象"),
    "value.list": ("a list", "一个列表"),
    # reading the file
    "file.missing": ("no such file", "文件不存在"),
    "file.folder": ("is a folder, not a snapshot file", "这是一个文件夹，不是快照文件"),
    "file.folder.hint": ("for many snapshots use `diagnose batch FOLDER`", "多个快照请用 `diagnose batch FOLDER`"),
    "file.not_regular": ("is not a regular file (a pipe, a device or a socket)", "不是普通文件（是管道、设备或套接字）"),
    "file.not_regular.hint": ("feed a stream on standard input instead: `{command} {name}`", "请改为从标准输入读入：`{command} {name}`"),
    "file.unreadable": ("cannot read: {reason}", "无法读取：{reason}"),
    "file.too_large": ("the snapshot is larger than {limit:,} bytes", "快照超过 {limit:,} 字节"),
    "file.too_large.hint": (
        "raise the limit with --max-bytes if this is a real snapshot",
        "如果这确实是一份快照，请用 --max-bytes 提高上限",
    ),
    "file.too_many_chars": (
        "the snapshot is {size:,} characters; at most {limit:,} are accepted",
        "快照有 {size:,} 个字符，最多接受 {limit:,} 个",
    ),
    "file.empty": ("the file is empty", "文件是空的"),
    "file.empty.hint": ("a snapshot is one JSON object; see {page}", "一份快照是一个 JSON 对象；见 {page}"),
    "file.utf32": ("the file is UTF-32; snapshots must be UTF-8", "文件是 UTF-32 编码；快照必须是 UTF-8"),
    "file.utf16": ("the file is UTF-16; snapshots must be UTF-8", "文件是 UTF-16 编码；快照必须是 UTF-8"),
    "file.binary": ("the file holds binary data (NUL bytes), not JSON text", "文件含二进制数据（NUL 字节），不是 JSON 文本"),
    "file.not_utf8": (
        "not UTF-8 text: invalid byte 0x{byte:02x} at offset {offset}",
        "不是 UTF-8 文本：偏移 {offset} 处有无效字节 0x{byte:02x}",
    ),
    "file.reexport": ("re-export the snapshot as UTF-8", "请把快照重新导出为 UTF-8"),
    "file.reexport_gbk": (
        "re-export the snapshot as UTF-8 (GBK and other encodings are not accepted)",
        "请把快照重新导出为 UTF-8（不接受 GBK 等其他编码）",
    ),
    # the JSON text
    "json.broken": ("broken JSON: {detail}", "JSON 格式错误：{detail}"),
    "json.duplicate": ("duplicate key {key!r} in one object", "同一个对象里有重复的键 {key!r}"),
    "json.duplicate.hint": ("each key may appear once per object", "每个对象里同一个键只能出现一次"),
    "json.not_finite": ("{name} is not valid JSON: numbers must be finite", "{name} 不是合法的 JSON：数值必须是有限数"),
    "json.too_deep": ("nesting deeper than {depth} levels", "嵌套超过 {depth} 层"),
    "json.too_deep_short": ("nesting too deep", "嵌套太深"),
    "json.big_object": ("an object with {size:,} entries; at most {limit:,} are accepted", "对象有 {size:,} 项，最多接受 {limit:,} 项"),
    "json.big_list": ("a list with {size:,} entries; at most {limit:,} are accepted", "列表有 {size:,} 项，最多接受 {limit:,} 项"),
    "json.surrogate_key": (
        'the key "{key}" holds a lone surrogate: not valid Unicode',
        "键 “{key}” 含有落单的代理字符，不是合法的 Unicode",
    ),
    "json.surrogate_text": (
        'text "{text}" holds a lone surrogate: not valid Unicode',
        "文本 “{text}” 含有落单的代理字符，不是合法的 Unicode",
    ),
    "json.surrogate.hint": (
        "the exporter split a character (an emoji, say) in two; re-export the snapshot as valid UTF-8",
        "导出程序把一个字符（例如表情符号）拆成了两半；请重新导出为合法的 UTF-8",
    ),
    "json.big_int": (
        "the whole number {number} is too large; at most {limit:,} either way is accepted",
        "整数 {number} 太大；绝对值最多为 {limit:,}",
    ),
    "json.big_int.digits": ("{sign}of about {count:,} digits", "{sign}…（约 {count:,} 位）"),
    "json.big_int.cut": ("{sign}{head}…{tail} ({count:,} digits)", "{sign}{head}…{tail}（共 {count:,} 位）"),
    "json.big_int.hint": (
        "JSON tools lose the digits of larger numbers; send identifiers as strings",
        "JSON 工具会丢失更大数字的位数；编号请以字符串发送",
    ),
    "json.not_object": ("a snapshot must be a JSON object (got {got})", "快照必须是一个 JSON 对象（实际值：{got}）"),
    "json.not_object.hint": (
        "export one account as one JSON object; for many, use `diagnose batch` with JSON Lines",
        "一个账户导出为一个 JSON 对象；多个账户请用 `diagnose batch` 读 JSON Lines",
    ),
    # the fields of the contract
    "field.missing": ("is required but missing", "缺少此必填字段"),
    "field.type": ("must be {what} (got {got})", "必须是{what}（实际值：{got}）"),
    "field.type.number": ("a number", "数值"),
    "field.type.whole": ("a whole number", "整数"),
    "field.type.bool": ("true or false", " true 或 false"),
    "field.type.string": ("a string", "字符串"),
    "field.type.object": ("an object", "对象"),
    "field.type.list": ("a list", "列表"),
    "field.bound": ("must be {symbol} {bound} (got {got})", "必须{symbol} {bound}（实际值：{got}）"),
    "field.one_of": ("must be one of {expected} (got {got})", "必须是以下之一：{expected_zh}（实际值：{got}）"),
    "field.pattern": (
        "has the wrong format (got {got}); expected a value matching {pattern}",
        "格式不对（实际值：{got}）；应符合 {pattern}",
    ),
    # the English of the four lengths is pydantic's own message (it says the limit); these give the Chinese
    "field.too_long_text": ("must have at most {limit} characters", "最多只能有 {limit} 个字符"),
    "field.too_short_text": ("must have at least {limit} characters", "至少要有 {limit} 个字符"),
    "field.too_long_list": ("must have at most {limit} items (got {size})", "最多只能有 {limit} 项（实际有 {size} 项）"),
    "field.too_short_list": ("must have at least {limit} items (got {size})", "至少要有 {limit} 项（实际有 {size} 项）"),
    "field.finite": ("must be a finite number (got {got})", "必须是有限数（实际值：{got}）"),
    "field.other": ("{detail}", "取值无效：{detail}"),
    "field.datetime": (
        "must be an RFC 3339 time such as 2024-01-15T10:30:00+08:00 (got {got})",
        "必须是 RFC 3339 时间，例如 2024-01-15T10:30:00+08:00（实际值：{got}）",
    ),
    "field.datetime_naive": (
        "time {got} has no UTC offset; add one, e.g. +08:00 or Z",
        "时间 {got} 没有 UTC 偏移；请加上，例如 +08:00 或 Z",
    ),
    "field.datetime_unreal": ("{got} is not a real time", "{got} 不是一个真实存在的时间"),
    "field.datetime_offset": ("{got} has an impossible UTC offset", "{got} 的 UTC 偏移不可能成立"),
    "field.date": ("must be a date YYYY-MM-DD (got {got})", "必须是 YYYY-MM-DD 格式的日期（实际值：{got}）"),
    "field.date_unreal": ("{got} is not a real calendar date", "{got} 不是日历上存在的日期"),
    "field.hhmm": (
        "must be a local time HH:MM from 00:00 to 23:59 (got {got})",
        "必须是 00:00 到 23:59 之间的本地时间 HH:MM（实际值：{got}）",
    ),
    "field.timezone": (
        "must be an IANA time zone name such as Asia/Shanghai (got {got})",
        "必须是 IANA 时区名称，例如 Asia/Shanghai（实际值：{got}）",
    ),
    # the rule pack and the checks of `run`
    "pack.missing": ("no such rule pack folder", "规则包文件夹不存在"),
    "pack.is_a_folder": ("a rule pack is a folder with a pack.yaml: {page}", "规则包是一个含 pack.yaml 的文件夹：{page}"),
    "check.fail_on": ("{count} finding(s) at or above {severity}: {ids}", "{count} 个原因的严重程度达到或高于“{severity}”：{ids}"),
    # why, diff and history
    "why.no_rule": ("no rule {rule!r} in pack {pack}", "规则包 {pack} 中没有规则 {rule!r}"),
    "why.did_you_mean": ("did you mean {rule}?", "您要找的是不是 {rule}？"),
    "why.list": ("`diagnose rules list` shows the rules", "`diagnose rules list` 可列出所有规则"),
    "compare.accounts": (
        "{first} is account {first_id}, {second} is account {second_id}",
        "{first} 是账户 {first_id}，{second} 是账户 {second_id}",
    ),
    "compare.accounts.hint": (
        "compare two snapshots of one account; to compare two accounts on purpose, pass --cross-account"
        " (allow_different_accounts=True in Python)",
        "请比较同一账户的两份快照；如确实要比较两个账户，请加 --cross-account（Python 中用 allow_different_accounts=True）",
    ),
    "history.accounts.hint": (
        "pass the snapshots of one account: a history follows one account",
        "请只传入同一账户的快照：历史记录只跟踪一个账户",
    ),
    "history.none": ("no snapshots to follow", "没有可跟踪的快照"),
    "history.none.hint": (
        "pass snapshot files, a folder of them, or a JSON Lines file",
        "请传入快照文件、存放快照的文件夹，或一个 JSON Lines 文件",
    ),
    "history.empty_folder": ("the folder holds no .json or .jsonl snapshot files", "文件夹里没有 .json 或 .jsonl 快照文件"),
    "diff.one_stdin": ("standard input can hold only one of the two snapshots", "标准输入只能提供两份快照中的一份"),
    # warnings
    "label.warning": ("warning", "警告"),
    "warn.public_key": (
        "--redact without a key uses the public default key: anyone can confirm a guessed value; set DIAGNOSE_REDACT_KEY",
        "--redact 未设密钥，使用的是公开的默认密钥：任何人都能验证猜测的值；请设置 DIAGNOSE_REDACT_KEY",
    ),
    "warn.unknown_fields": ("ignored unknown fields: {fields}", "已忽略未知字段：{fields}"),
    # a batch's closing words
    "batch.counts": (
        "read {read:,} {records} = {diagnosed:,} diagnosed + {rejected:,} rejected",
        "读取 {read:,} {records} = 已诊断 {diagnosed:,} + 已拒收 {rejected:,}",
    ),
    "batch.resumed": (" (resumed after {after:,})", "（从第 {after:,} 条之后继续）"),
    "batch.resuming": (
        "resuming after {skipped:,} records ({diagnosed:,} diagnosed, {rejected:,} rejected)",
        "从第 {skipped:,} 条记录之后继续（已诊断 {diagnosed:,}，已拒收 {rejected:,}）",
    ),
    "batch.interrupted": ("interrupted: {count:,} records written{where}{resume}", "已中断：已写出 {count:,} 条记录{where}{resume}"),
    "batch.interrupted.to": (" to {output}", "，写在 {output}"),
    "batch.interrupted.resume": ("; rerun with --resume to continue", "；加 --resume 重新运行即可继续"),
    "batch.flat": (
        "flat export: {accounts:,} accounts and {findings:,} findings in {folder}",
        "扁平导出：{accounts:,} 个账户、{findings:,} 个原因，已写入 {folder}",
    ),
    "batch.keep_errors": (
        "use --errors {flag} to keep the rejected records with their raw text",
        "加 --errors {flag} 可以保留已拒收的记录及其原文",
    ),
    # writing outputs
    "output.stdin": ("standard input", "标准输入"),
    "output.input": ("the input {name}", "输入文件 {name}"),
    "output.overwrite": ("would overwrite an input: {option} is {input}", "会覆盖输入：{option} 指向{input}"),
    "output.overwrite.hint": ("write the output to another file", "请把输出写到另一个文件"),
    "output.same": ("{first} and {second} are the same file", "{first} 和 {second} 是同一个文件"),
    "output.same.hint": ("give each output its own file", "每个输出请用各自的文件"),
    "output.cannot_write": ("cannot write: {reason}", "无法写入：{reason}"),
    "output.full": ("the disk is full: free some space, or write elsewhere", "磁盘已满：请腾出空间，或写到别处"),
    "output.quota": ("the disk quota is used up: free some space, or write elsewhere", "磁盘配额已用完：请腾出空间，或写到别处"),
    "output.denied": ("choose a file you may write, or change the folder's permissions", "请选一个有写权限的文件，或修改文件夹的权限"),
    "output.read_only": ("the file system is read-only: write elsewhere", "文件系统是只读的：请写到别处"),
}
"""Each message's key and its (en, zh) templates."""


JSON_DETAILS: tuple[tuple[str, str], ...] = (
    ("Expecting ':' delimiter", "此处缺少冒号 :"),
    ("Expecting ',' delimiter", "此处缺少逗号 ,"),
    ("Expecting value", "此处缺少值"),
    ("Expecting property name enclosed in double quotes", "此处应是用双引号括起来的键名"),
    ("Extra data", "JSON 文本结束后还有多余内容"),
    ("Unterminated string starting at", "字符串缺少结束的引号"),
    ("Invalid control character", "字符串里有未转义的控制字符"),
    ("Invalid \\uXXXX escape", "无效的 \\uXXXX 转义"),
    ("Invalid \\escape", "无效的转义序列"),
)
"""What Python's JSON parser says is broken (the start of its message) and the same in Chinese; a message not listed stays as it is."""


def json_detail(message: str) -> Said:
    """The JSON parser's own words on what is broken, in both languages."""
    zh = next((zh for en, zh in JSON_DETAILS if message.startswith(en)), message)
    return Said(message, zh)


def say(key: str, /, **fields: Any) -> Said:
    """The message of that key, both templates filled with the same fields (a field that is itself `Said`, in its own language)."""
    en, zh = TEXTS[key]
    return Said(
        en.format(**{name: value.en if isinstance(value, Said) else value for name, value in fields.items()}),
        zh.format(**{name: value.zh if isinstance(value, Said) else value for name, value in fields.items()}),
    )


def word(key: str, lang: Lang) -> str:
    """A text of the catalog that takes no field, in one language."""
    return TEXTS[key][1 if lang == "zh" else 0]


def shown(value: Any, lang: Lang = "en", limit: int = 60) -> str:
    """A short, literal rendering of a bad value for an error message (an object or a list only named)."""
    if isinstance(value, str):
        text = repr(value)
    elif value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        text = word("value.object", lang)
    elif isinstance(value, list):
        text = word("value.list", lang)
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def got(value: Any) -> Said:
    """A bad value as shown in each language (for a template's `{got}` field)."""
    return Said(shown(value, "en"), shown(value, "zh"))


def unknown_fields(paths: list[str], lang: str) -> str:
    """The warning for fields the contract does not define, in that language: the first twenty, and how many more."""
    more = say("frame.and_more", count=len(paths) - 20) if len(paths) > 20 else Said("", "")
    fields = Said(", ".join(paths[:20]) + more.en, "、".join(paths[:20]) + more.zh)
    return say("warn.unknown_fields", fields=fields).text("zh" if lang == "zh" else "en")
