"""The topic classifier, on the shipped topics file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, Cli
from tracker.topics import Classifier, TopicDef, load_topics_file


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(load_topics_file(ROOT / "seeds" / "deep-learning.topics.toml"))


def test_development_set_top1_accuracy(classifier: Classifier) -> None:
    """A development set of Chinese and English titles; the held-out set is measured elsewhere."""
    rows = [line.split("\t") for line in (ROOT / "tests" / "data" / "classify_dev.tsv")
            .read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 150
    hits = sum(1 for text, expected in rows if (classifier.classify(text) or [("", 0)])[0][0] == expected)
    assert hits / len(rows) >= 0.85, hits / len(rows)


@pytest.mark.parametrize("text, slug", [
    ("Neural Architecture Search with Reinforcement Learning", "automl"),
    ("卷积神经网络的卷积核大小是如何确定的？", "cnn"),
    ("深度学习 cnn 中，怎么理解图像进行池化（pooling）后的平移不变性？", "cnn"),
    ("What makes GANs hard to train", "gan"),
    ("Deep Q-Networks explained", "rl"),
])
def test_mixed_language_and_longest_alias(classifier: Classifier, text: str, slug: str) -> None:
    assert classifier.classify(text)[0][0] == slug


@pytest.mark.parametrize("text", ["今天天气怎么样", "How to bake bread", "the organ of a dynasty in the world",
                                  "", "？？？"])
def test_text_about_nothing_gets_no_topic(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text) == []


def test_word_boundaries() -> None:
    topics = [TopicDef("gan", "GAN", None, 0, 0, aliases=("gan",)), TopicDef("rl", "RL", None, 0, 1, aliases=("rl",))]
    c = Classifier(topics)
    assert c.classify("organ of the world") == []
    assert c.classify("GANs and RL")[0][0] == "gan"


def test_scores_are_ranked_and_bounded(classifier: Classifier) -> None:
    ranked = classifier.classify("Semi-Supervised Classification with Graph Convolutional Networks")
    assert ranked[0][0] == "gnn"
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores)
    assert classifier.classify("graph neural networks", limit=1) == ranked[:1] or len(classifier.classify(
        "graph neural networks", limit=1)) == 1


def test_heading_topics_without_aliases_use_their_titles() -> None:
    c = Classifier([TopicDef("t-1", "Reinforcement Learning", None, 0, 0), TopicDef("t-2", "图神经网络", None, 0, 1)])
    assert c.classify("A tour of reinforcement learning")[0][0] == "t-1"
    assert c.classify("图神经网络入门")[0][0] == "t-2"


def test_cli_classify_json(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    shutil.copytree(ROOT / "seeds", tmp_path / "ws" / "seeds")
    monkeypatch.chdir(tmp_path / "ws")
    # Before any import the workspace's topics file is used directly.
    guesses = cli.json("classify", "Generative Adversarial Nets")
    assert guesses[0]["slug"] == "gan" and guesses[0]["title"] == "生成对抗网络"
    assert set(guesses[0]) == {"slug", "title", "score"}
    assert cli.json("classify", "How to bake bread") == []
