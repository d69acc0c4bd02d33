"""Word vectors learned with word2vec's skip-gram or CBOW model and negative sampling."""
import argparse
import collections
import keyword
import math
import re
import time

import tapegrad as torch
from tapegrad import nn
from tapegrad.nn import functional as F

from ._common import ExperimentError, Table, make_parser, positive_float, positive_int, say, write_csv
from .charlm import read_text

NAME = "embeddings"
SUMMARY = "word vectors by skip-gram or CBOW with negative sampling: nearest neighbours of a few words"

DESCRIPTION = """\
word2vec (Mikolov et al., 2013) on a text: the text is split into lowercased words, words seen fewer
than --min-count times are dropped, frequent words are randomly thinned (--subsample), and two
embedding tables (nn.Embedding) are trained with Adam:
  skipgram  each word predicts the words within a random window of up to --window words on each side;
  cbow      the mean of the window's words predicts the word in the middle.
Each prediction is a logistic regression of the true word against --negatives words drawn from the
unigram distribution raised to the power 3/4 (negative sampling, with torch.multinomial). Words that
occur in similar contexts end with similar vectors: the table lists, for a few frequent words (or
--words), their nearest neighbours by cosine similarity of the input vectors.

The default text is tapegrad's own README and Python sources (code, docstrings and comments), so the
default run works offline; its words are code words (float32's neighbours are float64 and float16).

examples:
  tapegrad experiment embeddings
  tapegrad experiment embeddings --model cbow --words tensor,grad,float32,conv2d
  tapegrad experiment embeddings --text book.txt --min-count 10 --dim 100 --epochs 3"""


def word_list(text):
    words = [w.strip().lower() for w in text.split(",") if w.strip()]
    if not words:
        raise argparse.ArgumentTypeError(f"expected comma-separated words, got {text!r}")
    return words


def parser():
    p = make_parser(NAME, DESCRIPTION, epochs=5, epochs_help="passes over the text")
    p.set_defaults(_uses_data=True)   # --data is reported as ignored in run() (the text comes from --text)
    g = p.add_argument_group("text")
    g.add_argument("--text", metavar="FILE", default=None,
                   help="a UTF-8 text file (default: tapegrad's README.md and Python sources)")
    g.add_argument("--min-count", type=positive_int, default=5, metavar="N",
                   help="drop words seen fewer than N times (default: 5)")
    g.add_argument("--subsample", type=float, default=1e-3, metavar="T",
                   help="thin out words more frequent than T (word2vec's sample; 0: keep all) (default: 0.001)")
    g = p.add_argument_group("model")
    g.add_argument("--model", choices=["skipgram", "cbow"], default="skipgram", help="(default: skipgram)")
    g.add_argument("--dim", type=positive_int, default=64, help="vector size (default: 64)")
    g.add_argument("--window", type=positive_int, default=5,
                   help="largest distance between a word and its context words (default: 5)")
    g.add_argument("--negatives", type=positive_int, default=5, help="negative samples per prediction (default: 5)")
    g.add_argument("--batch", "--batch-size", dest="batch_size", type=positive_int, default=1024, metavar="N",
                   help="predictions per mini-batch (default: 1024)")
    g.add_argument("--lr", type=positive_float, default=0.005, help="Adam learning rate (default: 0.005)")
    g = p.add_argument_group("neighbours")
    g.add_argument("--words", type=word_list, default=None, metavar="LIST",
                   help="comma-separated words to show (default: a few frequent words)")
    g.add_argument("--neighbours", type=positive_int, default=5, metavar="K",
                   help="nearest neighbours shown per word (default: 5)")
    return p


# ---------------------------------------------------------------- text and vocabulary
WORD = re.compile(r"[^\W\d_][^\W_]*")   # a letter, then letters and digits: float32, conv2d, über
STOP = set("""a an and are as at be but by for from has have in into is it its not of on or so that the
their then there these this to was were when which while with will would can do does each one two than
also all any only other such same see more most""".split()) | {k.lower() for k in keyword.kwlist}
# words worth looking at in tapegrad's own files (the default text); the first present are shown
DEFAULT_WORDS = ["tensor", "float32", "backward", "conv2d", "mean", "optimizer", "shape", "true", "mnist", "cuda"]


def tokenize(text):
    return WORD.findall(text.lower())


class Vocabulary:
    """Words seen at least `min_count` times, most frequent first."""

    def __init__(self, words, min_count):
        counts = collections.Counter(words)
        kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        self.words = kept
        self.index = {w: i for i, w in enumerate(kept)}
        self.counts = torch.tensor([counts[w] for w in kept], dtype=torch.float64)

    def __len__(self):
        return len(self.words)

    def encode(self, words):
        """Word ids of the words in the vocabulary (the others are dropped, as word2vec does)."""
        index = self.index
        return torch.tensor([index[w] for w in words if w in index], dtype=torch.long)


def keep_probabilities(counts, t):
    """word2vec's subsampling: a word of frequency f > t is kept with probability sqrt(t/f) + t/f."""
    if t <= 0:
        return torch.ones_like(counts)
    f = counts / counts.sum()
    return ((f / t).sqrt() + 1).mul(t / f).clamp(max=1.0)


def skipgram_pairs(ids, window, g):
    """(centre, context) pairs: each centre word with the words within a random window of 1..window
    words on each side (word2vec's reduced windows, which weight near words more)."""
    n = len(ids)
    reach = torch.randint(1, window + 1, (n,), generator=g)
    centres, contexts = [], []
    for d in range(1, min(window, n - 1) + 1):
        near = reach[:n - d] >= d          # centre i sees i + d
        centres.append(ids[:n - d][near])
        contexts.append(ids[d:][near])
        near = reach[d:] >= d              # centre i sees i - d
        centres.append(ids[d:][near])
        contexts.append(ids[:n - d][near])
    if not centres:
        return ids[:0], ids[:0]
    return torch.cat(centres), torch.cat(contexts)


def cbow_windows(ids, window, g, pad):
    """(centre, context (n, 2 * window)) with `pad` where a random window of 1..window words on each
    side ends or the text does; centres without any context are left out."""
    n = len(ids)
    reach = torch.randint(1, window + 1, (n,), generator=g)
    offsets = torch.tensor([d for d in range(-window, window + 1) if d], dtype=torch.long)
    pos = torch.arange(n).unsqueeze(1) + offsets
    valid = (pos >= 0) & (pos < n) & (offsets.abs() <= reach.unsqueeze(1))
    context = torch.where(valid, ids[pos.clamp(0, max(n - 1, 0))], torch.full_like(pos, pad))
    has = valid.any(1)
    return ids[has], context[has]


# ---------------------------------------------------------------- the models
class SkipGram(nn.Module):
    """word2vec's skip-gram with negative sampling: centre vectors (`in_embed`) score context words
    through a second table (`out_embed`)."""

    def __init__(self, vocab_size, dim):
        super().__init__()
        self.in_embed = nn.Embedding(vocab_size, dim)
        self.out_embed = nn.Embedding(vocab_size, dim)
        nn.init.uniform_(self.in_embed.weight, -0.5 / dim, 0.5 / dim)   # word2vec's initialisation
        nn.init.zeros_(self.out_embed.weight)

    def centre(self, centres):
        return self.in_embed(centres)

    def forward(self, centres, targets, negatives):
        """Negative-sampling loss: -log sigmoid(v . u_target) - sum over negatives of log sigmoid(-v . u_neg)."""
        v = self.centre(centres)                                        # (B, D)
        positive = (v * self.out_embed(targets)).sum(-1)                # (B,)
        negative = torch.bmm(self.out_embed(negatives), v.unsqueeze(2)).squeeze(2)   # (B, K)
        return -(F.logsigmoid(positive) + F.logsigmoid(-negative).sum(1)).mean()

    def vectors(self):
        return self.in_embed.weight.detach()


class CBOW(SkipGram):
    """word2vec's continuous bag of words: the mean of the context words' vectors scores the centre word.
    Context rows are padded with index `vocab_size` (a zero vector, padding_idx)."""

    def __init__(self, vocab_size, dim):
        super().__init__(vocab_size, dim)
        self.in_embed = nn.Embedding(vocab_size + 1, dim, padding_idx=vocab_size)
        nn.init.uniform_(self.in_embed.weight, -0.5 / dim, 0.5 / dim)
        with torch.no_grad():
            self.in_embed.weight[vocab_size].zero_()

    def centre(self, context):
        real = (context != self.in_embed.padding_idx).sum(1, keepdim=True).clamp(min=1)
        return self.in_embed(context).sum(1) / real

    def vectors(self):
        return self.in_embed.weight.detach()[:-1]


def nearest(vectors, queries, k):
    """For each query id, the k other words of highest cosine similarity: (similarities, ids), (Q, k)."""
    unit = F.normalize(vectors, dim=1)
    sims = unit[queries] @ unit.T
    sims[torch.arange(len(queries)), queries] = -float("inf")
    return sims.topk(min(k, len(vectors) - 1), dim=1)


# ---------------------------------------------------------------- the experiment
def choose_words(args, vocab):
    if args.words:
        missing = [w for w in args.words if w not in vocab.index]
        if missing:
            raise ExperimentError(f"--words: {', '.join(repr(w) for w in missing)} not in the vocabulary (words seen "
                                  f"at least --min-count {args.min_count} times; e.g. "
                                  f"{', '.join(vocab.words[:8])})")
        return args.words
    if args.text is None:
        chosen = [w for w in DEFAULT_WORDS if w in vocab.index][:8]
        if len(chosen) >= 4:
            return chosen
    frequent = [w for w in vocab.words if w not in STOP and len(w) > 2]
    return (frequent or vocab.words)[:8]


def run(args, out):
    if args.data is not None:
        say(f"note: {NAME} learns from the text of --text FILE; --data is ignored")
    if args.subsample < 0 or not math.isfinite(args.subsample):
        raise ExperimentError(f"--subsample {args.subsample}: expected 0 or a small positive number such as 0.001")
    text, source = read_text(args.text)
    words = tokenize(text)
    vocab = Vocabulary(words, args.min_count)
    if len(vocab) < 2:
        raise ExperimentError(f"--text {args.text or source}: {len(words)} words, {len(vocab)} of them seen at least "
                              f"--min-count {args.min_count} times: too few to learn from (lower --min-count or "
                              "give a longer text)")
    ids = vocab.encode(words)
    queries = choose_words(args, vocab)
    say(f"text: {source}: {len(words):,} words, {len(set(words)):,} distinct; vocabulary: {len(vocab):,} words seen "
        f"{args.min_count}+ times ({len(ids):,} occurrences)")

    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    model = (SkipGram if args.model == "skipgram" else CBOW)(len(vocab), args.dim)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    noise = vocab.counts ** 0.75                      # the negative-sampling distribution (unnormalised)
    keep = keep_probabilities(vocab.counts, args.subsample)
    n_params = sum(p.numel() for p in model.parameters())
    say(f"model: {args.model}, {args.dim}-d vectors ({n_params:,} parameters), window "
        f"{args.window}, {args.negatives} negatives; Adam lr {args.lr:g}, batch {args.batch_size}, {args.epochs} "
        f"epoch(s), subsampling {args.subsample:g}, seed {args.seed}")

    tb = out.tensorboard()
    table = Table([("epoch", "epoch", "d"), ("tokens", "tokens kept", "d"), ("examples", "examples", "d"),
                   ("loss", "loss", ".4f"), ("time_s", "time (s)", ".1f")])
    curve = []
    step = 0
    try:
        for epoch in range(1, args.epochs + 1):
            start = time.perf_counter()
            kept = ids[torch.rand(len(ids), generator=g) < keep[ids]]
            if args.model == "skipgram":
                inputs, targets = skipgram_pairs(kept, args.window, g)       # centre words, context words
            else:
                targets, inputs = cbow_windows(kept, args.window, g, pad=len(vocab))   # centres, windows
            n = len(targets)
            if n == 0:
                raise ExperimentError(f"--text {args.text or source}: no word has a neighbour to learn from")
            order = torch.randperm(n, generator=g)
            total, batches = 0.0, range(0, n, args.batch_size)
            bar = out.progress(batches, desc=f"epoch {epoch}/{args.epochs}", unit="batch")
            try:
                for i in bar:
                    b = order[i:i + args.batch_size]
                    negatives = torch.multinomial(noise, len(b) * args.negatives, replacement=True,
                                                  generator=g).view(len(b), args.negatives)
                    loss = model(inputs[b], targets[b], negatives)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    value = loss.item()
                    total += value * len(b)
                    step += 1
                    if step % 20 == 0:
                        curve.append((epoch - 1 + (i + len(b)) / n, value))
                        if tb is not None:
                            tb.add_scalar("loss/batch", value, step)
            finally:
                bar.close()
            table.add(dict(epoch=epoch, tokens=len(kept), examples=n, loss=total / n,
                           time_s=time.perf_counter() - start))
            if tb is not None:
                tb.add_scalar("loss/epoch", total / n, epoch)
        rows, lines = neighbour_rows(model.vectors(), vocab, queries, args.neighbours)
        if tb is not None:
            tb.add_text("neighbours", "\n\n".join(lines))
    finally:
        if tb is not None:
            tb.close()
    say(f"nearest neighbours by cosine similarity of the {args.model} input vectors:")
    shown = Table([("word", "word", str), ("count", "count", "d"), ("neighbours", "nearest neighbours (cosine)", str)])
    for word in queries:
        shown.add(dict(word=word, count=int(vocab.counts[vocab.index[word]].item()),
                       neighbours=", ".join(f"{r['neighbour']} ({r['cosine']:.2f})" for r in rows
                                            if r["word"] == word)))
    write_csv(out.path(".csv"), rows, ["word", "count", "rank", "neighbour", "neighbour_count", "cosine"])
    return [out.path(".csv"), plot(out, table.rows, curve, model.vectors(), vocab, queries, rows, args.model)]


def neighbour_rows(vectors, vocab, queries, k):
    q = torch.tensor([vocab.index[w] for w in queries], dtype=torch.long)
    sims, idx = nearest(vectors, q, k)
    rows, lines = [], []
    for word, s_row, i_row in zip(queries, sims.tolist(), idx.tolist()):
        for rank, (s, i) in enumerate(zip(s_row, i_row), 1):
            rows.append(dict(word=word, count=int(vocab.counts[vocab.index[word]].item()), rank=rank,
                             neighbour=vocab.words[i], neighbour_count=int(vocab.counts[i].item()), cosine=s))
        lines.append(f"**{word}**: " + ", ".join(f"{vocab.words[i]} ({s:.2f})" for s, i in zip(s_row, i_row)))
    return rows, lines


def plot(out, epochs, curve, vectors, vocab, queries, rows, model_name):
    fig = out.figure(figsize=(11, 4.5))
    if fig is None:
        return None
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=[1, 1.4]))
    if curve:
        ax1.plot([c[0] for c in curve], [c[1] for c in curve], "-", color="C0", alpha=0.4, lw=1, label="batches")
    ax1.plot([r["epoch"] for r in epochs], [r["loss"] for r in epochs], "o-", color="C0", label="epoch mean")
    ax1.set(xlabel="epoch", ylabel="negative-sampling loss", title=f"{model_name}: training loss")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    # the query words and their neighbours, projected on the first two principal axes of their vectors
    words = list(dict.fromkeys([w for w in queries] + [r["neighbour"] for r in rows]))
    ids = torch.tensor([vocab.index[w] for w in words], dtype=torch.long)
    x = F.normalize(vectors[ids], dim=1)
    x = x - x.mean(0)
    _, _, vt = torch.linalg.svd(x, full_matrices=False)
    xy = (x @ vt[:2].T).numpy()
    colour = {w: f"C{i % 10}" for i, w in enumerate(queries)}
    owner = {r["neighbour"]: r["word"] for r in reversed(rows)}
    for (px, py), w in zip(xy, words):
        c = colour.get(w) or colour[owner[w]]
        ax2.plot(px, py, "o", color=c, ms=6 if w in colour else 3)
        ax2.annotate(w, (px, py), fontsize=9 if w in colour else 7, color=c, xytext=(3, 2), textcoords="offset points",
                     fontweight="bold" if w in colour else "normal")
    ax2.set(title="words and their nearest neighbours (PCA of the unit vectors)", xticks=[], yticks=[])
    return out.save_figure(fig)
