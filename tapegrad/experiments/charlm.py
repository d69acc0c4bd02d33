"""A character-level Transformer language model (GPT-style) trained on a text file."""
import math
import os
import time

import numpy as np

import tapegrad as torch
from tapegrad import nn
from tapegrad.nn import functional as F

from ._common import ExperimentError, Table, make_parser, positive_float, positive_int, say

NAME = "charlm"
SUMMARY = "a small character-level Transformer language model: train / validation loss, then sampled text"

DESCRIPTION = """\
A GPT-style character-level language model: token and position embeddings, --layers blocks of
causal multi-head self-attention and an MLP (each behind a LayerNorm, with residual connections), a
final LayerNorm and an output layer that shares its weight with the token embedding. Trained on
random windows of --context characters from the first 90% of the text with AdamW (no weight decay on
biases, LayerNorms and embeddings), a linear warm-up then a cosine learning-rate decay, and gradient
clipping; the train and validation losses (nats per character, on fixed windows of the first 90% and
the last 10%) are measured every --eval-every steps and compared with the unigram baseline (each
character predicted from the training text's character frequencies). At the end, --sample-chars
characters are sampled from the model with torch.multinomial, reproducibly for a given --seed.

The default text is tapegrad's own README and Python sources, so the default run works offline.

examples:
  tapegrad experiment charlm
  tapegrad experiment charlm --text input.txt --layers 4 --heads 4 --embed 128 --context 128 --steps 5000"""


def parser():
    p = make_parser(NAME, DESCRIPTION, epochs=None)
    p.set_defaults(_uses_data=True)   # --data is reported as ignored in run() (the text comes from --text)
    g = p.add_argument_group("text")
    g.add_argument("--text", metavar="FILE", default=None,
                   help="a UTF-8 text file to learn (default: tapegrad's README.md and Python sources)")
    g = p.add_argument_group("model")
    g.add_argument("--layers", type=positive_int, default=2, help="Transformer blocks (default: 2)")
    g.add_argument("--heads", type=positive_int, default=4, help="attention heads per block (default: 4)")
    g.add_argument("--embed", type=positive_int, default=64,
                   help="embedding width, a multiple of --heads (default: 64)")
    g.add_argument("--context", type=positive_int, default=64, help="context length in characters (default: 64)")
    g.add_argument("--dropout", type=float, default=0.0, help="dropout probability (default: 0)")
    g = p.add_argument_group("training")
    g.add_argument("--steps", type=positive_int, default=1500, help="optimizer steps (default: 1500)")
    g.add_argument("--batch", "--batch-size", dest="batch_size", type=positive_int, default=32, metavar="N",
                   help="windows per mini-batch (default: 32)")
    g.add_argument("--lr", type=positive_float, default=3e-3, help="peak AdamW learning rate (default: 0.003)")
    g.add_argument("--weight-decay", type=float, default=0.1,
                   help="AdamW weight decay of the Linear layers' weights (default: 0.1)")
    g.add_argument("--warmup", type=int, default=None, metavar="STEPS",
                   help="steps of linear learning-rate warm-up (default: 5%% of --steps)")
    g.add_argument("--clip", type=positive_float, default=1.0, help="gradient-norm clipping (default: 1.0)")
    g.add_argument("--eval-every", type=positive_int, default=None, metavar="STEPS",
                   help="measure train and validation loss every STEPS steps (default: --steps / 10)")
    g.add_argument("--eval-windows", type=positive_int, default=128, metavar="N",
                   help="fixed windows of each split the losses are measured on (default: 128)")
    g = p.add_argument_group("sampling")
    g.add_argument("--sample-chars", type=int, default=500, metavar="N",
                   help="characters sampled at the end, 0 for none (default: 500)")
    g.add_argument("--temperature", type=positive_float, default=0.8,
                   help="sampling temperature: below 1 sharper, above 1 flatter (default: 0.8)")
    g.add_argument("--prompt", default=None,
                   help="text the sample continues (default: a newline, or the text's first character)")
    return p


# ---------------------------------------------------------------- the text
def default_sources():
    """tapegrad's README.md (in a source checkout) and its Python sources, in a fixed order."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = []
    readme = os.path.join(os.path.dirname(package), "README.md")
    if os.path.isfile(readme):
        files.append(readme)
    for folder, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        files += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".py")]
    return files


def read_text(path):
    """The text of --text PATH (or of tapegrad's own files when PATH is None) and a description of it."""
    if path is None:
        files = default_sources()
        parts = []
        for f in files:
            with open(f, encoding="utf-8", errors="replace") as fh:
                parts.append(fh.read())
        return "\n".join(parts), f"tapegrad's own README and sources ({len(files)} files)"
    if not os.path.exists(path):
        raise ExperimentError(f"--text {path}: does not exist")
    if os.path.isdir(path):
        raise ExperimentError(f"--text {path}: is a folder, not a text file")
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ExperimentError(f"--text {path}: cannot read it ({exc.strerror or exc})") from None
    if b"\0" in raw[:65536]:
        raise ExperimentError(f"--text {path}: looks like a binary file, not text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExperimentError(f"--text {path}: is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise ExperimentError(f"--text {path}: is empty")
    return text, path


def unigram(train, val, vocab_size):
    """(entropy of the training text's character frequencies, cross-entropy of the validation text
    under them), in nats per character; add-one smoothing gives unseen characters a probability."""
    ones = torch.ones(len(train), dtype=torch.float64)
    counts = torch.zeros(vocab_size, dtype=torch.float64).index_add_(0, train, ones)   # character counts
    p_train = counts / counts.sum()
    entropy = -(p_train[counts > 0] * p_train[counts > 0].log()).sum().item()
    p_smooth = (counts + 1) / (counts.sum() + vocab_size)
    return entropy, -p_smooth.log()[val].mean().item()


# ---------------------------------------------------------------- the model
class CausalSelfAttention(nn.Module):
    def __init__(self, embed, heads, dropout):
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.qkv = nn.Linear(embed, 3 * embed)
        self.proj = nn.Linear(embed, embed)
        self.resid_drop = nn.Dropout(dropout)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.heads, C // self.heads).transpose(1, 2)   # (B, heads, T, head size)
        k = k.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        v = v.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_drop(self.proj(y))


class MLP(nn.Module):
    def __init__(self, embed, dropout):
        super().__init__()
        self.fc = nn.Linear(embed, 4 * embed)
        self.gelu = nn.GELU(approximate="tanh")
        self.proj = nn.Linear(4 * embed, embed)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        return self.drop(self.proj(self.gelu(self.fc(x))))


class Block(nn.Module):
    def __init__(self, embed, heads, dropout):
        super().__init__()
        self.ln_1 = nn.LayerNorm(embed)
        self.attn = CausalSelfAttention(embed, heads, dropout)
        self.ln_2 = nn.LayerNorm(embed)
        self.mlp = MLP(embed, dropout)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class CharTransformer(nn.Module):
    """GPT: token + position embeddings, blocks, final LayerNorm, lm_head tied to the token embedding."""

    def __init__(self, vocab_size, context, embed, heads, layers, dropout=0.0):
        super().__init__()
        self.context = context
        self.wte = nn.Embedding(vocab_size, embed)
        self.wpe = nn.Embedding(context, embed)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(embed, heads, dropout) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(embed)
        self.lm_head = nn.Linear(embed, vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight   # weight tying
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # GPT-2: residual projections scaled by the depth
            if name.endswith("proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * layers))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        if T > self.context:
            raise ValueError(f"sequence of length {T} is longer than the context ({self.context})")
        x = self.drop(self.wte(idx) + self.wpe(torch.arange(T)))
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

    @torch.no_grad()
    def generate(self, idx, new_tokens, temperature=1.0, generator=None):
        """Append `new_tokens` tokens to idx (B, T), each drawn from the model's next-token distribution."""
        for _ in range(new_tokens):
            logits, _ = self(idx[:, -self.context:])
            probs = F.softmax(logits[:, -1, :] / temperature, dim=-1)
            idx = torch.cat([idx, torch.multinomial(probs, 1, generator=generator)], dim=1)
        return idx


def param_groups(model, weight_decay):
    """AdamW groups: weight decay on the Linear layers' weights only, not on biases, LayerNorms or
    embeddings (the tied lm_head weight is the token embedding)."""
    no_decay = {id(p) for m in model.modules() if isinstance(m, (nn.Embedding, nn.LayerNorm))
                for p in m.parameters(recurse=False)}
    decay, other = [], []
    for name, p in model.named_parameters():
        (other if id(p) in no_decay or name.endswith("bias") else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": other, "weight_decay": 0.0}]


def warmup_cosine(warmup, steps, floor=0.1):
    """Learning-rate factor at step s: linear warm-up to 1, then a cosine down to `floor`."""
    def factor(s):
        if s < warmup:
            return (s + 1) / warmup
        progress = min(1.0, (s - warmup) / max(1, steps - warmup))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
    return factor


def get_batch(data, starts, context):
    """Inputs and next-character targets (len(starts), context) of the windows starting at `starts`."""
    offsets = starts.unsqueeze(1) + torch.arange(context)
    return data[offsets], data[offsets + 1]


@torch.no_grad()
def evaluate(model, data, starts, context, batch_size):
    """Mean loss (nats per character) over the windows starting at `starts`."""
    model.eval()
    total = 0.0
    for i in range(0, len(starts), batch_size):
        x, y = get_batch(data, starts[i:i + batch_size], context)
        total += model(x, y)[1].item() * len(x)
    model.train()
    return total / len(starts)


def fixed_windows(n_chars, context, n):
    """n window starts spread evenly over a split (the same windows at every evaluation)."""
    last = n_chars - context - 1
    return torch.linspace(0, last, min(n, last + 1), dtype=torch.float64).round().long()


# ---------------------------------------------------------------- the experiment
def check_args(args):
    if args.embed % args.heads:
        raise ExperimentError(f"--embed {args.embed} is not a multiple of --heads {args.heads}")
    if not 0 <= args.dropout < 1:
        raise ExperimentError(f"--dropout {args.dropout}: expected a probability in [0, 1)")
    if args.weight_decay < 0:
        raise ExperimentError(f"--weight-decay {args.weight_decay}: expected a non-negative number")
    if args.sample_chars < 0:
        raise ExperimentError(f"--sample-chars {args.sample_chars}: expected 0 or more")
    if args.warmup is not None and not 0 <= args.warmup <= args.steps:
        raise ExperimentError(f"--warmup {args.warmup}: expected between 0 and --steps ({args.steps})")


def run(args, out):
    check_args(args)
    if args.data is not None:
        say(f"note: {NAME} learns the text of --text FILE; --data is ignored")
    text, source = read_text(args.text)
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.from_numpy(np.fromiter(map(stoi.__getitem__, text), dtype=np.int64, count=len(text)))
    n_train = int(0.9 * len(data))
    train, val = data[:n_train], data[n_train:]
    T = args.context
    if len(val) < T + 1 + 1:
        raise ExperimentError(f"--text {source}: {len(text)} characters are too few for --context {T} (the "
                              f"validation split, the last 10%, needs more than {T + 1}: give a longer text or a "
                              f"shorter --context)")
    if args.prompt is not None:
        unknown = sorted(set(args.prompt) - set(chars))
        if unknown:
            raise ExperimentError(f"--prompt has characters that are not in the text: {''.join(unknown)!r}")
    prompt = args.prompt if args.prompt else ("\n" if "\n" in stoi else text[0])
    entropy, baseline = unigram(train, val, len(chars))
    say(f"text: {source}: {len(text):,} characters, {len(chars)} distinct; {len(train):,} for training, "
        f"{len(val):,} for validation")
    say(f"unigram baseline: the training text's character frequencies have an entropy of {entropy:.3f} nats/char; "
        f"under them the validation text costs {baseline:.3f} nats/char")

    torch.manual_seed(args.seed)
    model = CharTransformer(len(chars), T, args.embed, args.heads, args.layers, args.dropout)
    groups = param_groups(model, args.weight_decay)
    optimizer = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.99))
    warmup = args.warmup if args.warmup is not None else max(1, args.steps // 20)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(warmup, args.steps))
    n_params = sum(p.numel() for p in model.parameters())
    say(f"model: {args.layers} layer(s), {args.heads} head(s), embedding {args.embed}, context {T}: {n_params:,} "
        f"parameters ({sum(p.numel() for p in groups[0]['params']):,} with weight decay {args.weight_decay})")
    say(f"training: {args.steps} steps of {args.batch_size} windows, AdamW lr {args.lr:g} ({warmup} warm-up steps, "
        f"cosine decay to {args.lr * 0.1:g}), gradient clipping {args.clip:g}, seed {args.seed}")

    tb = out.tensorboard()
    try:
        table, curve, train_time = fit(model, optimizer, scheduler, train, val, args, out, tb)
        last = table.rows[-1]
        say(f"after {args.steps} steps ({train_time:.1f} s of training): validation loss {last['val_loss']:.3f} "
            f"nats/char ({last['val_loss'] / math.log(2):.2f} bits/char) against the unigram baseline's "
            f"{baseline:.3f} ({baseline / math.log(2):.2f} bits/char); train loss {last['train_loss']:.3f}")
        table.write_csv(out.path(".csv"), keys=["step", "lr", "batch_loss", "train_loss", "val_loss", "time_s"])
        written = [out.path(".csv")]
        if args.sample_chars:
            t0 = time.perf_counter()
            sample = generate_text(model, prompt, stoi, chars, args.sample_chars, args.temperature, args.seed)
            say(f"sample ({args.sample_chars} characters after {prompt!r}, temperature {args.temperature:g}, seed "
                f"{args.seed}; {time.perf_counter() - t0:.1f} s):")
            say("-" * 72 + "\n" + sample + "\n" + "-" * 72)
            written.append(write_text(out.path("_sample.txt"), sample))
            if tb is not None:
                tb.add_text("sample", "    " + sample.replace("\n", "\n    "), args.steps)
    finally:
        if tb is not None:
            tb.close()
    written.append(plot(out, table.rows, curve, baseline, source))
    return written


def fit(model, optimizer, scheduler, train, val, args, out, tb=None):
    """Train for args.steps steps on random windows of `train`, measuring the losses on fixed windows of
    both splits every --eval-every steps. Returns (table of the measurements, [(step, batch loss)],
    seconds spent in training steps)."""
    T = args.context
    batches = torch.Generator().manual_seed(args.seed)
    eval_train = fixed_windows(len(train), T, args.eval_windows)
    eval_val = fixed_windows(len(val), T, args.eval_windows)
    eval_every = args.eval_every or max(1, args.steps // 10)
    table = Table([("step", "step", "d"), ("lr", "lr", ".2e"), ("batch_loss", "batch loss", ".4f"),
                   ("train_loss", "train loss", ".4f"), ("val_loss", "val loss", ".4f"), ("time_s", "time (s)", ".1f")])
    curve, window = [], []   # (step, loss) of every training batch; the losses since the last evaluation
    train_time = 0.0         # seconds spent in training steps (evaluations excluded)

    def measure(step):
        row = dict(step=step, lr=scheduler.get_last_lr()[0], batch_loss=sum(window) / len(window) if window else None,
                   train_loss=evaluate(model, train, eval_train, T, args.batch_size),
                   val_loss=evaluate(model, val, eval_val, T, args.batch_size), time_s=train_time)
        window.clear()
        table.add(row)
        if tb is not None:
            tb.add_scalars("loss", {"train": row["train_loss"], "val": row["val_loss"]}, step)
            tb.flush()

    bar = out.progress(total=args.steps, desc="train", unit="step")
    try:
        measure(0)
        model.train()
        for step in range(1, args.steps + 1):
            t0 = time.perf_counter()
            x, y = get_batch(train, torch.randint(len(train) - T, (args.batch_size,), generator=batches), T)
            _, loss = model(x, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            scheduler.step()
            value = loss.item()
            train_time += time.perf_counter() - t0
            if not math.isfinite(value):
                raise ExperimentError(f"the training loss became {value} at step {step}: try a smaller --lr")
            window.append(value)
            curve.append((step, value))
            if tb is not None:
                tb.add_scalar("loss/batch", value, step)
                tb.add_scalar("lr", optimizer.param_groups[0]["lr"], step)
                tb.add_scalar("grad_norm", norm.item(), step)
            bar.update(1)
            bar.set_postfix(loss=f"{value:.3f}", refresh=False)
            if step % eval_every == 0 or step == args.steps:
                measure(step)
    finally:
        bar.close()
    return table, curve, train_time


def generate_text(model, prompt, stoi, chars, n, temperature, seed):
    """`n` characters sampled after `prompt`, with a generator seeded by `seed` (the same seed, the same text)."""
    model.eval()
    idx = torch.tensor([[stoi[c] for c in prompt]], dtype=torch.long)
    idx = model.generate(idx, n, temperature, torch.Generator().manual_seed(seed))
    return "".join(chars[i] for i in idx[0, len(prompt):].tolist())


def write_text(path, text):
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise ExperimentError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def plot(out, rows, curve, baseline, source):
    fig = out.figure(figsize=(7, 4))
    if fig is None:
        return None
    ax = fig.subplots()
    if curve:
        ax.plot([c[0] for c in curve], [c[1] for c in curve], "-", color="C0", alpha=0.25, lw=0.8,
                label="training batches")
    steps = [r["step"] for r in rows]
    ax.plot(steps, [r["train_loss"] for r in rows], "o-", color="C0", label="train")
    ax.plot(steps, [r["val_loss"] for r in rows], "s-", color="C1", label="validation")
    ax.axhline(baseline, color="0.4", ls="--", lw=1, label=f"unigram baseline ({baseline:.2f})")
    ax.set(xlabel="step", ylabel="cross-entropy (nats per character)",
           title=f"charlm on {os.path.basename(source) if os.path.exists(source) else source}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return out.save_figure(fig)
