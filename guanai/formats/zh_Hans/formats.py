"""Simplified Chinese formats, as Django ships them but for one thing: a date field's value is
written as 2026-12-05. Django's zh_Hans writes 2026/12/05 first, which <input type="date">
refuses: the field showed blank and the browser blocked the form. What people type in either
form is still read; everything else (how dates are displayed) comes from Django's own module."""

DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # '2016-09-05', what <input type="date"> sends and shows
    "%Y/%m/%d",  # '2016/09/05'
    "%Y年%m月%d日",  # '2016年9月5日'
]

DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M",  # '2016-09-05 20:45'
    "%Y-%m-%d %H:%M:%S",  # '2016-09-05 20:45:29'
    "%Y-%m-%d %H:%M:%S.%f",  # '2016-09-05 20:45:29.000200'
    "%Y/%m/%d %H:%M",  # '2016/09/05 20:45'
    "%Y/%m/%d %H:%M:%S",  # '2016/09/05 20:45:29'
    "%Y年%m月%d日 %H:%M",  # '2016年9月5日 20:45'
    "%Y年%m月%d日 %H:%M:%S",  # '2016年9月5日 20:45:29'
]
