"""Site extractors on pages written in each site's shape (our own text, their structure)."""

from __future__ import annotations

import json
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.config import Endpoints
from tracker.crawl.sites import Page, api_call, cnblogs, csdn, generic, github, site_for, zhihu
from tracker.crawl.sites.html import main_text, parse, reading_stats


def page(url: str, html: str | bytes, status: int = 200, charset: str | None = None, final_url: str | None = None,
         headers: dict[str, str] | None = None) -> Page:
    body = html.encode("utf-8") if isinstance(html, str) else html
    return Page(url=url, final_url=final_url or url, status=status, headers=headers or {}, body=body,
                charset=charset)


ARTICLE = """<!doctype html><html lang="en"><head><title>Understanding pooling | Deep Notes</title>
<meta name="description" content="Why max pooling works.">
<meta property="og:title" content="Understanding pooling layers">
<meta property="og:site_name" content="Deep Notes"><meta property="og:type" content="article">
<meta property="article:published_time" content="2024-03-01T10:00:00Z">
<meta name="twitter:card" content="summary">
<meta name="author" content="Grace Hopper">
<link rel="canonical" href="/posts/pooling">
<script type="application/ld+json">{"@type": "BlogPosting", "headline": "LD headline",
 "dateModified": "2024-03-05", "author": {"name": "Grace Hopper"}}</script>
<script type="application/ld+json">{ broken json </script>
</head><body><nav>Home About</nav><article><h1>Understanding pooling</h1>
<p>""" + "Pooling reduces spatial size. " * 300 + """</p><script>var tracking = "not text";</script></article>
</body></html>"""


def test_generic_reads_head_metadata_and_text_length() -> None:
    out = generic.extract(page("https://notes.example.org/p?id=1", ARTICLE))
    assert out.title == "Understanding pooling layers"
    m = out.meta
    assert m["description"] == "Why max pooling works." and m["site_name"] == "Deep Notes"
    assert m["canonical_url"] == "https://notes.example.org/posts/pooling" and m["language"] == "en"
    assert m["authors"] == ["Grace Hopper"] and m["published"] == "2024-03-01T10:00:00Z"
    assert m["modified"] == "2024-03-05" and m["type"] == "article"
    assert m["word_count"] > 1200 and m["reading_minutes"] == round(m["word_count"] / 230)
    assert "not text" not in out.text and out.text.startswith("Home About Understanding pooling")


def test_generic_prefers_citation_title_and_keeps_citation_fields() -> None:
    html = """<html><head><title>ignored</title><meta name="citation_title" content="Deep Residual Learning">
    <meta name="citation_author" content="He, Kaiming"><meta name="citation_author" content="Zhang, Xiangyu">
    <meta name="citation_doi" content="10.1109/CVPR.2016.90"><meta name="citation_pdf_url" content="/x.pdf">
    <meta name="citation_publication_date" content="2016/06/27"></head><body></body></html>"""
    out = generic.extract(page("https://papers.example.org/resnet", html))
    assert out.title == "Deep Residual Learning"
    assert out.meta["authors"] == ["He, Kaiming", "Zhang, Xiangyu"] and out.meta["doi"] == "10.1109/CVPR.2016.90"
    assert out.meta["published"] == "2016/06/27"


def test_chinese_pages_in_gbk_and_wrong_charsets_do_not_break() -> None:
    html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"><title>循环神经网络详解' \
           '</title></head><body><p>长短期记忆网络</p></body></html>'
    gbk = html.encode("gbk")
    assert generic.extract(page("http://old.example.cn/a", gbk)).title == "循环神经网络详解"
    assert generic.extract(page("http://old.example.cn/a", gbk, charset="gb18030")).title == "循环神经网络详解"
    wrong = generic.extract(page("http://old.example.cn/a", gbk, charset="utf-8"))  # the header lied
    assert wrong.title is not None and "\ufffd" in wrong.title


def test_deeply_nested_and_empty_pages_degrade_quietly() -> None:
    nested = "<html><head><title>deep</title></head><body>" + "<div>" * 100_000 + "x" + "</div>" * 100_000
    out = generic.extract(page("https://e.org/deep", nested))
    assert out.title == "deep"
    assert generic.extract(page("https://e.org/empty", b"")).title is None


ZHIHU_Q = """<html><head><title>如何理解卷积神经网络中的池化？ - 知乎</title>
<meta itemprop="keywords" content="深度学习,卷积神经网络"></head><body>
<h1 class="QuestionHeader-title">如何理解卷积神经网络中的池化？</h1>
<meta itemprop="answerCount" content="87"><meta itemprop="zhihu:followerCount" content="1532">
<script id="js-initialData" type="text/json">{"initialState": {"entities": {"questions": {"29366574": {
"title": "如何理解卷积神经网络中的池化？", "answerCount": 88, "followerCount": 1533, "visitCount": 400000,
"topics": [{"name": "深度学习"}, {"name": "卷积神经网络"}], "detail": "池化层有什么用"}}}}}</script></body></html>"""


def test_zhihu_question_title_counts_and_topics() -> None:
    url = "https://www.zhihu.com/question/29366574"
    assert site_for(url) is zhihu
    out = zhihu.extract(page(url, ZHIHU_Q))
    assert out.blocked is None and out.title == "如何理解卷积神经网络中的池化？"
    assert (out.meta["answer_count"], out.meta["follower_count"], out.meta["visit_count"]) == (88, 1533, 400000)
    assert out.meta["topics"] == ["深度学习", "卷积神经网络"]
    fallback = zhihu.extract(page(url, ZHIHU_Q.split("<script id")[0] + "</body></html>"))
    assert (fallback.meta["answer_count"], fallback.meta["follower_count"]) == (87, 1532)
    assert fallback.meta["topics"] == ["深度学习", "卷积神经网络"]


def test_zhihu_column_article() -> None:
    url = "https://zhuanlan.zhihu.com/p/31727402"
    html = """<html><head><title>GAN 入门 - 知乎</title></head><body><h1 class="Post-Title">GAN 入门</h1>
    <script id="js-initialData" type="text/json">{"initialState": {"entities": {"articles": {"31727402": {
    "title": "生成对抗网络入门", "author": {"name": "张三"}, "created": 1514764800, "updated": 1514851200,
    "voteupCount": 2048}}}}}</script><p>生成器与判别器的博弈。</p></body></html>"""
    assert site_for(url) is zhihu
    out = zhihu.extract(page(url, html))
    assert out.title == "生成对抗网络入门" and out.meta["authors"] == ["张三"] and out.meta["vote_count"] == 2048
    assert out.meta["published"] == 1514764800 and out.meta["modified"] == 1514851200
    signin = "<html><head><title>知乎 - 有问题，就会有答案</title></head><body>登录</body></html>"
    wall = zhihu.extract(page(url, signin))
    assert wall.blocked == "zhihu page without the article's data"


@pytest.mark.parametrize(("status", "body", "final"), [
    (403, json.dumps({"error": {"code": 40362, "message": "您当前请求存在异常"}}), None),
    (200, "<html><body>ok</body></html>", "https://www.zhihu.com/account/unhuman?type=unhuman"),
    (200, "<html><head><title>安全验证 - 知乎</title></head><body>系统监测到您的网络环境存在异常</body></html>", None),
    (200, "<html><head><title>知乎</title></head><body>登录后查看更多</body></html>", None),
])
def test_zhihu_walls_are_blocked(status: int, body: str, final: str | None) -> None:
    url = "https://www.zhihu.com/question/1"
    p = page(url, body, status=status, final_url=final)
    reason = zhihu.blocked_status(p) if status != 200 else zhihu.extract(p).blocked
    assert reason and "zhihu" in reason


CSDN_ARTICLE = """<html><head><title>LSTM 原理详解_张三的博客-CSDN博客</title></head><body>
<h1 class="title-article" id="articleContentId">LSTM 原理详解</h1>
<div class="bar-content"><a class="follow-nickName">张三</a>
<span class="time">于&nbsp;2021-05-01 12:30:00&nbsp;发布</span><span class="read-count">1.2w</span></div>
<div class="tags-box"><a class="tag-link" href="/t1">深度学习</a><a class="tag-link" href="/t2">LSTM</a>
<a class="tag-link" href="/t2">LSTM</a></div><div id="content_views"><p>门控机制。</p></div></body></html>"""


def test_csdn_article() -> None:
    url = "https://blog.csdn.net/zhangsan/article/details/116300000"
    assert site_for(url) is csdn
    out = csdn.extract(page(url, CSDN_ARTICLE))
    assert out.title == "LSTM 原理详解" and out.meta["tags"] == ["深度学习", "LSTM"]
    assert out.meta["published"] == "2021-05-01 12:30:00" and out.meta["authors"] == ["张三"]
    assert out.meta["view_count"] == 12000 and not out.children


def test_csdn_challenge_page_served_with_200_is_blocked() -> None:
    html = "<html><head><title>安全验证</title><script src='/_waf_/verify.js'></script></head><body>" \
           "<div id='captcha'>请完成验证后继续访问</div></body></html>"
    out = csdn.extract(page("https://blog.csdn.net/u/article/details/1", html))
    assert out.blocked == "csdn verification page"


def test_csdn_listing_gives_capped_same_host_article_children() -> None:
    links = "".join(f'<a href="/zhangsan/article/details/{i}">第{i}篇</a>' for i in range(10))
    links += '<a href="/zhangsan/article/details/3#comments">dup</a><a href="https://other.net/article/details/9">x</a>'
    links += '<a href="javascript:void(0)">js</a><a href="/zhangsan/category_2.html">another list</a>'
    # Links off the listing's host never become items, so none can lead the crawl into this machine's network.
    links += '<a href="http://127.0.0.1/zhangsan/article/details/11">local</a>' \
             '<a href="http://10.0.0.5/zhangsan/article/details/12">lan</a>' \
             '<a href="file:///zhangsan/article/details/13">file</a>'
    url = "https://blog.csdn.net/zhangsan/category_1.html"
    out = csdn.extract(page(url, f"<html><head><title>专栏</title></head><body>{links}</body></html>"))
    assert out.meta["listing"] is True
    assert [c.url for c in out.children] == [f"https://blog.csdn.net/zhangsan/article/details/{i}" for i in range(10)]
    assert out.children[3].title == "第3篇"


def test_a_listing_with_fifty_thousand_links_is_quick_and_bounded() -> None:
    links = "".join(f'<a href="/p/{i}.html">post {i}</a>' for i in range(50_000))
    url = "https://www.cnblogs.com/someone/default.html?page=2"
    start = time.perf_counter()
    out = cnblogs.extract(page(url, f"<html><body>{links}</body></html>"))
    assert time.perf_counter() - start < 3
    assert len(out.children) == 500 and out.children[0].url == "https://www.cnblogs.com/p/0.html"


def test_cnblogs_post_and_tag_page() -> None:
    post = """<html><head><title>图神经网络综述 - 李四 - 博客园</title></head><body>
    <h1 class="postTitle"><a id="cb_post_title_url" class="postTitle2" href="#">图神经网络综述</a></h1>
    <div id="cnblogs_post_body"><p>GCN 与 GAT。</p></div><span id="post-date">2022-08-09 10:11</span>
    <div id="EntryTag">标签: <a href="/lisi/tag/GNN/">GNN</a></div></body></html>"""
    url = "https://www.cnblogs.com/lisi/p/16565000.html"
    assert site_for(url) is cnblogs
    out = cnblogs.extract(page(url, post))
    assert out.title == "图神经网络综述" and out.meta["published"] == "2022-08-09 10:11"
    assert out.meta["authors"] == ["lisi"] and out.meta["tags"] == ["GNN"] and not out.children
    tag = cnblogs.extract(page("https://www.cnblogs.com/lisi/tag/GNN/", '<a href="/lisi/p/1.html">一</a>'
                               '<a href="/lisi/archive/2020/01/02/2.html">二</a><a href="/lisi/tag/GAT/">GAT</a>'))
    assert [c.title for c in tag.children] == ["一", "二"] and tag.meta["listing"] is True


def test_github_routing_api_call_and_extraction() -> None:
    ends = Endpoints("a", "r", "http://127.0.0.1:1/gh", None, 0)
    assert site_for("https://github.com/pytorch/pytorch") is github
    assert site_for("https://github.com/pytorch/pytorch/blob/main/README.md") is github
    assert site_for("https://github.com/topics/deep-learning") is generic
    assert site_for("https://github.com/pytorch") is generic
    call = api_call("https://github.com/pytorch/pytorch.git", ends)
    assert call is not None and call.url == "http://127.0.0.1:1/gh/repos/pytorch/pytorch"
    assert ("Authorization", "Bearer t0k") in api_call("https://github.com/a/b", Endpoints("a", "r", "g", "t0k", 0)
                                                        ).headers  # type: ignore[union-attr]
    assert not any(h == "Authorization" for h, _ in call.headers)
    assert api_call("https://www.zhihu.com/question/1", ends) is None
    repo = {"full_name": "pytorch/pytorch", "description": "Tensors and dynamic neural networks",
            "stargazers_count": 90000, "forks_count": 24000, "topics": ["deep-learning"], "language": "Python",
            "archived": False, "pushed_at": "2026-11-24T10:00:00Z", "license": {"spdx_id": "BSD-3-Clause"}}
    out = github.extract(page(call.url, json.dumps(repo)))
    assert out.title == "pytorch/pytorch: Tensors and dynamic neural networks"
    assert (out.meta["stars"], out.meta["archived"], out.meta["license"]) == (90000, False, "BSD-3-Clause")
    assert (out.meta["language"], out.meta["pushed_at"], out.meta["topics"]) == ("Python", "2026-11-24T10:00:00Z",
                                                                                ["deep-learning"])
    assert github.extract(page(call.url, '{"message": "Not Found"}', status=404)).meta == {"api_message": "Not Found"}
    assert github.extract(page(call.url, "not json")).title is None


def test_extraction_of_a_realistic_page_costs_a_few_milliseconds() -> None:
    body = ARTICLE.replace("Pooling reduces spatial size. " * 300, "卷积神经网络的池化层。" * 8000)
    p = page("https://notes.example.org/x", body)
    generic.extract(p)
    start = time.perf_counter()
    for _ in range(20):
        generic.extract(p)
    per_page = (time.perf_counter() - start) / 20
    assert len(p.body) > 100_000 and per_page < 0.05  # the bench holds the real budget; this catches blow-ups


def test_absurdly_nested_json_and_unknown_charsets_do_not_escape() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    html = f'<html><head><title>t</title><script type="application/ld+json">{deep}</script></head><body>' \
           f'<script id="js-initialData" type="text/json">{deep}</script></body></html>'
    assert generic.extract(page("https://e.org/x", html)).title == "t"
    assert zhihu.extract(page("https://www.zhihu.com/question/5", html)).blocked is not None
    assert generic.extract(page("https://e.org/x", "<title>ok</title>", charset="x-unknown-cs")).title == "ok"


def test_a_utf16_meta_label_on_an_ascii_page_is_read_as_utf8() -> None:
    out = generic.extract(page("https://e.org/x", '<meta charset="utf-16"><title>Plain</title>'))
    assert out.title == "Plain"


def test_head_metadata_without_a_usable_lxml_tree_comes_from_bs4() -> None:
    from tracker.crawl.sites.html import head_tags, parse

    doc = parse(page("https://e.org/x", ARTICLE))
    from_lxml = head_tags(doc)
    doc.tree = None
    from_bs4 = head_tags(doc)
    assert from_lxml["meta"] == from_bs4["meta"] and from_lxml["title"] == from_bs4["title"]
    assert from_lxml["links"] == from_bs4["links"] and from_lxml["ld"] == from_bs4["ld"]


_MIXED = "ab XY 09'-\n。，中文㐀㿿䀀鿿豈﫿ＡＢ…—\u3000\u33ffé\U00020000"


@given(st.text(alphabet=st.sampled_from(list(_MIXED)), max_size=60))
@settings(max_examples=300, deadline=None)
def test_reading_stats_counts_han_characters_and_ascii_words(text: str) -> None:
    # Counted on encoded bytes for speed; the plain definition: each Han character of the BMP blocks
    # U+3400..U+9FFF and U+F900..U+FAFF is a word, and so is each run of ASCII letters and digits
    # once apostrophes and hyphens are dropped.
    han = sum(1 for c in text if "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff")
    words = len(re.findall(r"[A-Za-z0-9]+", text.replace("'", "").replace("-", "")))
    stats = reading_stats(text)
    assert stats["word_count"] == han + words
    assert stats["text_chars"] == len(text)


def test_main_text_leaves_out_scripts_styles_and_svg() -> None:
    html = ("<html><head><title>t</title><style>.a{}</style></head><body><p>visible <b>bold</b> tail</p>"
            "<script>var hidden = 1;</script><style>.x{color:red}</style><svg><text>chart label</text></svg>"
            "<noscript>enable js</noscript><!-- a comment -->after</body></html>")
    assert main_text(parse(page("https://x.example/", html))) == "visible bold tail after"


def test_generic_reads_dublin_core_and_twitter_cards() -> None:
    html = """<html><head><title>ignored too</title>
    <meta name="DC.title" content="Graph Attention Networks"><meta name="DC.creator" content="Veličković, Petar">
    <meta name="DC.date.issued" content="2018-02-04"><meta name="DC.language" content="en">
    <meta name="DC.identifier" content="10.48550/arXiv.1710.10903"><meta name="DC.description" content="GAT.">
    <meta name="twitter:card" content="summary_large_image"><meta name="twitter:image" content="/gat.png">
    </head><body></body></html>"""
    out = generic.extract(page("https://repo.example.org/gat", html))
    assert out.title == "Graph Attention Networks"
    m = out.meta
    assert (m["authors"], m["published"], m["language"]) == (["Veličković, Petar"], "2018-02-04", "en")
    assert (m["doi"], m["description"], m["twitter_card"], m["image"]) == (
        "10.48550/arXiv.1710.10903", "GAT.", "summary_large_image", "/gat.png")
    tweet = generic.extract(page("https://e.org/t", '<meta name="twitter:title" content="From the card">'
                                 '<meta name="twitter:description" content="Said on the card.">'))
    assert tweet.title == "From the card" and tweet.meta["description"] == "Said on the card."


@pytest.mark.parametrize(("encoding", "charset"), [("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16")])
def test_a_byte_order_mark_outranks_the_header_and_the_meta(encoding: str, charset: str) -> None:
    from tracker.crawl import charset as charsets

    body = '<html><head><meta charset="gbk"><title>卷积神经网络</title></head></html>'.encode(encoding)
    assert charsets.detect("text/html; charset=gbk", body) == charset
    assert charsets.detect(None, body) == charset
    assert generic.extract(page("https://e.org/bom", body, charset=charset)).title == "卷积神经网络"


PAGES = __import__("pathlib").Path(__file__).parent / "pages"


def _fixture(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def test_csdn_acw_sc_v2_script_page_is_blocked_wherever_it_is_served() -> None:
    """CSDN's Alibaba Cloud WAF answers 200 with only a script that computes `acw_sc__v2` from `arg1`."""
    body = _fixture("csdn_acw_sc_v2.html")
    headers = {"content-type": "text/html; charset=utf-8"}
    for url in ("https://blog.csdn.net/zhangsan/article/details/116300000",
                "https://blog.csdn.net/zhangsan/category_1234.html", "https://blog.csdn.net/zhangsan"):
        out = csdn.extract(page(url, body, headers=headers))
        assert out.blocked == "csdn anti-bot script page (acw_sc__v2)", url
        assert out.title is None and out.text == "" and out.children == ()
    # The same page on any other host is a wall too.
    assert generic.extract(page("https://docs.example.cn/a", body)).blocked == "anti-bot script page (acw_sc__v2)"


@pytest.mark.parametrize("script", [
    "document.cookie='__chk=1;path=/';location.reload();",
    "setTimeout(function(){window.location.href='/?__js=1'},100)",
    "var s='x';document.location = '/verify?' + s;",
])
def test_any_page_that_is_only_a_script_challenge_is_blocked(script: str) -> None:
    html = f"<html><head><title>Just a moment</title></head><body><script>{script}</script>" \
           "<noscript>Please enable JavaScript</noscript></body></html>"
    for module, url in ((generic, "https://site.example/post/1"), (cnblogs, "https://www.cnblogs.com/u/p/1.html"),
                        (csdn, "https://blog.csdn.net/u/article/details/1")):
        out = module.extract(page(url, html))
        assert out.blocked is not None and "script challenge" in out.blocked, module.NAME


@pytest.mark.parametrize("html", [
    # An app shell with no text but no cookie or reload either: not a wall, just nothing to read.
    '<html><head><title>App</title></head><body><div id="root"></div><script src="/app.js"></script>'
    "<script>window.__STATE__={}</script></body></html>",
    # A page with text that also sets a cookie.
    "<html><body><p>Pooling halves the map.</p><script>document.cookie='seen=1'</script></body></html>",
])
def test_pages_with_text_or_without_a_challenge_script_are_not_walls(html: str) -> None:
    assert generic.extract(page("https://site.example/x", html)).blocked is None


def test_csdn_title_suffix_is_cut_whatever_the_user_name_holds() -> None:
    url = "https://blog.csdn.net/ex_user/category_12345678.html"
    out = csdn.extract(page(url, _fixture("csdn_column_listing.html")))
    assert out.title == "深度学习笔记专栏"
    # The nickname on the page, unlike the id in the URL, also holds separators.
    article = ("<html><head><title>LSTM 原理_张_三-x的博客-CSDN博客</title></head><body>"
               "<a class='follow-nickName'>张_三-x</a><p>门控机制。</p></body></html>")
    assert csdn.extract(page("https://blog.csdn.net/zhangsan/article/details/1", article)).title == "LSTM 原理"
    # Without a name to go by, the plain rule still cuts a name without separators.
    assert csdn.extract(page("https://blog.csdn.net/zhangsan/article/details/2",
                             "<title>GRU 详解_李四的博客-CSDN博客</title>")).title == "GRU 详解"


def test_csdn_column_listing_children_take_their_titles_from_the_title_element() -> None:
    url = "https://blog.csdn.net/ex_user/category_12345678.html"
    out = csdn.extract(page(url, _fixture("csdn_column_listing.html")))
    assert out.meta["listing"] is True
    assert [(c.url.split("?")[0], c.title) for c in out.children] == [
        ("https://blog.csdn.net/ex_user/article/details/100000001", "卷积神经网络的池化层"),
        ("https://blog.csdn.net/ex_user/article/details/100000002", "LSTM 的门控机制"),
        ("https://blog.csdn.net/ex_user/article/details/100000003", "注意力机制入门"),
    ]


def test_csdn_blog_home_children_skip_type_badges_and_summaries() -> None:
    out = csdn.extract(page("https://blog.csdn.net/zhangsan", _fixture("csdn_blog_list.html")))
    assert out.title == "张_三的博客"
    assert [c.title for c in out.children] == ["LSTM 原理详解", "梯度消失与梯度爆炸"]


def test_cnblogs_listing_children_take_the_title_link_not_read_more_or_the_summary() -> None:
    out = cnblogs.extract(page("https://www.cnblogs.com/lisi/tag/GAN/", _fixture("cnblogs_listing.html")))
    assert out.meta["listing"] is True
    assert [(c.url, c.title) for c in out.children] == [
        ("https://www.cnblogs.com/lisi/p/16565000.html", "生成对抗网络的训练技巧"),
        ("https://www.cnblogs.com/lisi/p/16570000.html", "WGAN 与推土机距离"),
        ("https://www.cnblogs.com/lisi/archive/2022/09/01/16651234.html", "条件 GAN 笔记"),
        # An image link and a "read more" come first; the link's title attribute beats its long text.
        ("https://www.cnblogs.com/lisi/p/16700000.html", "StyleGAN 读后感"),
    ]


def test_crawled_listings_over_http_give_titled_children_that_show_their_parent(
        cli, server, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loopback server plays CSDN (a column listing, and its acw_sc__v2 wall for one article) through the proxy."""
    from tests.conftest import reply
    from tests.crawl.test_crawl_cmd import FAST

    monkeypatch.setenv("HTTP_PROXY", server.base)
    column = "http://blog.csdn.net/ex_user/category_12345678.html"
    walled = "http://blog.csdn.net/zhangsan/article/details/116300000"
    server.routes[column] = reply(200, _fixture("csdn_column_listing.html").replace(b"https://", b"http://"))
    server.routes[walled] = reply(200, _fixture("csdn_acw_sc_v2.html"))
    outline = tmp_path / "l.md"
    outline.write_text(f"## 深度学习\n\n- [专栏]({column})\n- [LSTM]({walled})\n", encoding="utf-8")
    cli("import", str(outline))
    summary = cli.json("crawl", *FAST)
    assert summary["discovered"] == 3 and summary["blocked"] == 1
    wall = cli.json("show", walled)
    assert wall["fetch"]["state"] == "blocked" and wall["fetch"]["http_status"] == 200
    assert wall["fetch"]["error"] == "csdn anti-bot script page (acw_sc__v2)"

    listing = cli.json("show", column)
    assert listing["fetch"]["title"] == "深度学习笔记专栏" and listing["parent"] is None
    assert [c["title"] for c in listing["children"]] == ["卷积神经网络的池化层", "LSTM 的门控机制", "注意力机制入门"]
    first = listing["children"][0]
    assert first["url"] == "http://blog.csdn.net/ex_user/article/details/100000001"
    child = cli.json("show", str(first["id"]))
    assert child["parent"] == {"id": listing["id"], "url": column} and child["children"] == []
    assert child["title"] == "卷积神经网络的池化层"
    text = cli("show", str(first["id"])).stdout
    assert f"found on: #{listing['id']} {column}" in text
    text = cli("show", column).stdout
    assert "links to 3 item(s):" in text and f"#{first['id']} 卷积神经网络的池化层" in text
