"""The term report's prose around its numbers (工作总结的文字).

Each of the eight sections is a text in which the numbers stand as named marks, 【已排查】, so
that a leader may rewrite the words while the numbers stay those computed from the data:
`values(n)` gives every mark's value for a report's numbers (`report.term_numbers`),
`generated(n)` the system's own text of each section (chosen by the numbers: "no letters this
term" when there were none), and `render` puts the values in. A leader's text is stored per
school or town, term and section (`models.ReportText`) and replaces the generated one until it
is reset; a mark the report does not know is refused (`check`). Paragraphs are lines.
"""

import re
from typing import Any

from guanai.lib.errors import Invalid

from . import services

MARK = re.compile(r"【([^【】\s]{1,20})】")
HEADINGS = (
    "一、着力宣传，营造氛围",
    "二、深入调研，夯实基础",
    "三、规范管理，注重细节",
    "四、结对帮扶，关爱儿童",
    "五、家校联系，及时沟通",
    "六、依托载体，丰富活动",
    "七、强化监督，抓好落实",
    "八、创新思路，延伸爱心",
)
MAX_LENGTH = 3000


def pct(done: int, total: int) -> str:
    return f"{done * 100 / total:.1f}%" if total else "—"


def values(n: dict[str, Any]) -> dict[str, str]:
    """Every mark's value for the report's numbers, as written in the text."""
    cats, names = n["by_category"], services.CATEGORY_NAMES
    letters, scr, ver = n["letters"], n["screening"], n["verification"]
    pairing, contacts, visits = n["pairing"], n["contacts"], n["visits"]
    v: dict[str, Any] = {
        "截至日期": f"{n['until']:%Y年%m月%d日}",
        "信件批次": letters["batches"],
        "信件份数": letters["sent"],
        "信件涉及学生": letters["children"],
        "回执收回份数": letters["returned"],
        "回执收回率": pct(letters["returned"], letters["sent"]),
        "宣传稿": n.get("publicity", 0),
        "排查次数": scr["campaigns"],
        "应排查": scr["students"],
        "已排查": scr["screened"],
        "排查完成率": pct(scr["screened"], scr["students"]),
        "排查认定": "，".join(f"{names[c]} {scr['found'][c]} 人" for c in services.CATEGORIES),
        "未开展排查的学校": "、".join(scr["schools_without"]) or "无",
        "在读学生": n["children"],
        "单留守": cats["single"],
        "双留守": cats["double"],
        "留守儿童": n["left_behind"],
        "留守儿童占比": pct(n["left_behind"], n["children"]),
        "随迁子女": cats["migrant"],
        "非留守": cats["none"],
        "未摸排": cats["unknown"],
        "民政口径": n["civil_affairs"],
        "档卡": n["children"],
        "完整档卡": n["complete"],
        "不完整档卡": n["incomplete"],
        "核实轮数": ver["rounds"],
        "应核实": ver["cards"],
        "已核实": ver["verified"],
        "核实完成率": pct(ver["verified"], ver["cards"]),
        "在帮结对": pairing["pairs"],
        "新结对": pairing["new"],
        "应结对": pairing["to_pair"],
        "已结对": pairing["paired"],
        "结对率": pct(pairing["paired"], pairing["to_pair"]),
        "未结对": pairing["to_pair"] - pairing["paired"],
        "代理家长": pairing["proxy_parents"],
        "有代理家长的儿童": pairing["proxy_children"],
        "家校联系": contacts["total"],
        "联系方式": "，".join(
            f"{contacts['kind_names'][k]} {c} 次" for k, c in contacts["by_kind"].items() if c
        ),
        "联系涉及学生": contacts["children"],
        "发送消息": contacts["messages"],
        "普访学生": visits["students"],
        "普访留守儿童": visits["left_behind"],
        "已家访学生": visits["visited"],
        "家访学生占比": pct(visits["visited"], visits["students"]),
        "留守儿童已家访": visits["left_behind_visited"],
        "留守儿童家访率": pct(visits["left_behind_visited"], visits["left_behind"]),
        "留守儿童未家访": visits["left_behind"] - visits["left_behind_visited"],
        "未收回回执": letters["sent"] - letters["returned"],
        # Activities and inspections: their features fill these in (n["activities"], …).
        "活动次数": n.get("activities", 0),
        "督导次数": n.get("inspections", 0),
    }
    v["下一步事项"] = _todo(n)
    return {k: str(x) for k, x in v.items()}


def _todo(n: dict[str, Any]) -> str:
    cats, pairing, visits, letters = n["by_category"], n["pairing"], n["visits"], n["letters"]
    todo = []
    if cats["unknown"]:
        todo.append(f"完成 {cats['unknown']} 名学生的父母状况摸排")
    if n["incomplete"]:
        todo.append(f"补全 {n['incomplete']} 张不完整的档卡")
    if pairing["to_pair"] > pairing["paired"]:
        todo.append(f"为尚未结对的 {pairing['to_pair'] - pairing['paired']} 名儿童落实结对帮扶")
    if visits["left_behind"] > visits["left_behind_visited"]:
        todo.append(
            f"对尚未家访的 {visits['left_behind'] - visits['left_behind_visited']} 名留守儿童完成普访"
        )
    if letters["sent"] > letters["returned"]:
        todo.append(f"催收 {letters['sent'] - letters['returned']} 份家长信回执")
    return "；".join(f"{i}. {t}" for i, t in enumerate(todo, 1))


def generated(n: dict[str, Any]) -> list[str]:
    """The system's text of each section (marks, not numbers), one line a paragraph."""
    out = []
    if n["letters"]["sent"]:
        out.append(
            "本学期共印发《致家长的一封信》【信件批次】 批、【信件份数】 份，涉及学生 【信件涉及学生】 人；"
            "收回签字回执 【回执收回份数】 份，回执收回率 【回执收回率】。"
        )
    else:
        out.append("本学期系统中没有印发《致家长的一封信》的记录。")
    if n.get("publicity"):
        out[-1] += "发布活动宣传稿 【宣传稿】 篇（新闻稿、宣传栏、公众号）。"

    scr = n["screening"]
    para = []
    if scr["campaigns"]:
        para.append(
            "开学初开展摸底排查，应排查学生 【应排查】 人，已排查 【已排查】 人，"
            "完成率 【排查完成率】。排查认定：【排查认定】。"
        )
    else:
        para.append("本学期系统中没有摸底排查的记录。")
    if scr["schools_without"] and scr["campaigns"]:
        para.append("尚未开展本学期摸底排查的学校：【未开展排查的学校】。")
    para.append(
        "截至 【截至日期】，在读学生 【在读学生】 人，其中单留守 【单留守】 人、双留守 【双留守】 人，"
        "合计留守儿童 【留守儿童】 人（学籍口径，占 【留守儿童占比】）；随迁子女 【随迁子女】 人，"
        "非留守 【非留守】 人，尚未摸排 【未摸排】 人。"
        "按民政口径（未满16周岁、农村户口，父母均外出务工或一方外出另一方无监护能力）统计，"
        "农村留守儿童 【民政口径】 人。"
    )
    out.append("\n".join(para))

    para = [
        (
            "按“一人一卡”建立档卡 【档卡】 张，其中信息完整 【完整档卡】 张，尚不完整 【不完整档卡】 张"
            "（缺身份证号或学籍号、出生日期、村、父母状况，或留守儿童缺监护人及电话）。"
        )
    ]
    if n["verification"]["rounds"]:
        para.append(
            "放假前逐年级、逐人核实档卡，开展核实 【核实轮数】 轮，应核实 【应核实】 张，"
            "已核实 【已核实】 张，完成率 【核实完成率】。"
        )
    else:
        para.append("本学期系统中没有假期前核实的记录。")
    out.append("\n".join(para))

    out.append(
        "按“就近就地、年龄相仿”原则结对，截至 【截至日期】在帮结对 【在帮结对】 对，"
        "本学期新结对 【新结对】 对。应结对的留守儿童和随迁子女 【应结对】 人，已结对 【已结对】 人，"
        "结对率 【结对率】。\n"
        "在册代理家长 【代理家长】 人；有代理家长的儿童 【有代理家长的儿童】 人。"
    )

    out.append(
        (
            "本学期记录家校联系 【家校联系】 次（【联系方式】），涉及学生 【联系涉及学生】 人；"
            if n["contacts"]["total"]
            else "本学期系统中没有家校联系记录；"
        )
        + "通过校信通等渠道向家长发送消息 【发送消息】 条。\n"
        "普访：本学期已家访学生 【已家访学生】 人，占在读学生 【普访学生】 人的 【家访学生占比】；"
        "其中留守儿童已家访 【留守儿童已家访】 人，占留守儿童 【普访留守儿童】 人的 【留守儿童家访率】。"
    )
    out.append(
        "本学期开展活动 【活动次数】 次。" if n.get("activities") else "本学期系统中没有记录活动。"
    )
    out.append(
        "本学期开展督导检查 【督导次数】 次。"
        if n.get("inspections")
        else "本学期系统中没有督导检查记录。"
    )
    out.append(
        (
            "下一步，【下一步事项】。"
            if _todo(n)
            else "下一步，继续做好留守儿童的动态管理，保持档卡完整、结对和家访全覆盖。"
        )
        + "\n同时总结经验，建立关爱留守儿童的长效工作机制，将爱心延续。"
    )
    return out


def render(text: str, marks: dict[str, str]) -> list[str]:
    """The paragraphs of a section's text with each mark's value put in (an unknown mark, which
    `check` keeps out, is left as written)."""
    filled = MARK.sub(lambda m: marks.get(m[1], m[0]), text)
    return [line.strip() for line in filled.splitlines() if line.strip()]


def check(texts: dict[int, str], marks: dict[str, str]) -> dict[int, str]:
    """A leader's texts, cleaned; raises Invalid naming each section with an empty text, one
    too long or a mark the report does not know."""
    errors, out = {}, {}
    for section, raw in texts.items():
        text = "\n".join(line.rstrip() for line in (raw or "").replace("\r\n", "\n").split("\n"))
        text = text.strip()
        key = f"section_{section}"
        unknown = sorted({m for m in MARK.findall(text) if m not in marks})
        if not text:
            errors[key] = "请填写这一部分的文字，或点“恢复生成的文字”"
        elif len(text) > MAX_LENGTH:
            errors[key] = f"不能超过 {MAX_LENGTH} 个字"
        elif unknown:
            errors[key] = (
                "没有这些数字：" + "、".join(f"【{m}】" for m in unknown) + "；可用的数字见下方"
            )
        else:
            out[section] = text
    if errors:
        raise Invalid(errors)
    return out
