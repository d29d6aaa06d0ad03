"""Checks of exercises/eigen.py, continued from :mod:`grader.bank.eigen` (power_iteration,
spectral_decomposition): rotation_2d and rotation_3d, matrix_power, hyperellipse_axes.

As there, no check compares eigenvector matrices entry by entry (they are unique only up to sign
and to a basis of each eigenspace): hyperellipse_axes compares the lengths, D^T D = I and
A d_j = d_j / lengths_j^2. The case builders and the eigenpair comparisons are
:mod:`grader.bank.eigen`'s.
"""

from __future__ import annotations

import math

import numpy as np

from grader import diagnose
from grader.bank.eigen import (_MISTAKE_RTOL, _diagnosis, _eigen_residual, _mm,
                               _orthonormal_problem, _pair_problem, _raises_value_error,
                               _same_pairs, _symmetric)
from grader.bank.inputs import rotation
from grader.catalog import Call, Case, Check, Exercise, Scaling, Timing, Verdict
from grader.compare import compare, fmt
from grader.judges import Mistake, Trial


# ----------------------------------------------------------------------------- matching

def _same_values(got: object, wrong: object, case: Case, mistake: Mistake) -> bool:
    """Equal within the mistake's tolerance, and both complex or both real."""
    if _has_complex(got) != _has_complex(wrong):
        return False
    return compare(got, wrong, rtol=mistake.rtol, atol=mistake.atol, check_dtype=False) is None


def _has_complex(value: object) -> bool:
    if isinstance(value, (tuple, list)):
        return any(_has_complex(v) for v in value)
    return isinstance(value, np.ndarray) and value.dtype.kind == "c"


# ----------------------------------------------------------------------------- rotation_matrix

# Entries of a rotation are cosines and sines: libm's last bits are all that differ.
ROTATION_ATOL = 1e-12
_E = np.eye(3)


def _rotation_2d_case(thetas, note: str):
    def build(rng: np.random.Generator) -> Case:
        values = thetas(rng) if callable(thetas) else thetas
        return Case(tuple(Call("rotation_2d", (float(t),)) for t in values), note)
    return build


def _unit(rng: np.random.Generator) -> np.ndarray:
    z = rng.standard_normal(3)
    return z / math.sqrt(np.sum(z * z))


def _rotation_3d_case(pairs, note: str):
    def build(rng: np.random.Generator) -> Case:
        values = pairs(rng) if callable(pairs) else pairs
        return Case(tuple(Call("rotation_3d", (np.array(axis, dtype=np.float64), float(t)))
                          for axis, t in values), note)
    return build


def _rodrigues(axis: np.ndarray, theta: float, *, normalize: bool = True) -> np.ndarray:
    x, y, z = axis / np.linalg.norm(axis) if normalize else axis
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + math.sin(theta) * k + (1 - math.cos(theta)) * (k @ k)


def _rotation_wrong(*, sign: float = 1.0, scale: float = 1.0, normalize: bool = True):
    """Every call's result, rotating by sign * scale * theta about a (un)normalized axis."""

    def variant(case: Case) -> list[np.ndarray]:
        out = []
        for call in case.calls:
            theta = sign * scale * call.args[-1]
            if call.func == "rotation_2d":
                c, s = math.cos(theta), math.sin(theta)
                out.append(np.array([[c, -s], [s, c]]))
            else:
                out.append(_rodrigues(np.asarray(call.args[0], dtype=np.float64), theta,
                                      normalize=normalize))
        return out

    return variant


ROTATION_MISTAKES = (
    Mistake("rotation_transposed",
            "your matrix is the rotation by -theta (the transpose of the right one): R(theta) "
            "turns COUNTERCLOCKWISE, R(pi/2) e_x = e_y, so R = [[cos, -sin], [sin, cos]]; in "
            "3-D, by the right-hand rule about the axis: R = I + sin(theta) K + (1 - cos(theta)) "
            "K^2 with K v = k x v, i.e. K = [[0, -k3, k2], [k3, 0, -k1], [-k2, k1, 0]]",
            _rotation_wrong(sign=-1.0), rtol=_MISTAKE_RTOL, atol=1e-9),
    Mistake("rotation_axis_not_normalized",
            "Rodrigues' formula needs a UNIT axis: divide the axis by its norm first. With K "
            "built from a longer axis, R is not even orthogonal",
            _rotation_wrong(normalize=False), rtol=_MISTAKE_RTOL, atol=1e-9),
    Mistake("rotation_degrees",
            "you treated theta as degrees: theta is in radians (no np.radians / np.deg2rad)",
            _rotation_wrong(scale=math.pi / 180), rtol=_MISTAKE_RTOL, atol=1e-9),
)


def _call_text(call: Call) -> str:
    """'rotation_3d(axis=[0, 0, 2.5], theta=1.5708)'."""
    names = ("theta",) if call.func == "rotation_2d" else ("axis", "theta")
    args = ", ".join(f"{name}=" + (np.array2string(a, precision=4, separator=", ")
                                   if isinstance(a, np.ndarray) else f"{a:.6g}")
                     for name, a in zip(names, call.args))
    return f"{call.func}({args})"


def _rotation_properties(r: np.ndarray, call: Call) -> str:
    """The properties of a rotation that ``r`` violates, as text."""
    if r.shape not in ((2, 2), (3, 3)) or not np.isfinite(r).all():
        return ""
    broken = []
    ortho = float(np.abs(r.T @ r - np.eye(len(r))).max())
    if ortho > 1e-9:
        broken.append(f"R^T R = I fails (max |R^T R - I| = {fmt(ortho)})")
    det = float(np.linalg.det(r))
    if abs(det - 1) > 1e-9:
        broken.append(f"det R = {fmt(det)}, not +1")
    if call.func == "rotation_3d":
        k = np.asarray(call.args[0], dtype=np.float64)
        k = k / np.linalg.norm(k)
        moved = float(np.linalg.norm(r @ k - k))
        if moved > 1e-9:
            broken.append(f"R moves the axis (||R k - k|| = {fmt(moved)} for the unit axis k)")
    return "; a rotation must have " + "; ".join(broken) if broken else ""


def _rotation_judge(trial: Trial) -> Verdict:
    """Each call against the reference, entry by entry (a rotation matrix is unique)."""
    for i, call in enumerate(trial.case.calls):
        got, want = trial.got(i), trial.want(i)
        found = compare(got, want, rtol=0.0, atol=ROTATION_ATOL)
        if found is None:
            continue
        message = f"{_call_text(call)}: {found}"
        if isinstance(got, np.ndarray) and got.dtype.kind in "biuf":
            message += _rotation_properties(got.astype(np.float64), call)
        values = [r.value for r in trial.actual]
        wanted = [r.value for r in trial.expected]
        return Verdict(False, message, _diagnosis(values, trial.case, ROTATION_MISTAKES,
                                                  _same_values, wanted))
    return Verdict(True)


_PI = math.pi
ROTATION_MATRIX = Exercise(
    id="eigen.rotation_matrix",
    title="Rotation matrices in 2-D and 3-D",
    functions=("rotation_2d", "rotation_3d"),
    summary="counterclockwise R(theta) in the plane; Rodrigues' formula about a 3-D axis",
    checks=(
        Check("known_2d", _rotation_2d_case([_PI / 2, _PI / 6, _PI], "theta = pi/2, pi/6, pi"),
              _rotation_judge, points=0.5, about="2-D rotations by pi/2, pi/6 and pi"),
        Check("random_2d", _rotation_2d_case(lambda rng: rng.uniform(-_PI, _PI, 3),
                                             "three angles in (-pi, pi)"),
              _rotation_judge, points=0.5, about="2-D rotations by random angles"),
        Check("known_3d", _rotation_3d_case([(_E[2], _PI / 2), (_E[0], _PI / 2),
                                             (_E[1], _PI / 3)],
                                            "the coordinate axes, theta = pi/2 and pi/3"),
              _rotation_judge, points=0.5, about="3-D rotations about the coordinate axes"),
        Check("random_3d", _rotation_3d_case(
            lambda rng: [(_unit(rng), rng.uniform(-_PI, _PI)) for _ in range(3)],
            "three random unit axes and angles"), _rotation_judge, points=0.5,
              about="3-D rotations about random unit axes"),
        Check("special_angles_2d", _rotation_2d_case(
            lambda rng: [0.0, 2 * _PI, -_PI / 2, -rng.uniform(0.1, 3.0)],
            "theta = 0, 2 pi, -pi/2 and a negative angle"), _rotation_judge, points=0.5,
              hidden=True, about="theta = 0, 2 pi and negative angles in 2-D"),
        Check("special_angles_3d", _rotation_3d_case(
            lambda rng: [(_unit(rng), 0.0), (_unit(rng), 2 * _PI),
                         (_unit(rng), -rng.uniform(0.1, 3.0))],
            "theta = 0, 2 pi and a negative angle"), _rotation_judge, points=0.5, hidden=True,
              about="theta = 0, 2 pi and negative angles in 3-D"),
        Check("non_unit_axis", _rotation_3d_case(
            lambda rng: [([0.0, 0.0, 2.5], _PI / 2), ([1.0, 1.0, 1.0], 2 * _PI / 3),
                         (3.7 * _unit(rng), rng.uniform(-_PI, _PI))],
            "axes of norm 2.5, sqrt(3) and 3.7"), _rotation_judge, points=1, hidden=True,
              about="an axis of any length: normalize it"),
    ),
)


# ----------------------------------------------------------------------------- matrix_power

# V diag(w^k) V^{-1} loses about cond(V)^2 * k * eps relative to max|A^k|; the cases keep
# cond(V) <= 4 (P = R1 diag(s) R2^T with s in [0.5, 2]), so rounding stays below 1e-13.
MATRIX_POWER_RTOL = 1e-9


def _similar(rng: np.random.Generator, d: np.ndarray) -> np.ndarray:
    """P d P^{-1} for P = R1 diag(s) R2^T, whose inverse R2 diag(1/s) R1^T is exact algebra."""
    n = len(d)
    r1, r2 = rotation(rng, n), rotation(rng, n)
    s = rng.uniform(0.5, 2.0, n)
    return _mm(_mm(_mm(r1 * s, r2.T), d), _mm(r2 / s, r1.T))


def _mp_case(values, k: int, note: str, *, symmetric: bool = False, pair=None):
    """A diagonalizable matrix with these real eigenvalues (and a complex pair a +- ib)."""

    def build(rng: np.random.Generator) -> Case:
        vals = np.asarray(values, dtype=np.float64) * rng.uniform(0.95, 1.05)
        if symmetric:
            a, _ = _symmetric(rng, vals)
        else:
            d = np.diag(np.concatenate([[0.0, 0.0] if pair else [], vals]))
            if pair:
                d[0, 0] = d[1, 1] = pair[0]
                d[0, 1], d[1, 0] = -pair[1], pair[1]
            a = _similar(rng, d)
        return Case((Call("matrix_power", (a, k)),), f"{note}, k={k}")
    return build


_JORDAN = np.array([[1.0, 1.0], [0.0, 1.0]])


def _mp_inputs(case: Case) -> tuple[np.ndarray, int]:
    call = case.calls[-1]
    return np.asarray(call.args[0], dtype=np.float64), int(call.args[1])


def _mp_wrong(how: str):
    def variant(case: Case) -> np.ndarray:
        a, k = _mp_inputs(case)
        if how == "elementwise":
            return a**k
        w, v = np.linalg.eig(a)
        with np.errstate(all="ignore"):  # exp(k log w) is NaN for a negative w
            wk = np.exp(k * np.log(w)) if how == "exp_log" else w**k
            out = (v * wk) @ (v.T if how == "transpose" else np.linalg.inv(v))
        return out if how == "complex" or not np.iscomplexobj(out) else out.real
    return variant


MP_MISTAKES = (
    Mistake("mp_elementwise",
            "A**k raises every ENTRY of A to the power k; the matrix power is the product "
            "A A ... A, which the eigendecomposition turns into V diag(w**k) V^{-1}",
            _mp_wrong("elementwise"), rtol=_MISTAKE_RTOL, atol=1e-9),
    Mistake("mp_transpose_not_inverse",
            "you used V^T where V^{-1} belongs: the eigenvectors of a NON-symmetric matrix are "
            "not orthogonal, so V^{-1} != V^T. Use np.linalg.inv(V) or np.linalg.solve",
            _mp_wrong("transpose"), rtol=_MISTAKE_RTOL, atol=1e-9),
    Mistake("mp_defective_ignored",
            "[[1, 1], [0, 1]] is not diagonalizable: its only eigenvectors are multiples of "
            "e_1, so the V that np.linalg.eig returns is singular up to rounding and "
            "V diag(w**k) V^{-1} is meaningless. Detect it (np.linalg.cond(V) huge) and raise "
            "np.linalg.LinAlgError, or fall back to repeated multiplication",
            _mp_wrong("plain"), rtol=_MISTAKE_RTOL, atol=1e-6),
    Mistake("mp_exp_log",
            "you computed w**k as exp(k log w): the log of a negative eigenvalue is NaN. With "
            "an integer k, w**k is exact for negative w too",
            _mp_wrong("exp_log"), rtol=_MISTAKE_RTOL, atol=1e-9),
    Mistake("mp_complex",
            "your result is complex: for complex eigenvalues np.linalg.eig returns complex V "
            "and w, but A^k of a real matrix is real (the eigenvalues come in conjugate pairs "
            "and the imaginary parts cancel up to rounding): return the real part",
            _mp_wrong("complex"), rtol=_MISTAKE_RTOL, atol=1e-9),
)


def _mp_judge(trial: Trial) -> Verdict:
    got, want = trial.got(), trial.want()
    atol = MATRIX_POWER_RTOL * float(np.abs(want).max())
    found = compare(got, want, rtol=MATRIX_POWER_RTOL, atol=atol)
    if found is None:
        return Verdict(True)
    note = f" for {trial.case.note}" if trial.case.note else ""
    diagnosis = _diagnosis(got, trial.case, MP_MISTAKES, _same_values, want)
    if diagnosis is None and found.kind != "dtype":
        diagnosis = diagnose.generic(got, want, rtol=MATRIX_POWER_RTOL, atol=atol)
    return Verdict(False, f"matrix_power{note}: {found}", diagnosis)


def _mp_defective_judge(trial: Trial) -> Verdict:
    """Raising LinAlgError (or ValueError) is right; so is the true power [[1, k], [0, 1]]."""
    raised = trial.actual[-1].raised
    if raised is not None and {"LinAlgError", "ValueError"} & set(raised.get("mro", ())):
        return Verdict(True)
    verdict = _mp_judge(trial)
    if verdict.passed:
        return verdict
    return Verdict(False, verdict.message + "; A is not diagonalizable: raise "
                                            "np.linalg.LinAlgError or fall back to repeated "
                                            "multiplication", verdict.diagnosis)


def _mp_sized(rng: np.random.Generator, k: int) -> Call:
    # The k-step transition matrix of a 60-state Markov chain (rows sum to 1, so the powers
    # stay bounded).
    p = rng.uniform(0.0, 1.0, (60, 60))
    return Call("matrix_power", (p / np.sum(p, axis=1, keepdims=True), k), send=False)


def _mp_timing(rng: np.random.Generator) -> Call:
    return _mp_sized(rng, 2000)


MATRIX_POWER = Exercise(
    id="eigen.matrix_power",
    title="Matrix powers by diagonalization",
    functions=("matrix_power",),
    summary="A^k = V diag(w^k) V^{-1} from A = V diag(w) V^{-1}",
    forbidden=("numpy.linalg.matrix_power", "scipy.linalg.fractional_matrix_power",
               "torch.linalg.matrix_power", "torch.matrix_power"),
    checks=(
        Check("symmetric", _mp_case([1.5, 0.8, -0.6, 0.3], 5, "a symmetric 4x4 matrix",
                                    symmetric=True), _mp_judge, points=0.5,
              about="a symmetric 4x4 matrix, k=5"),
        Check("non_symmetric", _mp_case([1.4, 0.9, -0.7, 0.5, 0.2], 7,
                                        "a non-symmetric 5x5 matrix"), _mp_judge, points=1,
              about="a non-symmetric 5x5 matrix, k=7"),
        Check("k_zero", _mp_case([1.3, -0.8, 0.5, 0.2], 0, "a non-symmetric 4x4 matrix"),
              _mp_judge, points=0.5, hidden=True, about="k = 0 gives the identity"),
        Check("k_twenty", _mp_case([1.6, -1.2, 0.9, 0.5, 0.3, -0.1], 20,
                                   "a non-symmetric 6x6 matrix"), _mp_judge, points=0.5,
              hidden=True, about="k = 20"),
        Check("negative_eigenvalues", _mp_case([-1.7, -0.6, 0.4, 1.1], 9,
                                               "a non-symmetric 4x4 matrix with negative "
                                               "eigenvalues"), _mp_judge, points=0.5,
              hidden=True, about="negative eigenvalues, odd k"),
        Check("complex_eigenvalues", _mp_case([1.2, -0.4], 6, "a non-symmetric 4x4 matrix with "
                                                              "eigenvalues 0.6 +- 0.9i",
                                              pair=(0.6, 0.9)), _mp_judge, points=0.5,
              hidden=True, about="complex eigenvalues: the result is real"),
        Check("defective", lambda rng: Case((Call("matrix_power", (_JORDAN.copy(), 10)),),
                                            "[[1, 1], [0, 1]] (not diagonalizable), k=10"),
              _mp_defective_judge, points=0.5, hidden=True,
              about="a defective matrix: raise LinAlgError or fall back"),
    ),
    timing=Timing(_mp_timing, slow_ratio=6.0,
                  advice="diagonalize once and raise the eigenvalues to the power k: a loop of "
                         "k matrix products costs k times n^3",
                  # Diagonalization costs the same for any k; a loop of products grows as k.
                  scaling=Scaling(_mp_sized, sizes=(250, 500, 1000, 2000), size_name="k")),
)


# ----------------------------------------------------------------------------- hyperellipse_axes

ELLIPSE_RTOL = 1e-10
ELLIPSE_ATOL = 1e-9  # orthonormality, and residuals relative to max(lambda)


def _ellipse_case(values, note: str):
    def build(rng: np.random.Generator) -> Case:
        vals = np.asarray(values, dtype=np.float64) * rng.uniform(0.9, 1.1)
        a, _ = _symmetric(rng, vals)
        return Case((Call("hyperellipse_axes", (a,)),), note)
    return build


def _ellipse_wrong(lengths, *, ascending: bool = False, rows: bool = False):
    """eigh's directions with ``lengths(lam)``, sorted by length (descending unless
    ``ascending``), directions as rows when ``rows``."""

    def variant(case: Case) -> tuple[np.ndarray, np.ndarray]:
        w, v = np.linalg.eigh(np.asarray(case.calls[-1].args[0], dtype=np.float64))
        with np.errstate(all="ignore"):
            ell = lengths(w)
        idx = np.argsort(ell if ascending else -ell, kind="stable")
        return ell[idx], (v[:, idx].T.copy() if rows else v[:, idx])

    return variant


ELLIPSE_MISTAKES = (
    Mistake("ellipse_no_sqrt",
            "your lengths are 1/lambda: along a unit eigenvector v, the point x = t v has "
            "x^T A x = t^2 lambda, which is 1 for t = 1/sqrt(lambda)",
            _ellipse_wrong(lambda w: 1 / w)),
    Mistake("ellipse_not_inverted",
            "your lengths grow with the eigenvalues (sqrt(lambda)): a LARGE eigenvalue makes "
            "x^T A x grow fast along its eigenvector, so the ellipsoid is SHORT there: the "
            "semi-axis is 1/sqrt(lambda), and the smallest eigenvalue gives the longest axis",
            _ellipse_wrong(np.sqrt)),
    Mistake("ellipse_diameters",
            "your lengths are 2/sqrt(lambda), the full axes: return the SEMI-axis lengths "
            "1/sqrt(lambda), from the center to the surface",
            _ellipse_wrong(lambda w: 2 / np.sqrt(w))),
    Mistake("ellipse_ascending",
            "your lengths are in ascending order: return the longest axis first. The "
            "ascending eigenvalues of np.linalg.eigh already give descending lengths",
            _ellipse_wrong(lambda w: 1 / np.sqrt(w), ascending=True)),
    Mistake("ellipse_rows",
            "your directions are ROWS: return them as the columns of a (n, n) array, column j "
            "along the axis of length lengths[j]",
            _ellipse_wrong(lambda w: 1 / np.sqrt(w), rows=True)),
)
ELLIPSE_UNBOUNDED = Mistake(
    "ellipse_unbounded",
    "you returned lengths for a matrix that is not positive definite: along an eigenvector "
    "with lambda <= 0, x^T A x never reaches 1, so the set is no ellipsoid and 1/sqrt(lambda) "
    "is NaN or huge. Raise ValueError when the smallest eigenvalue is <= 1e-12 times the "
    "largest", _ellipse_wrong(lambda w: 1 / np.sqrt(w)))


def _same_ellipse(got: object, wrong: object, case: Case, mistake: Mistake) -> bool:
    a = np.asarray(case.calls[-1].args[0], dtype=np.float64)
    if mistake.name != "ellipse_unbounded":
        return _same_pairs(got, wrong, a)
    lengths = got[0] if isinstance(got, (tuple, list)) and len(got) == 2 else None
    if not isinstance(lengths, np.ndarray) or lengths.dtype.kind != "f" or lengths.size == 0:
        return False
    with np.errstate(all="ignore"):
        return bool(not np.isfinite(lengths).all() or lengths.max() > 1e5 * lengths.min())


def _ellipse_judge(trial: Trial) -> Verdict:
    """Lengths against the reference; directions orthonormal with A d_j = d_j / lengths_j^2,
    which holds for any signs and any basis of equal-length axes."""
    got, (len_w, _) = trial.got(), trial.want()
    a = np.asarray(trial.case.calls[-1].args[0], dtype=np.float64)
    n = len(a)

    def fail(message: str) -> Verdict:
        return Verdict(False, f"hyperellipse_axes for {trial.case.note}: {message}",
                       _diagnosis(got, trial.case, ELLIPSE_MISTAKES, _same_ellipse,
                                  trial.want()))

    problem = _pair_problem(got, ((n,), (n, n)), ("lengths", "directions"))
    if problem:
        return fail(problem)
    lengths, d = (np.asarray(x, dtype=np.float64) for x in got)
    found = compare(lengths, len_w, rtol=ELLIPSE_RTOL, atol=1e-12 * float(len_w.max()),
                    path="lengths")
    if found is not None:
        return fail(f"{found} (the semi-axis lengths 1/sqrt(lambda), longest first)")
    problem = _orthonormal_problem(d, ELLIPSE_ATOL, "directions")
    if problem:
        return fail(problem)
    j, residual = _eigen_residual(a, 1 / lengths**2, d)
    scale = float(1 / len_w.min() ** 2)
    if residual > ELLIPSE_ATOL * scale:
        return fail(f"directions[:, {j}] is not the axis of length lengths[{j}] = "
                    f"{fmt(lengths[j])} (either sign, and any orthonormal basis of axes of "
                    f"equal length, is fine): it must be an eigenvector of A for the "
                    f"eigenvalue 1/lengths[{j}]^2, but ||A d - d / lengths^2|| = {fmt(residual)}")
    return Verdict(True)


_NOT_SPD = "{x : x^T A x = 1} is a bounded ellipsoid only for a positive definite A"
HYPERELLIPSE_AXES = Exercise(
    id="eigen.hyperellipse_axes",
    title="Axes of a hyperellipsoid",
    functions=("hyperellipse_axes",),
    summary="semi-axes 1/sqrt(lambda) (longest first) and eigenvector directions of "
            "{x : x^T A x = 1}",
    checks=(
        Check("ellipse_2d", _ellipse_case([4.0, 1.0], "a 2x2 positive definite matrix"),
              _ellipse_judge, points=1, about="an ellipse in the plane"),
        Check("ellipsoid_4d", _ellipse_case([9.0, 4.0, 1.0, 0.25],
                                            "a 4x4 positive definite matrix"),
              _ellipse_judge, points=1, about="a 4-D ellipsoid"),
        Check("spheroid", _ellipse_case([4.0, 1.0, 1.0], "a 3x3 positive definite matrix with "
                                                         "a repeated eigenvalue"),
              _ellipse_judge, points=0.5, hidden=True,
              about="two equal axes: any orthonormal basis of their plane"),
        Check("sphere", _ellipse_case([2.25] * 4, "c I written in a rotated basis (a sphere)"),
              _ellipse_judge, points=0.5, hidden=True, about="a sphere: all axes equal"),
        Check("indefinite", _ellipse_case([3.0, 1.0, -0.5], "a symmetric 3x3 matrix with a "
                                                            "negative eigenvalue"),
              _raises_value_error(_NOT_SPD, (ELLIPSE_UNBOUNDED,), _same_ellipse),
              points=0.5, hidden=True, about="an indefinite matrix raises ValueError"),
        Check("singular", _ellipse_case([2.0, 1.0, 0.0], "a symmetric 3x3 matrix of rank 2"),
              _raises_value_error(_NOT_SPD, (ELLIPSE_UNBOUNDED,), _same_ellipse),
              points=0.5, hidden=True, about="a singular matrix raises ValueError"),
    ),
)

EXERCISES = (ROTATION_MATRIX, MATRIX_POWER, HYPERELLIPSE_AXES)
