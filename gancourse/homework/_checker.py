"""The machinery behind :func:`gancourse.homework.check`, shared by every chapter.

A chapter module (``ch01.py``, ``ch02.py``, ...) defines, per exercise, a reference
answer and a *check function* ``check_fn(fn)`` that calls the learner's ``fn`` on
controlled inputs, compares with the reference and raises :class:`Failure` (a
message plus a hint) at the first problem. Everything else lives here:

- :class:`Exercise` / :class:`CheckResult`: the registry entry and the verdict.
- :func:`call_learner`: runs learner code so that an exception in it becomes a
  one-line :class:`Failure`, and ``NotImplementedError`` becomes "not implemented yet".
- tensor helpers (:func:`expect_tensor`, :func:`expect_shape`, :func:`expect_finite`,
  :func:`expect_graph`, :func:`expect_close`, :func:`grads_of`) that phrase their
  failures for learners.
- :func:`diagnose`: compares a wrong answer with a list of known mistakes so the hint
  names the actual mistake ("you swapped the labels") rather than "values differ".
- :func:`run_check`: the driver that turns all of the above into a
  :class:`CheckResult` and never lets a traceback escape.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "CheckResult",
    "Exercise",
    "Failure",
    "NotImplementedYet",
    "Mistake",
    "Case",
    "call_learner",
    "check_scalar_loss",
    "diagnose",
    "expect_close",
    "expect_dtype",
    "expect_finite",
    "expect_graph",
    "expect_shape",
    "expect_tensor",
    "grads_of",
    "leaf",
    "run_check",
]

PASS, FAIL, TODO, ERROR = "passed", "failed", "not implemented", "error"
_SYMBOL = {PASS: "✓", FAIL: "✗", TODO: "○", ERROR: "✗"}
_MAX_DETAIL = 160  # characters of a learner's exception message we quote


class Failure(Exception):
    """A check found a problem: ``message`` says what, ``hint`` what to try."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class NotImplementedYet(Exception):
    """The learner's function still raises ``NotImplementedError`` (the stub)."""


@dataclass(frozen=True)
class Exercise:
    """One registry entry.

    Attributes:
        id: ``"chNN.name"``, what learners pass to ``check``.
        signature: how the learner's function is called, e.g. ``"d_loss(logits_real,
            logits_fake) -> scalar tensor"`` (shown in messages).
        reference: the reference answer (a callable with that signature).
        check_fn: ``check_fn(fn)`` raises :class:`Failure` / ``NotImplementedYet``
            or returns normally when ``fn`` is correct.
        solution: objects whose source ``show_solution`` prints (defaults to
            ``(reference,)``); helpers first, the answer last.
        retired: empty for a current exercise; for a retired one, why and what
            replaced it. A retired exercise still checks (old notebooks keep
            working) but is not listed, counted in progress or graded.
    """

    id: str
    signature: str
    reference: Callable[..., Any]
    check_fn: Callable[[Callable[..., Any]], None]
    solution: tuple[Any, ...] = ()
    retired: str = ""

    def solution_objects(self) -> tuple[Any, ...]:
        return self.solution or (self.reference,)

    @property
    def function_name(self) -> str:
        """The name of the function the learner writes, the part of the id after
        the dot (``"ch01.d_loss"`` -> ``d_loss``) as in every exercise copy; a
        test keeps the notebooks' ``check(id, name)`` calls in line with it."""
        return self.id.partition(".")[2]


@dataclass
class CheckResult:
    """The verdict of :func:`gancourse.homework.check`; truthy iff the answer passed.

    Attributes:
        exercise_id: the id that was checked.
        passed: ``True`` iff every check passed.
        message: what is right / wrong, one sentence.
        hint: what to try next ("" when passed).
        status: ``"passed"``, ``"failed"``, ``"not implemented"`` or ``"error"``.
    """

    exercise_id: str
    passed: bool
    message: str
    hint: str = ""
    status: str = field(default=FAIL)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def line(self) -> str:
        """The one-line verdict that ``check`` prints."""
        text = f"{_SYMBOL.get(self.status, '✗')} {self.exercise_id}: {self.message}"
        if self.hint:
            text += f" Hint: {self.hint}"
        return text

    def __str__(self) -> str:
        return self.line

    # ``check`` already printed the verdict; when the result is the last expression
    # of a notebook cell, Jupyter shows this short form instead of a second copy.
    def __repr__(self) -> str:
        return f"CheckResult({self.exercise_id!r}, {self.status})"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _short(exc: BaseException) -> str:
    """``"TypeError: unsupported operand ..."`` on one line, at most ~160 chars."""
    detail = " ".join(str(exc).split())
    if len(detail) > _MAX_DETAIL:
        detail = detail[: _MAX_DETAIL - 3] + "..."
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def call_learner(
    fn: Callable[..., Any], *args: Any, what: str = "your function"
) -> Any:
    """Call learner code; its exceptions become a one-line :class:`Failure`.

    ``NotImplementedError`` (the stub of an exercise copy) becomes
    :class:`NotImplementedYet` so the verdict reads "not implemented yet".
    """
    try:
        return fn(*args)
    except NotImplementedError as exc:
        raise NotImplementedYet(str(exc)) from None
    except Failure:
        raise
    except Exception as exc:  # learner code can raise anything
        raise Failure(f"{what} raised {_short(exc)}", _hint_for(exc)) from None


# Fragments of PyTorch error messages learners meet often, and what they mean.
_ERROR_HINTS = (
    (
        "between 0 and 1",
        "BCELoss expects probabilities; on raw logits use "
        "F.binary_cross_entropy_with_logits (or F.softplus).",
    ),
    (
        "Target size",
        "labels must have the same shape as the logits: build them with "
        "torch.ones_like(logits) / torch.zeros_like(logits).",
    ),
    (
        "in-place operation",
        "do not modify the inputs in place (x += ..., x.mul_(...)); compute a new "
        "tensor instead.",
    ),
    ("must match the size", "check the tensor shapes at each step (print x.shape)."),
    ("shape", "check the tensor shapes at each step (print x.shape)."),
    ("channels", "check in_channels / out_channels of each layer."),
)


def _hint_for(exc: BaseException) -> str:
    text = str(exc)
    for fragment, hint in _ERROR_HINTS:
        if fragment in text:
            return hint
    return "run it by hand on small inputs to see where it fails."


def leaf(x: Tensor) -> Tensor:
    """A fresh copy of ``x`` that requires grad (so each caller gets its own grads)."""
    return x.detach().clone().requires_grad_(True)


def expect_tensor(out: Any, what: str = "your function") -> Tensor:
    """``out`` must be a floating ``torch.Tensor``; numbers and arrays are rejected."""
    if isinstance(out, Tensor):
        if not out.is_floating_point():
            raise Failure(
                f"{what} returned a {out.dtype} tensor, expected floating point",
                "integer / bool tensors cannot carry gradients; keep float inputs "
                "float.",
            )
        return out
    kind = type(out).__module__.split(".")[0] + "." + type(out).__qualname__
    if kind.startswith("builtins."):
        kind = type(out).__qualname__
    if out is None:
        raise Failure(
            f"{what} returned None, expected a torch.Tensor",
            "did you forget the `return` statement?",
        )
    if isinstance(out, (int, float)) or kind.startswith("numpy."):
        raise Failure(
            f"{what} returned a {kind}, expected a torch.Tensor",
            "stay in torch (no .item(), .numpy(), math.* or np.*) so that "
            "autograd can follow the computation.",
        )
    raise Failure(f"{what} returned a {kind}, expected a torch.Tensor")


def expect_shape(
    out: Tensor, shape: Sequence[int], what: str = "the result", hint: str = ""
) -> None:
    """``out.shape`` must equal ``shape``; a scalar means shape ``()``."""
    shape = tuple(shape)
    if tuple(out.shape) == shape:
        return
    if shape == ():
        raise Failure(
            f"{what} has shape {tuple(out.shape)}, expected a scalar (shape ())",
            "reduce over *all* elements, e.g. with .mean() and no dim argument.",
        )
    raise Failure(f"{what} has shape {tuple(out.shape)}, expected {shape}", hint)


def expect_finite(out: Tensor, what: str = "the result", hint: str = "") -> None:
    """No NaN or Inf in ``out``."""
    bad = ~torch.isfinite(out.detach())
    if bool(bad.any()):
        kind = "NaN" if bool(torch.isnan(out.detach()).any()) else "Inf"
        raise Failure(
            f"{what} contains {kind}",
            hint or "look for log(0), division by zero or exp of a large number.",
        )


def expect_graph(out: Tensor, what: str = "the result") -> None:
    """``out`` must be connected to the autograd graph of inputs that need grad."""
    if not out.requires_grad:
        raise Failure(
            f"{what} is not connected to the autograd graph (requires_grad=False), "
            "so no gradient can reach the network",
            "do not convert to Python/NumPy (.item(), .numpy(), float(), "
            "torch.tensor(...)) and do not use .detach() or torch.no_grad() here.",
        )


def grads_of(out: Tensor, inputs: Sequence[Tensor]) -> list[Tensor | None]:
    """``d out / d input`` for each input (``None`` where no gradient flows)."""
    return list(torch.autograd.grad(out, list(inputs), allow_unused=True))


def expect_close(
    got: Tensor,
    want: Tensor,
    what: str = "the value",
    hint: str = "",
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> None:
    """``got`` and ``want`` must agree within float32 tolerances."""
    got, want = got.detach(), want.detach()
    if got.shape != want.shape:
        raise Failure(
            f"{what} has shape {tuple(got.shape)}, expected {tuple(want.shape)}", hint
        )
    if torch.allclose(got.to(want.dtype), want, rtol=rtol, atol=atol):
        return
    if got.numel() == 1:
        detail = f"got {_fmt(got)}, expected {_fmt(want)}"
    else:
        err = (got.to(want.dtype) - want).abs()
        i = int(err.flatten().argmax())
        detail = (
            f"largest difference at flat index {i}: got "
            f"{_fmt(got.flatten()[i])}, expected {_fmt(want.flatten()[i])}"
        )
    raise Failure(f"{what} is wrong ({detail})", hint)


def _fmt(x: Tensor) -> str:
    v = float(x.detach())
    if math.isfinite(v) and (v == 0 or 1e-3 <= abs(v) < 1e5):
        return f"{v:.4f}"
    return f"{v:.4g}"


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: if the learner's output matches ``fn``, say ``hint``."""

    fn: Callable[..., Any]
    message: str
    hint: str


def diagnose(
    got: Tensor, args: Sequence[Any], mistakes: Sequence[Mistake]
) -> Mistake | None:
    """The first known mistake whose output on ``args`` matches ``got``, if any."""
    got = got.detach()
    for mistake in mistakes:
        with torch.no_grad():
            try:
                want = mistake.fn(
                    *[a.detach() if isinstance(a, Tensor) else a for a in args]
                )
            except Exception:  # a mistake that does not apply to these inputs
                continue
        if not isinstance(want, Tensor) or want.shape != got.shape:
            continue
        both_nan = torch.isnan(want) & torch.isnan(got)
        same = torch.isclose(got, want, rtol=1e-4, atol=1e-5, equal_nan=True)
        if bool((same | both_nan).all()):
            return mistake
    return None


def diagnose_value(
    got: Any,
    args: Sequence[Any],
    mistakes: Sequence[Mistake],
    same: Callable[[Any, Any], bool],
) -> Mistake | None:
    """:func:`diagnose` for answers that are plain numbers (or tuples of them):
    the first mistake whose output on ``args`` satisfies ``same(got, output)``."""
    for mistake in mistakes:
        try:
            want = mistake.fn(*args)
        except Exception:  # a mistake that does not apply to these inputs
            continue
        if same(got, want):
            return mistake
    return None


def run_check(exercise: Exercise, fn: Any) -> CheckResult:
    """Run ``exercise.check_fn(fn)`` and turn its outcome into a :class:`CheckResult`.

    The global RNG state is saved and restored, so checking does not change what the
    rest of a notebook samples; warnings raised while checking are silenced.
    """
    eid = exercise.id
    if not callable(fn):
        return CheckResult(
            eid,
            False,
            f"expected a function, got a {type(fn).__name__}.",
            f"pass the function itself, check({eid!r}, my_fn), not my_fn(...); "
            f"it is called as {exercise.signature}.",
            FAIL,
        )
    try:
        # Warnings from learner code (e.g. "Converting a tensor with
        # requires_grad=True to a scalar") would bury the one-line verdict.
        with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.manual_seed(0)
            exercise.check_fn(fn)
    except NotImplementedYet:
        return CheckResult(
            eid,
            False,
            "not implemented yet.",
            "replace `raise NotImplementedError` with your code, then run the "
            "check again.",
            TODO,
        )
    except Failure as exc:
        return CheckResult(eid, False, _sentence(exc.message), exc.hint, FAIL)
    except Exception as exc:  # learner code outside call_learner, or a checker bug
        return CheckResult(
            eid,
            False,
            _sentence(f"checking stopped with {_short(exc)}"),
            f"make sure it is called as {exercise.signature}.",
            ERROR,
        )
    return CheckResult(eid, True, "correct", "", PASS)


def expect_dtype(out: Tensor, dtype: torch.dtype, what: str = "the result") -> None:
    """``out.dtype`` must be ``dtype`` (the dtype of the inputs)."""
    if out.dtype != dtype:
        raise Failure(
            f"{what} has dtype {out.dtype}, expected {dtype} like the inputs",
            "keep the inputs' dtype (no .double(), no torch.tensor(..., dtype=...)).",
        )


@dataclass(frozen=True)
class Case:
    """Controlled inputs for one round of a check.

    Attributes:
        name: what is special about these inputs, used in messages
            ("(N, 1) logits", "large logits such as ±100").
        args: positional arguments for the learner's function.
        hint: hint to give when the learner's code fails on exactly this case.
        extreme: values where a naive formula overflows; failures here get the
            exercise's numerical-stability hint.
    """

    name: str
    args: tuple[Tensor, ...]
    hint: str = ""
    extreme: bool = False


def check_scalar_loss(
    fn: Callable[..., Any],
    reference: Callable[..., Tensor],
    cases: Sequence[Case],
    arg_names: Sequence[str],
    mistakes: Sequence[Mistake] = (),
    wrong_hint: str = "",
    unstable_hint: str = "",
    data: Sequence[str] = (),
) -> None:
    """Check a loss ``fn(*tensors) -> scalar`` against ``reference`` on ``cases``.

    Per case, in this order (the first problem raises :class:`Failure`): the call
    succeeds; the result is a floating tensor, a scalar, finite, of the inputs'
    dtype and attached to the autograd graph; its value matches the reference (on a
    mismatch the known ``mistakes`` are tried first for a precise hint); and the
    gradient with respect to every input matches the reference's.

    Arguments named in ``data`` (e.g. a target image) are data, not something the
    loss trains: they are passed as copies that do not require grad, and no
    gradient is asked of them (detaching them is no mistake).
    """

    def inputs(args: Sequence[Tensor]) -> list[Tensor]:
        return [
            a.detach().clone()
            if i < len(arg_names) and arg_names[i] in data
            else leaf(a)
            for i, a in enumerate(args)
        ]

    for case in cases:
        ins = inputs(case.args)
        try:
            out = call_learner(fn, *ins)
        except Failure as exc:
            raise Failure(
                f"on {case.name}, {exc.message}", case.hint or exc.hint
            ) from None
        what = f"the loss for {case.name}"
        out = expect_tensor(out)
        expect_shape(out, (), what)
        expect_finite(out, what, unstable_hint if case.extreme else "")
        expect_dtype(out, case.args[0].dtype, what)
        expect_graph(out, what)

        ref_ins = inputs(case.args)
        want = reference(*ref_ins)
        if not torch.allclose(out.detach(), want.detach(), rtol=1e-4, atol=1e-5):
            mistake = diagnose(out, case.args, mistakes)
            if mistake is not None:
                raise Failure(mistake.message, mistake.hint)
            if case.extreme:
                raise Failure(
                    f"{what} is wrong (got {_fmt(out)}, expected {_fmt(want)}) "
                    "although moderate logits work",
                    unstable_hint,
                )
            expect_close(out, want, what, case.hint or wrong_hint)

        trained = [i for i, x in enumerate(ins) if x.requires_grad]
        got_grads = grads_of(out, [ins[i] for i in trained])
        want_grads = grads_of(want, [ref_ins[i] for i in trained])
        names = [arg_names[i] for i in trained if i < len(arg_names)]
        for name, g, g_ref in zip(names, got_grads, want_grads):
            if g is None:
                raise Failure(
                    f"no gradient reaches {name}",
                    f"the loss must depend on {name} through torch operations: no "
                    ".detach(), .item() or torch.tensor(...) on it.",
                )
            g_what = f"the gradient of the loss w.r.t. {name} ({case.name})"
            expect_finite(g, g_what, unstable_hint if case.extreme else "")
            if not torch.allclose(g, g_ref, rtol=1e-4, atol=1e-6):
                expect_close(
                    g,
                    g_ref,
                    g_what,
                    unstable_hint
                    if case.extreme
                    else "the value is right but autograd sees a different "
                    "function: is part of it detached or computed in-place?",
                    atol=1e-6,
                )
