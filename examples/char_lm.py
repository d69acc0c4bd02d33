"""Character-level language model: Embedding + LSTM (or GRU) + Linear, trained with AdamW.

In the style of pytorch/examples word_language_model and minGPT's training loop: weight-decay
parameter groups, gradient clipping, a warmup-cosine LambdaLR schedule, evaluation under
model.eval() + torch.no_grad(), and sampling with torch.multinomial. Trained on
examples/data/corpus.txt (tapegrad's design notes and README). Runs with real PyTorch and with
`tapegrad run examples/char_lm.py`.

`--numpy-batches` draws batch offsets from NumPy instead of torch.randint, and `--init` starts from
a saved state_dict, so both frameworks can be compared step by step (with `--dropout 0`).
"""
import argparse
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


class CharRNN(nn.Module):
    def __init__(self, vocab_size, emb_size, hidden_size, num_layers, dropout, cell="lstm"):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(vocab_size, emb_size)
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(emb_size, hidden_size, num_layers, dropout=dropout if num_layers > 1 else 0.0,
                       batch_first=True)
        self.decoder = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx, hidden=None):
        emb = self.drop(self.encoder(idx))              # (B, T, E)
        output, hidden = self.rnn(emb, hidden)          # (B, T, H)
        logits = self.decoder(self.drop(output))        # (B, T, V)
        return logits, hidden


def configure_optimizer(model, lr, weight_decay):
    """AdamW with decay on matrices only (no decay on biases and the embedding), as minGPT does."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.dim() >= 2 and not name.startswith("encoder"):
            decay.append(p)
        else:
            no_decay.append(p)
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))


def main():
    parser = argparse.ArgumentParser(description="character-level LSTM language model")
    parser.add_argument("--text", default=os.path.join(HERE, "data", "corpus.txt"))
    parser.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    parser.add_argument("--emb", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--eval-interval", type=int, default=50)
    parser.add_argument("--eval-batches", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--sample-len", type=int, default=200)
    parser.add_argument("--numpy-batches", action="store_true", help="batch offsets from NumPy (for comparisons)")
    parser.add_argument("--print-steps", action="store_true")
    parser.add_argument("--save-init", default=None)
    parser.add_argument("--init", default=None)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    with open(args.text, encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    itos = {i: ch for ch, i in stoi.items()}
    encode = lambda s: [stoi[c] for c in s]  # noqa: E731
    decode = lambda l: "".join(itos[i] for i in l)  # noqa: E731
    data = torch.tensor(encode(text), dtype=torch.long)
    n = int(0.9 * len(data))
    train_data, val_data = data[:n], data[n:]
    print(f"{len(text)} characters, vocabulary of {len(chars)}; train {len(train_data)}, val {len(val_data)}")

    nprng = np.random.RandomState(args.seed)

    def get_batch(split):
        src = train_data if split == "train" else val_data
        if args.numpy_batches:
            ix = torch.from_numpy(nprng.randint(0, len(src) - args.block_size - 1, size=args.batch_size))
        else:
            ix = torch.randint(len(src) - args.block_size - 1, (args.batch_size,))
        x = torch.stack([src[i:i + args.block_size] for i in ix])
        y = torch.stack([src[i + 1:i + args.block_size + 1] for i in ix])
        return x.to(device), y.to(device)

    model = CharRNN(len(chars), args.emb, args.hidden, args.layers, args.dropout, args.cell).to(device)
    if args.save_init:
        torch.save(model.state_dict(), args.save_init)
    if args.init:
        model.load_state_dict(torch.load(args.init))
    print(model)
    print(f"{sum(p.numel() for p in model.parameters())} parameters")

    optimizer = configure_optimizer(model, args.lr, args.weight_decay)

    def lr_lambda(step):
        if step < args.warmup:
            return (step + 1) / args.warmup
        progress = (step - args.warmup) / max(1, args.steps - args.warmup)
        return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)

    @torch.no_grad()
    def estimate_loss():
        out = {}
        model.eval()
        for split in ("train", "val"):
            losses = torch.zeros(args.eval_batches)
            for k in range(args.eval_batches):
                x, y = get_batch(split)
                logits, _ = model(x)
                losses[k] = F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1))
            out[split] = losses.mean().item()
        model.train()
        return out

    t0 = time.perf_counter()
    losses = None
    for step in range(args.steps):
        if step % args.eval_interval == 0 or step == args.steps - 1:
            losses = estimate_loss()
            print(f"step {step}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}, "
                  f"lr {scheduler.get_last_lr()[0]:.2e}")
        x, y = get_batch("train")
        logits, _ = model(x)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        scheduler.step()
        if args.print_steps:
            print(f"iter {step} loss {loss.item():.6f} grad norm {norm.item():.6f}")
    elapsed = time.perf_counter() - t0

    # sampling: feed a prompt, then one character at a time carrying the hidden state
    model.eval()
    with torch.no_grad():
        prompt = torch.tensor([encode("The ")], dtype=torch.long, device=device)
        logits, hidden = model(prompt)
        out = prompt[0].tolist()
        for _ in range(args.sample_len):
            probs = F.softmax(logits[:, -1, :] / 0.8, dim=-1)
            nxt = torch.multinomial(probs, num_samples=1)
            out.append(nxt.item())
            logits, hidden = model(nxt, hidden)
    print("sample:", repr(decode(out)))
    print(f"final train loss {losses['train']:.4f} val loss {losses['val']:.4f}")
    print(f"time {elapsed:.2f}s")


if __name__ == "__main__":
    main()
