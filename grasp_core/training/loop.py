"""Step 2: one fine-tuning loop for every method (naive, grasp, random, caft, steer, kl), resumable and data-parallel.

The loop: chat JSONL -> assistant-only next-token loss -> length-bucketed batches -> gradient accumulation ->
AdamW with warm-up and decay -> a PEFT LoRA adapter folder. A method (grasp_core.training.methods) only adds a context
around forward/backward, a post-step hook and an extra loss. Under torchrun every process runs `train()`;
each takes a strided shard of every global micro-batch and gradients are all-reduced, so the result matches a
single-process run with the same config.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..errors import GraspError
from ..identification.choose import basis, load_picked, random_factors
from ..identification.factors import Factor, FactorSet, save_factors
from ..io import append_jsonl, read_json, write_json, write_text
from ..model.chat import CHARS_PER_TOKEN_MAX, load_chat_jsonl, pad_id
from ..model.models import (
    d_model,
    default_device,
    default_dtype,
    load_base,
    load_config,
    load_tokenizer,
    n_layers,
    next_token_logits,
    portable_base,
)
from .batching import TokenizedData, collate, plan_steps, shard, tokenize_chats
from .checkpoint import has_checkpoint, load_checkpoint, save_checkpoint
from .config import RECIPE_FILE, TrainConfig
from .methods import MethodContext, get_method
from .parallel import DataParallel

RESULT_FILE = "train_result.json"
METRICS_FILE = "metrics.jsonl"
FACTORS_USED = "factors_used.safetensors"
# Method metrics (the weights-mode invariant) cost a pass over every module: every N steps and at the end.
METHOD_METRICS_EVERY = 10


@dataclass
class TrainHooks:
    """Optional callbacks of a run (called on rank 0 only under data parallelism)."""

    on_step: Callable[[int, int, dict[str, Any]], None] | None = None  # (step, total, metrics) after each step
    should_stop: Callable[[], bool] | None = None  # True: checkpoint and return status "cancelled"
    on_eval: Callable[[int, Any], dict[str, Any]] | None = None  # (step, model) every eval_every steps


@dataclass
class TrainResult:
    """What a run produced: status, steps, last loss, metrics, where the adapter is, and per-round records."""

    status: str  # "done" | "cancelled"
    steps: int
    total_steps: int
    final_loss: float | None
    metrics: dict[str, Any]
    adapter: Path | None
    checkpoint: Path | None
    n_examples: int = 0
    n_truncated: int = 0  # examples longer than max_length, cut to it
    n_dropped: int = 0  # examples with no assistant token left after the cut
    factors: list[str] = field(default_factory=list)  # ids of the factors Z was built from
    rounds: list[dict[str, Any]] = field(default_factory=list)
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["adapter"] = str(self.adapter) if self.adapter else None
        d["checkpoint"] = str(self.checkpoint) if self.checkpoint else None
        return d


def _device(config: TrainConfig, dist: DataParallel) -> torch.device:
    """The config's device, else the best available one; under data parallelism on GPU, this rank's own GPU."""
    return dist.place(torch.device(config.device) if config.device is not None else default_device())


def factors_for(config: TrainConfig, model: Any) -> list[Factor]:
    """The factors a run's Z is built from (none for methods that need none), checked against the model."""
    method = get_method(config.method)
    if not method.needs_factors:
        return []
    width = d_model(model)
    if config.factors is None:  # random directions from a count only
        return random_factors(width, int(config.top or 0), config.seed)
    chosen = load_picked(config.factors, model, config.base, config.select, config.top)
    if method.random_directions:
        # The control differs from grasp only in Z: as many directions, random and seeded.
        return random_factors(width, len(chosen), config.seed)
    return chosen


def check_inputs(config: TrainConfig) -> None:
    """The files a run reads, checked before a run folder exists: the training data (UTF-8, JSON, an assistant
    turn on every line, one at least left within max_length tokens of the base's tokenizer) and a factors file
    (readable, made for this base, `select` / `top` in range)."""
    load_chat_jsonl(config.data, need_assistant=True)  # a malformed file is named before any tokenizer loads
    tokenize_chats(config.data, load_tokenizer(config.base), config.max_length, config.system_prompt)
    if config.factors is not None and get_method(config.method).needs_factors:
        load_picked(config.factors, load_config(config.base), config.base, config.select, config.top)


def _lr_factor(step: int, total: int, warmup: int, schedule: str) -> float:
    """Linear warm-up over `warmup` steps (reaching the peak on its last step), then cosine or linear decay."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * progress)) if schedule == "cosine" else 1.0 - progress


def _attach_lora(model: Any, config: TrainConfig) -> Any:
    """Wrap the base in a fresh PEFT LoRA (seeded init) with the config's rank, alpha, targets and layers."""
    from peft import LoraConfig, get_peft_model  # lazy: peft imports transformers, which takes seconds

    lcfg = LoraConfig(
        r=config.r,
        lora_alpha=config.lora_alpha,  # type: ignore[arg-type]  # peft accepts floats
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules),
        use_rslora=config.use_rslora,
        bias="none",
        layers_to_transform=list(config.layers) if config.layers is not None else None,
        task_type="CAUSAL_LM",
    )
    torch.manual_seed(config.seed)
    try:
        return get_peft_model(model, lcfg)
    except ValueError as e:
        raise GraspError(f"train config `target_modules` / `layers`: {e}") from None


def save_adapter(model: Any, config: TrainConfig, folder: Path) -> Path:
    """Write the PEFT adapter folder atomically (built beside it, then swapped in), with a portable base name."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    old = folder.with_name(f".{folder.name}.old")
    try:
        model.save_pretrained(str(tmp))
        cfg = read_json(tmp / "adapter_config.json", what="adapter_config.json")
        cfg["base_model_name_or_path"] = portable_base(config.base)
        write_json(tmp / "adapter_config.json", cfg)
        write_json(tmp / RECIPE_FILE, {**config.to_dict(), "base": portable_base(config.base)})
        if folder.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return folder


def _log(out_dir: Path, record: dict[str, Any]) -> None:
    append_jsonl(out_dir / METRICS_FILE, record)


def _truncate_log(out_dir: Path, step: int) -> None:
    """On resume, drop log lines written after the checkpoint (those steps run again) and a torn last line."""
    path = out_dir / METRICS_FILE
    if not path.is_file():
        return
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                keep.append(line)
        except json.JSONDecodeError:
            continue  # a line cut short when the previous run was killed
    write_text(path, "".join(line + "\n" for line in keep))


@dataclass
class _Run:
    """Everything one training pass holds: the model with its LoRA, data, factors, optimizer, schedule and plan."""

    config: TrainConfig
    out_dir: Path
    dist: DataParallel
    device: torch.device
    tokenizer: Any
    model: Any  # the base with a fresh PEFT LoRA, in training mode
    n_layers: int
    data: TokenizedData
    factors: list[Factor]
    Z: torch.Tensor  # (d_model, k) orthonormal basis of the factors
    hooks: Any  # the method's MethodHooks: context, after_step, extra_loss, metrics
    params: list[Any]  # the trainable LoRA parameters (nn.Parameter)
    opt: torch.optim.Optimizer
    sched: Any
    plan: list[list[list[int]]]  # plan[step] = that global step's micro-batches of example indices
    t0: float

    @property
    def total(self) -> int:
        return len(self.plan)

    @property
    def ckpt_dir(self) -> Path:
        return self.out_dir / "checkpoint"


def _setup(config: TrainConfig, out_dir: Path, dist: DataParallel, factors: list[Factor] | None, t0: float) -> _Run:
    """Load the base on the automatic (or given) device, tokenize the data, build Z, attach the LoRA, set up the
    method, AdamW with its schedule, and the plan of global steps."""
    dev = _device(config, dist)
    dtype = getattr(torch, config.dtype) if config.dtype else default_dtype(dev)
    bm = load_base(config.base, device=dev, dtype=dtype)
    data: TokenizedData = tokenize_chats(config.data, bm.tokenizer, config.max_length, config.system_prompt)
    if factors is None:
        factors = factors_for(config, bm.model)
    Z = basis(factors, d_model(bm.model))  # (d_model, k)
    model = _attach_lora(bm.model, config)
    model.train()
    hooks = get_method(config.method).setup(
        MethodContext(
            model, factors, Z, config.effective_strength, config.projection, config.weights_side, config.mid_block
        )
    )
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    plan = plan_steps(
        [len(x) for x in data.input_ids], config.batch_size, config.grad_accum, config.epochs, config.seed
    )
    total = len(plan)
    warmup = int(round(config.warmup_ratio * total))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _lr_factor(s, total, warmup, config.schedule))
    if config.batch_size < dist.world:
        raise GraspError(f"train config `batch_size` {config.batch_size} is smaller than the {dist.world} processes")
    return _Run(
        config=config,
        out_dir=out_dir,
        dist=dist,
        device=dev,
        tokenizer=bm.tokenizer,
        model=model,
        n_layers=n_layers(bm.model),
        data=data,
        factors=factors,
        Z=Z,
        hooks=hooks,
        params=params,
        opt=opt,
        sched=sched,
        plan=plan,
        t0=t0,
    )


def _start(run: _Run, resume: bool) -> int:
    """The step to start from: the checkpoint's when resuming (the metrics log cut back to it), else 0 with a fresh
    log; rank 0 also saves the factors used and prints what it will train."""
    config, dist = run.config, run.dist
    run.out_dir.mkdir(parents=True, exist_ok=True)
    step = 0
    if resume and has_checkpoint(run.ckpt_dir):
        step = load_checkpoint(run.ckpt_dir, run.model, run.opt, run.sched, config)
        if dist.main:
            _truncate_log(run.out_dir, step)
    elif dist.main:
        (run.out_dir / METRICS_FILE).unlink(missing_ok=True)
    if dist.main and run.factors:
        fs = FactorSet(
            factors=run.factors,
            base=portable_base(config.base),
            adapter=str(config.factors or ""),
            adapter_hash="",
            d_model=run.Z.shape[0],
            n_layers=run.n_layers,
        )
        save_factors(fs, run.out_dir / FACTORS_USED)
    if dist.main:
        data = run.data
        cut = (
            f" ({data.n_cut} over {config.max_length * CHARS_PER_TOKEN_MAX} characters, cut first)"
            if data.n_cut
            else ""
        )
        print(
            f"train: {len(data)} examples ({data.n_truncated} truncated to {config.max_length} tokens{cut}, "
            f"{len(data.dropped)} dropped with no assistant token left), {run.total} steps, method {config.method}, "
            f"{len(run.factors)} factors, device {run.device}, {dist.world} process(es)",
            file=sys.stderr,
        )
    return step


def _optimizer_step(run: _Run, step: int, pad: int) -> dict[str, Any]:
    """One global step: every micro-batch of this process's shard forward and backward under the method's context,
    gradients all-reduced and clipped, AdamW and the schedule stepped; its metrics."""
    config, data, dist, mh = run.config, run.data, run.dist, run.hooks
    n_targets = sum(data.n_targets(i) for mb in run.plan[step] for i in mb)  # over the whole global step
    n_tokens = sum(len(data.input_ids[i]) for mb in run.plan[step] for i in mb)
    sums = torch.zeros(2, device=run.device)  # (cross-entropy sum, extra-loss sum) over this process's shards
    for mb in run.plan[step]:
        idx = shard(mb, dist.rank, dist.world)
        if not idx:
            continue
        batch = collate(data, idx, pad, run.device)
        with mh.context():
            target = batch["labels"][:, 1:]  # (B, T-1)
            mask = target != -100  # (B, T-1)
            # Unembedding at the scored positions only (assistant tokens): (N, V), N = mask.sum().
            logits = next_token_logits(run.model, batch["input_ids"], batch["attention_mask"], mask)
            ce = F.cross_entropy(logits.float(), target[mask], reduction="sum")
            loss = ce
            extra = mh.extra_loss(batch, logits, mask) if mh.extra_loss is not None else None
            if extra is not None:
                loss = loss + extra
            # Normalise by the global step's target count, so accumulation and sharding sum exactly.
            (loss / n_targets).backward()
        sums[0] += ce.detach()
        if extra is not None:
            sums[1] += extra.detach()
    for p in run.params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    dist.all_reduce_([p.grad for p in run.params] + [sums])
    grad_norm = (
        float(torch.nn.utils.clip_grad_norm_(run.params, config.max_grad_norm))
        if config.max_grad_norm > 0
        else float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in run.params])))
    )
    lr = run.sched.get_last_lr()[0]
    run.opt.step()
    run.sched.step()
    run.opt.zero_grad(set_to_none=True)
    if mh.after_step is not None:
        mh.after_step()
    metrics = {"loss": float(sums[0]) / n_targets, "lr": lr, "grad_norm": grad_norm, "targets": n_targets}
    metrics["tokens"] = n_tokens
    if mh.extra_loss is not None:
        metrics["extra_loss"] = float(sums[1]) / n_targets
    if mh.metrics is not None and ((step + 1) % METHOD_METRICS_EVERY == 0 or step + 1 == run.total):
        metrics.update(mh.metrics())
    return metrics


def _report(run: _Run, step: int, metrics: dict[str, Any], hooks: TrainHooks) -> None:
    """Rank 0 after a step: the metrics line, the on_step hook, and every eval_every steps the on_eval hook."""
    _log(run.out_dir, {"step": step, **metrics})
    if hooks.on_step is not None:
        hooks.on_step(step, run.total, metrics)
    if hooks.on_eval is not None and run.config.eval_every and step % run.config.eval_every == 0:
        run.model.eval()
        with torch.no_grad():
            ev = hooks.on_eval(step, run.model) or {}
        run.model.train()
        metrics.update({f"eval_{k}": v for k, v in ev.items()})
        _log(run.out_dir, {"step": step, **{f"eval_{k}": v for k, v in ev.items()}})


def _should_stop(run: _Run, step: int, hooks: TrainHooks) -> bool:
    """Whether rank 0 was asked to stop (agreed by every rank); checkpoint then, or every checkpoint_every steps."""
    dist = run.dist
    stop = dist.tensor([1.0 if dist.main and hooks.should_stop is not None and hooks.should_stop() else 0.0])
    dist.all_reduce_([stop])
    every = run.config.checkpoint_every
    if dist.main and (stop.item() > 0 or (every and step % every == 0)):
        save_checkpoint(run.ckpt_dir, run.model, run.opt, run.sched, step, run.config)
    return stop.item() > 0


def train_once(
    config: TrainConfig,
    out_dir: Path,
    hooks: TrainHooks,
    resume: bool,
    dist: DataParallel,
    factors: list[Factor] | None = None,
) -> tuple[TrainResult, list[Factor]]:
    """One training pass of `config` into `out_dir` (one GRASP round): set up, start or resume from the checkpoint,
    step to the end or until asked to stop (then checkpointed, status `cancelled`), save the adapter; returns the
    result and the factors Z was built from (`factors` given: use them instead of the config's)."""
    run = _setup(config, out_dir, dist, factors, time.time())
    step = _start(run, resume)
    bar = tqdm(total=run.total, initial=step, disable=not (dist.main and sys.stderr.isatty()), desc=config.method)
    pad = pad_id(run.tokenizer)
    status, metrics, last_loss = "done", {}, None
    try:
        while step < run.total:
            metrics = _optimizer_step(run, step, pad)
            step += 1
            bar.update(1)
            last_loss = metrics["loss"]
            if dist.main:
                _report(run, step, metrics, hooks)
            if _should_stop(run, step, hooks) and step < run.total:
                status = "cancelled"
                break
    finally:
        bar.close()
    return _finish(run, status, step, metrics, last_loss), run.factors


def _finish(run: _Run, status: str, step: int, metrics: dict[str, Any], last_loss: float | None) -> TrainResult:
    """Rank 0 saves the adapter (when done) and train_result.json; every rank waits for it (the next round reads it)."""
    config, dist, data = run.config, run.dist, run.data
    adapter = None
    if dist.main and status == "done":
        adapter = save_adapter(run.model, config, run.out_dir / "adapter")
    result = TrainResult(
        status=status,
        steps=step,
        total_steps=run.total,
        final_loss=last_loss,
        metrics=metrics,
        adapter=adapter,
        checkpoint=run.ckpt_dir if has_checkpoint(run.ckpt_dir) else None,
        n_examples=len(data),
        n_truncated=data.n_truncated,
        n_dropped=len(data.dropped),
        factors=[f.id for f in run.factors],
        elapsed_s=time.time() - run.t0,
    )
    if dist.main:
        write_json(run.out_dir / RESULT_FILE, {**result.to_dict(), "config": config.to_dict()})
    dist.barrier()  # the adapter and result rank 0 wrote are read next by every rank (the next round's factors)
    return result
