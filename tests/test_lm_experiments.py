"""Smoke tests of `tapegrad experiment charlm` and `tapegrad experiment embeddings` at tiny sizes."""
import csv
import math
import os
import random
from collections import Counter

import pytest

import tapegrad as torch
from tapegrad.experiments import EXPERIMENTS, main
from tapegrad.experiments import charlm, embeddings

TINY_LM = ["--layers", "1", "--heads", "2", "--embed", "16", "--context", "16", "--batch", "8", "--no-progress"]
FRUITS = "apple banana cherry grape lemon mango".split()
COLOURS = "red green blue yellow purple orange".split()


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _one_line_error(code, err):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err and "error:" in lines[0], err
    return lines[0]


@pytest.fixture(scope="module")
def repetitive(tmp_path_factory):
    """A small repetitive text: three sentences in random order."""
    r = random.Random(0)
    sentences = ["the cat sat on the mat.", "a dog ran in the park.", "the bird sang a song."]
    path = tmp_path_factory.mktemp("text") / "small.txt"
    path.write_text("\n".join(r.choice(sentences) for _ in range(300)) + "\n", encoding="utf-8")
    return path


def _unigram_entropy(text):
    counts = Counter(text)
    return -sum(c / len(text) * math.log(c / len(text)) for c in counts.values())


# ---------------------------------------------------------------- charlm
def test_both_are_listed(capsys):
    code, out, _ = _run(capsys, "--help")
    assert code == 0 and "charlm" in out and "embeddings" in out and {"charlm", "embeddings"} <= set(EXPERIMENTS)
    code, out, _ = _run(capsys, "charlm", "--help")
    assert code == 0 and all(o in out for o in ("--layers", "--heads", "--embed", "--context", "--batch", "--steps",
                                                "--lr", "--text", "--sample-chars", "--tensorboard"))


def test_charlm_learns_below_the_unigram_entropy(capsys, tmp_path, repetitive):
    code, out, err = _run(capsys, "charlm", "--text", repetitive, *TINY_LM, "--steps", 300, "--sample-chars", 80,
                          "--out", tmp_path)
    assert code == 0, err
    text = repetitive.read_text(encoding="utf-8")
    entropy = _unigram_entropy(text[:int(0.9 * len(text))])
    assert f"entropy of {entropy:.3f} nats/char" in out          # the baseline the experiment reports
    rows = _read_csv(tmp_path / "charlm.csv")
    assert [int(r["step"]) for r in rows] == list(range(0, 301, 30))
    val = [float(r["val_loss"]) for r in rows]
    train = [float(r["train_loss"]) for r in rows]
    assert abs(val[0] - math.log(len(set(text)))) < 0.15       # untrained: about uniform over the characters
    assert val[-1] < val[0] - 1.5 and train[-1] < train[0] - 1.5
    assert val[-1] < entropy - 1.0, (val[-1], entropy)        # context helps: far below the unigram entropy
    sample = (tmp_path / "charlm_sample.txt").read_text(encoding="utf-8")
    assert len(sample) == 80 and set(sample) <= set(text)
    assert sample in out
    assert any(w in sample for w in ("the ", "cat", "dog", "bird", "sang", "mat"))


def test_charlm_sampling_is_reproducible(capsys, tmp_path, repetitive):
    samples = []
    for seed, folder in ((3, "a"), (3, "b"), (4, "c")):
        code, _, err = _run(capsys, "charlm", "--text", repetitive, *TINY_LM, "--steps", 20, "--sample-chars", 60,
                            "--seed", seed, "--temperature", 1.5, "--out", tmp_path / folder)
        assert code == 0, err
        samples.append((tmp_path / folder / "charlm_sample.txt").read_text(encoding="utf-8"))
    assert samples[0] == samples[1]
    assert samples[0] != samples[2]
    losses = [[(r["train_loss"], r["val_loss"]) for r in _read_csv(tmp_path / f / "charlm.csv")] for f in "abc"]
    assert losses[0] == losses[1] and losses[0] != losses[2]   # training is reproducible too


def test_charlm_model_is_causal_with_tied_weights():
    torch.manual_seed(0)
    model = charlm.CharTransformer(vocab_size=11, context=8, embed=16, heads=4, layers=2).eval()
    assert model.lm_head.weight is model.wte.weight
    x = torch.randint(0, 11, (2, 8))
    y = x.clone()
    y[:, 5] = (y[:, 5] + 1) % 11                               # change the 6th character only
    with torch.no_grad():
        a, b = model(x)[0], model(y)[0]
    assert torch.allclose(a[:, :5], b[:, :5], atol=1e-6)       # the earlier positions cannot see it
    assert not torch.allclose(a[:, 5:], b[:, 5:], atol=1e-4)
    decay, other = charlm.param_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and other["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"])
    names = {id(p): n for n, p in model.named_parameters()}
    assert {names[id(p)] for p in decay["params"]} == {n for n in names.values()
                                                      if n.endswith("weight") and (".attn." in n or ".mlp." in n)}
    assert len(decay["params"]) + len(other["params"]) == len(list(model.parameters()))
    f = charlm.warmup_cosine(10, 110)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0) and f(10) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.55) and f(110) == pytest.approx(0.1)


def test_charlm_default_text_is_tapegrads_own():
    text, source = charlm.read_text(None)
    assert "tapegrad" in source and "import tapegrad" in text and len(text) > 100_000


# ---------------------------------------------------------------- embeddings
@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Two disjoint groups of words that co-occur only within their group (blocks of 60 words)."""
    r = random.Random(0)
    blocks = [" ".join(r.choice(FRUITS if b % 2 == 0 else COLOURS) for _ in range(60)) + "." for b in range(40)]
    path = tmp_path_factory.mktemp("text") / "planted.txt"
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_embeddings_find_the_planted_groups(capsys, tmp_path, planted, model):
    words = FRUITS + COLOURS
    code, out, err = _run(capsys, "embeddings", "--text", planted, "--model", model, "--min-count", 1, "--subsample", 0,
                          "--dim", 16, "--window", 2, "--epochs", 3, "--batch", 256, "--lr", 0.05, "--words",
                          ",".join(words), "--neighbours", 5, "--out", tmp_path, "--no-progress")
    assert code == 0, err
    rows = _read_csv(tmp_path / "embeddings.csv")
    assert len(rows) == 5 * len(words)
    group = {w: FRUITS if w in FRUITS else COLOURS for w in words}
    for r in rows:                                             # each word's 5 nearest neighbours: its own group
        assert r["neighbour"] in group[r["word"]] and r["neighbour"] != r["word"], r
    first = {r["word"]: r["neighbour"] for r in rows if r["rank"] == "1"}
    assert set(first) == set(words)
    assert f"{first['red']} (" in out


def test_embeddings_pieces():
    assert embeddings.tokenize("Tensor.float32 = conv2d(x_1) über 3d") == ["tensor", "float32", "conv2d", "x", "über",
                                                                            "d"]
    vocab = embeddings.Vocabulary("b a b c b a".split(), min_count=2)
    assert vocab.words == ["b", "a"] and vocab.counts.tolist() == [3.0, 2.0]
    assert vocab.encode("a c b".split()).tolist() == [1, 0]
    ids = torch.arange(6)
    centres, contexts = embeddings.skipgram_pairs(ids, 2, torch.Generator().manual_seed(0))
    pairs = set(zip(centres.tolist(), contexts.tolist()))
    assert all(1 <= abs(a - b) <= 2 for a, b in pairs) and {(a, a + 1) for a in range(5)} <= pairs
    centres, context = embeddings.cbow_windows(ids, 2, torch.Generator().manual_seed(0), pad=6)
    assert centres.tolist() == list(range(6)) and context.shape == (6, 4)
    for c, row in zip(centres.tolist(), context.tolist()):
        assert all(w == 6 or 1 <= abs(w - c) <= 2 for w in row) and (c + 1 in row or c - 1 in row)
    keep = embeddings.keep_probabilities(torch.tensor([1.0, 999.0], dtype=torch.float64), 1e-3)
    assert keep[0].item() == 1.0 and keep[1].item() < 0.1


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("name", ["charlm", "embeddings"])
def test_bad_text_path(capsys, tmp_path, name):
    line = _one_line_error(*_run(capsys, name, "--text", tmp_path / "nowhere.txt", "--out", tmp_path)[::2])
    assert "--text" in line and "nowhere.txt" in line and "does not exist" in line
    line = _one_line_error(*_run(capsys, name, "--text", tmp_path, "--out", tmp_path / "o")[::2])
    assert "is a folder" in line
    (tmp_path / "bin").write_bytes(b"\x00\x01\x02" * 100)
    line = _one_line_error(*_run(capsys, name, "--text", tmp_path / "bin", "--out", tmp_path / "o")[::2])
    assert "binary" in line
    assert not os.path.exists(tmp_path / "o")                  # nothing written by a failed run


def test_other_bad_input(capsys, tmp_path, repetitive, planted):
    line = _one_line_error(*_run(capsys, "charlm", "--text", repetitive, "--context", 5000, "--out", tmp_path)[::2])
    assert "--context 5000" in line and "too few" in line
    line = _one_line_error(*_run(capsys, "charlm", "--embed", 30, "--heads", 4, "--out", tmp_path)[::2])
    assert "--embed 30" in line and "--heads 4" in line
    line = _one_line_error(*_run(capsys, "charlm", "--text", repetitive, "--prompt", "xyz", "--out", tmp_path)[::2])
    assert "--prompt" in line
    line = _one_line_error(*_run(capsys, "embeddings", "--text", planted, "--min-count", 1, "--words", "apple,kiwi",
                                 "--out", tmp_path)[::2])
    assert "'kiwi'" in line and "not in the vocabulary" in line
    line = _one_line_error(*_run(capsys, "embeddings", "--model", "glove", "--out", tmp_path)[::2])
    assert "--model" in line
