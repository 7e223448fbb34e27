"""URL normalization, arXiv ids and link kinds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.urls import host_of, kind_from_url, normalize_url, parse_arxiv_id


@pytest.mark.parametrize(("raw", "expected"), [
    ("https://www.zhihu.com/question/111?utm_source=x&rf=2", "https://www.zhihu.com/question/111"),
    ("https://www.zhihu.com/question/27239198?rf=24827633", "https://www.zhihu.com/question/27239198"),
    ("https://zhuanlan.zhihu.com/p/222/", "https://zhuanlan.zhihu.com/p/222"),
    ("HTTP://WWW.Example.COM:80/a/B/?x=1&utm_medium=y#frag", "http://www.example.com/a/B?x=1"),
    ("https://example.com:443", "https://example.com/"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com/", "https://example.com/"),
    ("www.example.com/path/", "http://www.example.com/path"),
    ("  https://example.com/a  ", "https://example.com/a"),
    ("https://example.com/search?q=b&a=1&fbclid=z&gclid=y", "https://example.com/search?q=b&a=1"),
    ("https://example.com/x?rf=1", "https://example.com/x?rf=1"),  # rf is tracking on Zhihu only
    ("https://blog.csdn.net/u/article/details/1?spm=1001.2014&depth_1-utm_source=x", "https://blog.csdn.net/u/article/details/1"),
    ("https://medium.com/@a/post-1?source=rss", "https://medium.com/@a/post-1"),
    ("https://example.com/page#section-2", "https://example.com/page"),
    ("https://example.com/#/app/route", "https://example.com/#/app/route"),
    ("https://zh.wikipedia.org/wiki/深度学习", "https://zh.wikipedia.org/wiki/%E6%B7%B1%E5%BA%A6%E5%AD%A6%E4%B9%A0"),
    ("https://zh.wikipedia.org/wiki/%e6%b7%b1%E5%BA%A6", "https://zh.wikipedia.org/wiki/%E6%B7%B1%E5%BA%A6"),
    ("https://example.com/%7Euser/a%20b", "https://example.com/~user/a%20b"),
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://example.com/100%", "https://example.com/100%25"),
    ("https://arxiv.org/pdf/1512.03385v1.pdf", "https://arxiv.org/abs/1512.03385"),
    ("http://export.arxiv.org/abs/1512.03385v3", "https://arxiv.org/abs/1512.03385"),
    ("https://www.arxiv.org/abs/hep-th/9901001v2", "https://arxiv.org/abs/hep-th/9901001"),
    ("https://arxiv.org/list/cs.LG/recent", "https://arxiv.org/list/cs.LG/recent"),
    ("mailto:someone@example.com", "mailto:someone@example.com"),
])
def test_normalize_url(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


def test_two_spellings_of_one_page_are_one_url() -> None:
    assert normalize_url("https://www.zhihu.com/question/38098038?rf=34729519") == normalize_url(
        "https://www.zhihu.com/question/38098038")
    assert normalize_url("https://zh.wikipedia.org/wiki/深度") == normalize_url(
        "https://zh.wikipedia.org/wiki/%E6%B7%B1%E5%BA%A6")
    assert normalize_url("https://arxiv.org/abs/1512.03385v2") == normalize_url("arxiv.org/pdf/1512.03385.pdf")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="htps:/wexampl.comWX?&=#%2Fa学 _-~utm_rf[]@:8", max_size=40))
def test_normalize_is_idempotent_and_total(raw: str) -> None:
    once = normalize_url(raw)
    assert normalize_url(once) == once


@pytest.mark.parametrize(("text", "expected"), [
    ("1512.03385", "1512.03385"),
    ("arXiv:1512.03385v2", "1512.03385"),
    ("arxiv: 1512.03385", "1512.03385"),
    ("https://arxiv.org/abs/1512.03385v3", "1512.03385"),
    ("https://arxiv.org/pdf/1512.03385v1", "1512.03385"),
    ("https://arxiv.org/pdf/1512.03385.pdf", "1512.03385"),
    ("https://arxiv.org/pdf/1512.03385v2.pdf", "1512.03385"),
    ("http://export.arxiv.org/abs/1512.03385", "1512.03385"),
    ("https://www.arxiv.org/abs/1512.03385", "1512.03385"),
    ("arxiv.org/abs/2101.00001", "2101.00001"),
    ("0704.0001", "0704.0001"),
    ("hep-th/9901001", "hep-th/9901001"),
    ("math.GT/0309136", "math/0309136"),
    ("cs/0112017v1", "cs/0112017"),
    ("https://arxiv.org/abs/cs/0112017v1", "cs/0112017"),
    ("https://arxiv.org/abs/math.GT/0309136", "math/0309136"),
])
def test_parse_arxiv_id(text: str, expected: str) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize("text", [
    "1.2", "2019.1234", "2023-05-01", "1512.0338", "1512.033855", "1412.03385", "0612.1234", "v1.2.3",
    "https://example.com/abs/1512.03385", "https://github.com/x/1512.03385", "foo/1234567", "math/0313136",
    "see 1512.03385 here", "",
])
def test_not_arxiv_ids(text: str) -> None:
    assert parse_arxiv_id(text) is None


@pytest.mark.parametrize(("link", "expected"), [
    # Tails that links pick up when pasted from a viewer, a chat or a sentence.
    ("https://arxiv.org/pdf/1112.6209.pdf&embed", "1112.6209"),
    ("http://arxiv.org/pdf/1112.6209.pdf?download", "1112.6209"),
    ("https://arxiv.org/abs/1512.03385v2#", "1512.03385"),
    ("https://arxiv.org/abs/1512.03385v2%23", "1512.03385"),
    ("https://arxiv.org/pdf/1512.03385v2.pdf#page=3", "1512.03385"),
    ("https://arxiv.org/pdf/1512.03385.pdf%20", "1512.03385"),
    ("arxiv.org/pdf/1512.03385v2.pdf)", "1512.03385"),
    ("https://www.arxiv.org/abs/1512.03385.", "1512.03385"),
    ("https://arxiv.org/abs/1512.03385v2;", "1512.03385"),
    ("https://arxiv.org/abs/1512.03385?context=cs", "1512.03385"),
    ("https://arxiv.org/abs/1512.03385的论文", "1512.03385"),
    ("https://arxiv.org/abs/hep-th/9901001v2&x", "hep-th/9901001"),
    ("https://arxiv.org/abs/arXiv:1512.03385", "1512.03385"),
    # The same paper on arXiv's other hosts, its mirrors and renderings, and its DOI.
    ("https://ar5iv.labs.arxiv.org/html/1512.03385", "1512.03385"),
    ("https://ar5iv.org/abs/1512.03385v1", "1512.03385"),
    ("http://xxx.lanl.gov/abs/hep-th/9901001", "hep-th/9901001"),
    ("https://www.arxiv-vanity.com/papers/1512.03385/", "1512.03385"),
    ("https://www.alphaxiv.org/abs/2401.01234", "2401.01234"),
    ("https://doi.org/10.48550/arXiv.1512.03385", "1512.03385"),
    ("https://dx.doi.org/10.48550/ARXIV.2401.01234", "2401.01234"),
])
def test_arxiv_ids_in_every_link_form(link: str, expected: str) -> None:
    assert parse_arxiv_id(link) == expected
    assert normalize_url(link) == f"https://arxiv.org/abs/{expected}"
    assert kind_from_url(link) == "paper"


@pytest.mark.parametrize("link", [
    "https://arxiv.org/abs/1512.033850",  # a sixth digit: another number, not a tail
    "https://arxiv.org/abs/1512.03385v2v3",
    "https://arxiv.org/abs/1512.03385abc",
    "https://arxiv.org.evil.example/abs/1512.03385",
    "https://arxiv.org@evil.example/abs/1512.03385",
    "https://notarxiv.org/abs/1512.03385",
    "https://doi.org/10.1109/CVPR.2016.90",
    "https://arxiv.org/list/cs.LG/recent",
])
def test_links_that_only_look_like_arxiv_links(link: str) -> None:
    assert parse_arxiv_id(link) is None
    assert normalize_url(link) not in ("https://arxiv.org/abs/1512.03385", "https://arxiv.org/abs/1512.0338")


@pytest.mark.parametrize(("url", "kind"), [
    (None, "book"),
    ("", "book"),
    ("https://arxiv.org/abs/1512.03385", "paper"),
    ("https://openreview.net/forum?id=abc", "paper"),
    ("http://www.cs.toronto.edu/~hinton/science.pdf", "paper"),
    ("https://doi.org/10.1126/science.1127647", "paper"),
    ("https://papers.nips.cc/paper/4824-imagenet", "paper"),
    ("https://aclanthology.org/N19-1423", "paper"),
    ("https://openaccess.thecvf.com/content_cvpr_2016/html/He_Deep.html", "paper"),
    ("https://www.zhihu.com/question/41231774", "question"),
    ("https://www.zhihu.com/question/41231774/answer/677109582", "question"),
    ("https://stackoverflow.com/questions/1/how", "question"),
    ("https://zhuanlan.zhihu.com/p/31561570", "article"),
    ("https://blog.csdn.net/linolzhang/article/details/79721762", "article"),
    ("https://www.cnblogs.com/someone/p/1234567.html", "article"),
    ("https://cloud.tencent.com/developer/article/1117796", "article"),
    ("https://www.jianshu.com/p/abc123", "article"),
    ("https://medium.com/@someone/a-post-1a2b", "article"),
    ("https://lilianweng.github.io/2018/06/24/attention.html", "article"),
    ("https://blog.example.com/why-resnets-work", "article"),
    ("https://blog.csdn.net/app_12062011/article/category/6673389", "listing"),
    ("https://blog.csdn.net/someone/category_1234.html", "listing"),
    ("https://www.cnblogs.com/darkknightzh/tag/DeepLearning", "listing"),
    ("https://www.cnblogs.com/someone/category/987.html", "listing"),
    ("https://zhuanlan.zhihu.com/someones-column", "listing"),
    ("https://github.com/topics/deep-learning", "listing"),
    ("https://github.com/d2l-ai/d2l-zh", "repo"),
    ("https://github.com/d2l-ai/d2l-zh/tree/master/chapter", "repo"),
    ("https://gitlab.com/group/project", "repo"),
    ("https://github.com/d2l-ai", "page"),
    ("http://speech.ee.ntu.edu.tw/~tlkagk/courses_MLDS18.html", "course"),
    ("http://cs231n.stanford.edu/", "course"),
    ("https://web.stanford.edu/class/cs224n/", "course"),
    ("https://www.coursera.org/learn/neural-networks", "course"),
    ("https://www.edx.org/course/x", "course"),
    ("https://www.icourse163.org/course/x", "course"),
    ("http://lamda.nju.edu.cn/weixs/book/CNN_book.html", "book"),
    ("https://www.deeplearningbook.org/", "book"),
    ("https://en.wikipedia.org/wiki/Backpropagation", "page"),
    ("http://zh.d2l.ai/", "page"),
    ("ftp://example.com/file.pdf", "page"),
])
def test_kind_from_url(url: str | None, kind: str) -> None:
    assert kind_from_url(url) == kind


def test_kind_ignores_ids_but_not_dates() -> None:
    # The kind cache groups URLs by shape; a date path must still make an article.
    assert kind_from_url("https://example.com/2019/05/x") == "article"
    assert kind_from_url("https://example.com/1234/56789") == "page"
    assert kind_from_url("https://blog.csdn.net/u1/article/details/1") == "article"
    assert kind_from_url("https://blog.csdn.net/u2/article/category/2") == "listing"


def test_host_of() -> None:
    assert host_of("https://WWW.Zhihu.com:443/question/1") == "www.zhihu.com"
    assert host_of("www.example.org/x") == "www.example.org"
    assert host_of("https://user:pw@example.com/") == "example.com"
    assert host_of(None) == ""
    assert host_of("not a url") == ""
