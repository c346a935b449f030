"""Top words of customers' free text (survey comments, ticket descriptions), segmented with
jieba. Free text and the words made from it are for complaint handlers only: the callers
check complaints.handle before any text is read."""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

import jieba

# Words that say nothing about the service: particles, pronouns, fillers, and English
# function words. Kept small on purpose: a word like 不 (not) or 慢 (slow) stays.
_STOP_TEXT = """
    的 了 是 我 你 他 她 它 我们 你们 他们 这 那 这个 那个 就 也 都 和 与 及 在 有 很 太 还
    又 被 把 给 让 对 吧 吗 呢 啊 呀 哦 嗯 么 着 过 会 要 说 个 一 一个 一下 没 没有 非常 比较
    觉得 感觉 真的 什么 怎么 因为 所以 但是 而且 然后 已经 还是 就是 可以 自己 这样 那样
    a an and are as at be but by for from had has have i in is it its me my of on or
    our so that the their them then there they this to too us very was we were what when
    which who will with would you your
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
# Letters, digits and CJK ideographs make a word; anything without them is punctuation.
_WORDLIKE = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff]")
_NUMBER = re.compile(r"[0-9.,%]+")
_lock = threading.Lock()
_tokenizer: Any = None


def _segmenter() -> Any:
    """jieba's tokenizer, with its dictionary loaded once, on first use (about half a
    second): the app starts without it, and the threads of a busy server share it."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _tokenizer = tokenizer
        return _tokenizer


def words_of(text: str) -> list[str]:
    """The meaningful words of one text: English lower-cased; no stop words, punctuation,
    white space or bare numbers."""
    found = []
    for token in _segmenter().lcut(text):
        word = token.strip().lower()
        if not word or word in STOP_WORDS or _NUMBER.fullmatch(word):
            continue
        if _WORDLIKE.search(word):
            found.append(word)
    return found


def top_words(texts: Iterable[str], limit: int) -> list[tuple[str, int]]:
    """The ``limit`` most frequent words with their counts; ties in first-seen order."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(words_of(text))
    return counts.most_common(limit)
