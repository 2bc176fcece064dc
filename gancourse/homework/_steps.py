"""Checking a whole training step, shared by the chapters' ``train_step`` exercises.

A training-step exercise hands the learner's ``train_step(G, D, opt_g, opt_d,
*inputs)`` tiny deterministic networks with plain SGD optimisers (so each update
is proportional to its gradient) and junk already in every ``.grad`` (so a
missing ``zero_grad`` shows), then compares the parameters of G and D after the
step with those of the reference step run on an identical, separately built set
of networks. On a mismatch it replays each known wrong step (the chapter's
mistake catalogue: :class:`~gancourse.homework._checker.Mistake` whose ``fn`` is
a whole wrong step) on fresh networks and names the first that ends with the
learner's parameters. The learner's step, the reference and each replay never
share a network, an optimiser or an input tensor.

A chapter supplies a :class:`StepCheck`: its reference step, its cases, a
``setup(case)`` that builds ``(G, D, opt_g, opt_d, *inputs)`` from the case's seed
(:func:`init_networks` does the seeded weights and the junk gradients), the
mistake catalogue, error-message fragments with their hints, and the words for
the generic messages. ``StepCheck`` is itself the exercise's ``check_fn``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from gancourse.homework._checker import Failure, Mistake, call_learner

__all__ = [
    "STEP_ERRORS",
    "StepCheck",
    "StepOutcome",
    "close",
    "init_networks",
    "number",
    "outcome",
    "same_params",
]


# PyTorch errors a wrong step runs into, with what they mean there.
STEP_ERRORS = (
    (
        "backward through the graph a second time",
        "d_loss.backward() went through G's graph (the fakes were not detached) and "
        "freed it, and G's step backpropagates through it again: use "
        "D(x_fake.detach()) in D's step.",
    ),
    (
        "modified by an inplace operation",
        "G's loss reuses stale D outputs computed before opt_d.step(), which "
        "changed D's weights in place: call D(x_fake) again after D's update.",
    ),
    (
        "does not require grad",
        "a loss has no graph: compute it from D's outputs, without torch.no_grad() "
        "or .detach() around the whole loss.",
    ),
)


def init_networks(
    gen: torch.Generator, *nets: nn.Module, scale: float = 0.8, junk: float = 3.0
) -> None:
    """Seeded weights ``scale * N(0, 1)`` for every parameter of ``nets``, then
    ``junk * N(0, 1)`` already in every ``.grad`` (drawn in that order from
    ``gen``, so the same generator state gives the same networks)."""
    params = [p for net in nets for p in net.parameters()]
    with torch.no_grad():
        for p in params:
            p.copy_(scale * torch.randn(p.shape, generator=gen))
        for p in params:
            p.grad = junk * torch.randn(p.shape, generator=gen)


@dataclass
class StepOutcome:
    """G's and D's parameters after a step, whether G was left with a nonzero
    gradient, and what the step returned."""

    g: dict[str, Tensor]
    d: dict[str, Tensor]
    g_got_grad: bool
    result: Any


def outcome(G: nn.Module, D: nn.Module, result: Any) -> StepOutcome:
    return StepOutcome(
        {n: p.detach().clone() for n, p in G.named_parameters()},
        {n: p.detach().clone() for n, p in D.named_parameters()},
        any(p.grad is not None and bool(p.grad.any()) for p in G.parameters()),
        result,
    )


def same_params(a: dict[str, Tensor], b: dict[str, Tensor]) -> bool:
    return a.keys() == b.keys() and all(
        torch.allclose(a[n], b[n], rtol=1e-5, atol=1e-6) for n in a
    )


def number(x: Any) -> float | None:
    """A loss as a float: a one-element tensor or a number; ``None`` otherwise."""
    if isinstance(x, Tensor) and x.numel() == 1 and x.is_floating_point():
        return float(x.detach())
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    return None


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-4 * abs(b) + 1e-5


def _worst(got: dict[str, Tensor], want: dict[str, Tensor]) -> str:
    return max(got, key=lambda n: float((got[n] - want[n]).abs().max()))


@dataclass(frozen=True)
class StepCheck:
    """The check of one ``train_step`` exercise; call it with the learner's step.

    Attributes:
        reference: the reference step.
        setup: ``setup(case) -> (G, D, opt_g, opt_d, *inputs)``, fresh and
            identical on every call for the same case.
        cases: objects with a ``name`` (used in messages), passed to ``setup``.
        mistakes: known wrong steps, replayed in order; the first whose
            parameters (and whether G got a gradient) match the learner's wins.
        errors: ``(fragment, hint)``: a learner exception whose message contains
            ``fragment`` gets ``hint``.
        step_hint: the whole step in one sentence, appended to generic hints.
        d_what / g_what: what D's / G's update should be one SGD step on
            ("AC-GAN's discriminator loss").
        d_hint / g_hint: the loss each should use, for generic hints.
    """

    reference: Callable[..., Any]
    setup: Callable[[Any], tuple[Any, ...]]
    cases: Sequence[Any]
    mistakes: Sequence[Mistake]
    errors: Sequence[tuple[str, str]]
    step_hint: str
    d_what: str
    d_hint: str
    g_what: str
    g_hint: str

    def replay(self, step: Callable[..., Any], case: Any) -> StepOutcome:
        args = self.setup(case)
        with torch.enable_grad():
            result = step(*args)
        return outcome(args[0], args[1], result)

    def diagnose(self, case: Any, got: StepOutcome) -> Mistake | None:
        """The first known wrong step that ends where the learner's step did."""
        for mistake in self.mistakes:
            try:
                wrong = self.replay(mistake.fn, case)
            except Exception:  # a replay that cannot run on these inputs
                continue
            if (
                same_params(got.g, wrong.g)
                and same_params(got.d, wrong.d)
                and got.g_got_grad == wrong.g_got_grad
            ):
                return mistake
        return None

    def _call(self, fn: Callable[..., Any], args: Sequence[Any], name: str) -> Any:
        try:
            return call_learner(fn, *args)
        except Failure as exc:
            hint = next((h for frag, h in self.errors if frag in exc.message), "")
            raise Failure(f"on {name}, {exc.message}", hint or exc.hint) from None

    def explain(self, case: Any, got: StepOutcome, want: StepOutcome) -> None:
        """Raise the most specific Failure for parameters that differ from the
        reference step's."""
        mistake = self.diagnose(case, got)
        if mistake is not None:
            raise Failure(mistake.message, mistake.hint)
        before = outcome(*self.setup(case)[:2], None)
        if not same_params(got.d, want.d):
            if same_params(got.d, before.d):
                raise Failure(
                    f"on {case.name}, D's parameters did not change",
                    "the order is opt_d.zero_grad(), d_loss.backward(), "
                    "opt_d.step(); " + self.step_hint,
                )
            raise Failure(
                f"on {case.name}, D's parameters after the step differ from one SGD "
                f"step on {self.d_what} (e.g. {_worst(got.d, want.d)})",
                self.d_hint + " " + self.step_hint,
            )
        if same_params(got.g, before.g):
            raise Failure(
                f"on {case.name}, G's parameters did not change",
                "the order is opt_g.zero_grad(), g_loss.backward(), opt_g.step(); "
                + self.step_hint,
            )
        raise Failure(
            f"on {case.name}, G's parameters after the step differ from one SGD step "
            f"on {self.g_what} with the updated D (e.g. {_worst(got.g, want.g)})",
            self.g_hint + " " + self.step_hint,
        )

    def __call__(self, fn: Callable[..., Any]) -> None:
        """``fn(G, D, opt_g, opt_d, *inputs)`` must update D and G as the
        reference does and return ``(d_loss, g_loss)``."""
        for case in self.cases:
            want = self.replay(self.reference, case)  # before the learner's code
            args = self.setup(case)
            result = self._call(fn, args, case.name)
            got = outcome(args[0], args[1], result)
            if not (same_params(got.d, want.d) and same_params(got.g, want.g)):
                self.explain(case, got, want)
            _check_losses(case, result, want.result)


def _check_losses(case: Any, result: Any, want: Any) -> None:
    """The returned ``(d_loss, g_loss)`` must be the reference step's losses."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        kind = "None" if result is None else type(result).__name__
        raise Failure(
            f"your function returned {kind}, expected the two losses (d_loss, g_loss)",
            "end with `return d_loss, g_loss` (tensors or floats).",
        )
    d_got, g_got = (number(x) for x in result)
    if d_got is None or g_got is None:
        raise Failure(
            "the two values returned are not both losses (one-element tensors or "
            "floats)",
            "end with `return d_loss, g_loss`.",
        )
    d_want, g_want = (float(x) for x in want)
    if close(d_got, g_want) and close(g_got, d_want):
        raise Failure(
            "the losses are returned in the wrong order",
            "return d_loss first, then g_loss.",
        )
    for label, x, x_want in (("d_loss", d_got, d_want), ("g_loss", g_got, g_want)):
        if not close(x, x_want):
            raise Failure(
                f"on {case.name}, the returned {label} is wrong (got {x:.4f}, "
                f"expected {x_want:.4f}) although the updates are right",
                "return the losses you called backward() on: d_loss from D's step, "
                "g_loss from G's step (with D's outputs after its update).",
            )
