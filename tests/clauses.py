"""Every clause of every graded function's contract in assignments 01 and 02, beside the test that reaches it.

``CLAUSES[assignment][function][clause] = (grade_id, fragment)``: the test cell ``grade_id`` of the
source notebook reaches the clause, and ``fragment`` (a call or a property message) is the line of
that cell that does. ``tests/test_clauses.py`` fails when a graded function has no table, when a
clause's cell or line is missing, and when an argument of a graded function has no clause "<arg> by
keyword" and "<arg> by position" (the contract's "honours every argument").

The clauses come from the contract cell of each notebook (input forms, any shape, float ndarray,
input not modified, stable up to magnitude 1e4, every argument) and from each docstring.
``NOT_TESTED`` names what a contract could be read to promise and no test reaches, with the reason.
"""

from __future__ import annotations

FORMS = "test_input_forms"


def elementwise(name: str, cell: str, values: str, *, forms: str | None = None, stable: str | None = None,
                shapes: str | None = None, unchanged: str = "check_elementwise(") -> dict[str, tuple[str, str]]:
    """The clauses every elementwise function of the contract has (A1 and A2 alike)."""
    table = {
        "values of the formula": (cell, values),
        "a plain number gives a 0-d float ndarray": (FORMS, forms or f"check_input_forms({name}"),
        "a list of floats and a list of ints give float arrays": (FORMS, forms or f"check_input_forms({name}"),
        "a 1-D and a 2-D array keep their shape": (cell, shapes or f"check_elementwise({name}"),
        "a float ndarray, exactly that type": (cell, f"check_elementwise({name}"),
        "the input array is not modified": (cell, unchanged),
    }
    if stable:
        table["stable up to magnitude 1e4, no warning"] = (cell, stable)
    return table


A1 = {
    "linear": {
        **elementwise("linear", "test_linear", "check_elementwise(linear, lambda v: v"),
        "integer input gives floats": ("test_linear", "integer input must give a float array"),
        "a 2-D integer array": ("test_linear", "must return the input's values (2-D integer array)"),
    },
    "sigmoid": {
        **elementwise("sigmoid", "test_sigmoid", "must match 1 / (1 + exp(-x)) on [-30, 30]",
                      stable="exact limits 0 and 1 for inputs of magnitude 800 and 1e4"),
        "symmetry sigma(-x) = 1 - sigma(x)": ("test_sigmoid", "must be symmetric"),
        "a 3-D array": ("test_sigmoid", "exact limit 0 at -1e4 for a 3-D array"),
        "log by keyword": ("test_sigmoid", "log=True must give log(sigmoid(x)) on [-30, 30]"),
        "log by position": ("test_sigmoid", "log=True (by position) must stay exact where sigmoid underflows"),
        "log exact where sigmoid underflows": ("test_sigmoid", "must stay exact where sigmoid underflows"),
    },
    "tanh": {
        **elementwise("tanh", "test_tanh", "must match math.tanh on [-20, 20]",
                      stable="exact limits -1 and 1 at -1e4 and 1e4"),
        "odd symmetry": ("test_tanh", "must be odd"),
        "scaled by keyword": ("test_tanh", "scaled=True must give 1.7159 tanh(2x / 3)"),
        "scaled by position": ("test_tanh", "scaled=True (by position) must saturate"),
    },
    "relu": {
        **elementwise("relu", "test_relu", "must be exactly max(0, x), from tiny to large magnitudes",
                      stable="np.array([-1e4, -1e-300, 1e-300, 7.25, 1e4])"),
        "a 2-D integer array": ("test_relu", "must handle a 2-D integer array"),
        "max_value by keyword": ("test_relu", "must cap the output at max_value"),
        "max_value by position": ("test_relu", "must honour max_value given by position"),
        "max_value 0 is a cap, not 'no cap'": ("test_relu", "for cap in (6, 1.0, 0.0)"),
        "a negative max_value raises ValueError": ("test_relu", "must raise ValueError: a negative cap"),
    },
    "leaky_relu": {
        **elementwise("leaky_relu", "test_leaky_relu", "must honour alpha (0, between 0 and 1, and above 1)",
                      stable="np.array([-1e4, -7.0, -0.1, 0.0, 0.1, 1e4])", unchanged="must not change its input"),
        "alpha by keyword": ("test_leaky_relu", "must honour alpha (0, between 0 and 1, and above 1)"),
        "alpha by position": ("test_leaky_relu", "must honour alpha given by position"),
        "an array alpha along the last axis (default)": ("test_leaky_relu", "one slope per entry of the last axis"),
        "axis by keyword": ("test_leaky_relu", "an array alpha must run along axis=0"),
        "axis by position": ("test_leaky_relu", "(alpha and axis by position)"),
        "a 4-D channels-first batch": ("test_leaky_relu", "channels-first batch"),
    },
    "elu": {
        **elementwise("elu", "test_elu", "must honour alpha",
                      stable="no overflow for inputs up to 1e4", unchanged="check_elementwise(elu"),
        "alpha by keyword": ("test_elu", "call_strict(elu, points, alpha=a)"),
        "alpha by position": ("test_elu", "must honour alpha given by position"),
        "the limit -alpha": ("test_elu", "must reach -alpha at -1e4"),
    },
    "softmax": {
        "values of the formula": ("test_softmax", "must honour axis (values of a 2-D batch)"),
        "a list (of ints) gives a float array": (FORMS, "softmax must accept a list of ints"),
        "an integer array": ("test_softmax", "must accept an integer array"),
        "the input's shape, a float ndarray": ("test_softmax", "check_output(out, scores.shape)"),
        "slices along axis sum to 1": ("test_softmax", "slices along axis must sum to 1"),
        "axis by keyword (-1, 0, 1; 3-D)": ("test_softmax", "must honour axis=1 of a 3-D batch"),
        "axis by position": ("test_softmax", "must honour axis given by position"),
        "a length-1 axis": ("test_softmax", "a slice of length 1 must give 1"),
        "a single column along axis 0": ("test_softmax", "must honour axis=0 of a single column"),
        "invariant to adding a constant": ("test_softmax", "must not change when a constant is added"),
        "each slice shifted by its own maximum": ("test_softmax", "each slice must be shifted by its own maximum"),
        "stable up to magnitude 1e4, no warning": ("test_softmax", "no overflow for inputs up to 1e4"),
        "the input array is not modified": ("test_softmax", "must not change its input"),
        "temperature by keyword": ("test_softmax", "must divide the scores by temperature"),
        "temperature by position": ("test_softmax", "must honour temperature given by position"),
        "ties at a temperature near 0 split evenly": ("test_softmax", "ties split evenly"),
        "a large temperature: nearly uniform": ("test_softmax", "a large temperature must give a nearly uniform"),
        "divide before exponentiating (no underflow)": ("test_softmax", "must divide by the temperature before"),
        "a temperature <= 0 raises ValueError": ("test_softmax", "must raise ValueError"),
        "a failing call is named with its arguments": ("test_softmax", "call_strict(softmax, scores, axis=ax)"),
    },
    "maxout": {
        "values: the maximum along axis": ("test_maxout", "must take the maximum along axis"),
        "a list of lists of ints gives a float array": (FORMS, "maxout must accept a list of lists of ints"),
        "the shape without axis; 0-d for a 1-D input": ("test_maxout", "must give a 0-d float array"),
        "all-negative values": ("test_maxout", "all-negative 3-D input"),
        "axis by keyword (-1, 0, 1, 2)": ("test_maxout", "call_strict(maxout, cube, axis=ax)"),
        "axis by position": ("test_maxout", "must honour axis given by position"),
        "the input array is not modified": ("test_maxout", "must not change its input"),
        "pieces by keyword: consecutive groups": ("test_maxout", "each group of consecutive entries"),
        "pieces by position (axis 0)": ("test_maxout", "pieces must group along axis=0 (by position)"),
        "pieces along a middle axis": ("test_maxout", "axis=1, pieces=2"),
        "pieces = 1 leaves the values": ("test_maxout", "pieces=1 must leave the values unchanged"),
        "pieces = length keeps a length-1 axis": ("test_maxout", "must keep a length-1 axis"),
        "pieces not dividing the length raises ValueError": ("test_maxout", "5 does not divide 12"),
    },
}

DERIVED = "derive it"

A2 = {
    "d_sigmoid": {
        **elementwise("d_sigmoid", "test_d_sigmoid", "must match sigma(x) (1 - sigma(x)) on [-30, 30]",
                      stable="must tend to 0 for inputs up to magnitude 1e4"),
        "relative accuracy in the tails": ("test_d_sigmoid", "tails included"),
        "evenness and the maximum 1/4": ("test_d_sigmoid", "must never exceed its maximum 1/4"),
        "a 3-D array": ("test_d_sigmoid", "for a 3-D array"),
        "derived: no autodiff, no framework activation": ("test_d_sigmoid", DERIVED),
    },
    "d_tanh": {
        **elementwise("d_tanh", "test_d_tanh", "must match 1 / cosh(x)^2 on [-20, 20]",
                      stable="must tend to 0 for inputs up to magnitude 1e4"),
        "relative accuracy in the tails": ("test_d_tanh", "tails included"),
        "evenness": ("test_d_tanh", "must be even"),
        "derived: no autodiff, no framework activation": ("test_d_tanh", DERIVED),
    },
    "d_relu": {
        **elementwise("d_relu", "test_d_relu", "must be exactly 1 above 0, at_zero at 0 and 0 below 0",
                      stable="[0.0, -1e4, 1e-300, -1e-300, 1e4, -0.0]"),
        "a 2-D integer array": ("test_d_relu", "must handle a 2-D integer array"),
        "at_zero by keyword (0, 0.5, 1)": ("test_d_relu", "for c in (0.0, 0.5, 1.0)"),
        "at_zero by position": ("test_d_relu", "must honour at_zero given by position"),
        "-0.0 is 0": ("test_d_relu", "-0.0]"),
        "at_zero outside [0, 1] raises ValueError": ("test_d_relu", "not a subgradient of ReLU at 0"),
    },
    "d_elu": {
        **elementwise("d_elu", "test_d_elu", "must honour alpha",
                      stable="no overflow for inputs up to 1e4"),
        "alpha by keyword": ("test_d_elu", "alpha=a)"),
        "alpha by position": ("test_d_elu", "must honour alpha given by position"),
        "1 at 0 for every alpha": ("test_d_elu", "the derivative at 0 must be 1 for every alpha"),
    },
    "d_silu": {
        **elementwise("d_silu", "test_d_silu", "must match the derivative of x sigma(x) on [-30, 30]",
                      stable="limits 0 and 1 for inputs up to magnitude 1e4"),
        "SiLU'(x) + SiLU'(-x) = 1": ("test_d_silu", "must satisfy SiLU'(x) + SiLU'(-x) == 1"),
        "negative and above-1 slopes": ("test_d_silu", "must exceed 1 where SiLU is steeper"),
        "a 3-D array": ("test_d_silu", "for a 3-D array"),
        "derived: no autodiff, no framework activation": ("test_d_silu", DERIVED),
    },
    "d_gelu": {
        **elementwise("d_gelu", "test_d_gelu", "must be the derivative of the exact GELU x Phi(x) (erf)",
                      stable="limits 0 and 1 for inputs up to magnitude 1e4"),
        "the exact form, not the tanh approximation": ("test_d_gelu", "not of its tanh approximation"),
        "approximate by keyword": ("test_d_gelu", "approximate=True must give the derivative of the tanh"),
        "approximate by position": ("test_d_gelu", "must honour approximate given by position"),
        "derived: no autodiff, no framework activation": ("test_d_gelu", DERIVED),
    },
    "softmax_jacobian": {
        "entries s_i (delta_ij - s_j)": ("test_softmax_jacobian", "entries must be s_i (delta_ij - s_j)"),
        "shape (n, n), a float ndarray": ("test_softmax_jacobian", "check_output(J, (n, n))"),
        "length 1 gives [[0]]": ("test_softmax_jacobian", "a single score must give the 1 x 1 matrix [[0]]"),
        "symmetric, columns sum to 0": ("test_softmax_jacobian", "columns must sum to 0"),
        "columns agree with finite differences": ("test_softmax_jacobian", "agree with finite differences"),
        "stable for scores up to 1e4 (and -1e4)": ("test_softmax_jacobian", "no underflow to 0/0 for scores of -1e4"),
        "an integer array": ("test_softmax_jacobian", "must accept an integer array"),
        "a list of ints": (FORMS, "softmax_jacobian must accept a list of ints"),
        "the input array is not modified": ("test_softmax_jacobian", "must not change its input"),
        "derived: no autodiff, no framework activation": ("test_softmax_jacobian", DERIVED),
    },
    "numerical_derivative": {
        "the central difference, exact for x^3": ("test_numerical_derivative", "must be the central difference"),
        "h by keyword": ("test_numerical_derivative", "(h by keyword)"),
        "h by position": ("test_numerical_derivative", "must honour h given by position"),
        "the default h = 1e-5": ("test_numerical_derivative", "must use the default h = 1e-5"),
        "error ~ h^2": ("test_numerical_derivative", "the error must shrink like h^2"),
        "the relative step far from 0": ("test_numerical_derivative", "must use the relative step"),
        "a 2-D array": ("test_numerical_derivative", "must work elementwise on a 2-D array"),
        "the input array is not modified": ("test_numerical_derivative", "must not change its input"),
        "a number gives a 0-d array; lists": (FORMS, "numerical_derivative(np.sin, x)"),
    },
    "activation_stds": {
        "the docstring's recipe, Glorot and He": ("test_activation_stds", "must follow the docstring's recipe"),
        "non-square stacks (fan_in + fan_out)": ("test_activation_stds", "[256, 32, 128, 8, 64]"),
        "shape (len(widths),), a float ndarray": ("test_activation_stds", "check_output(got, (len(widths),))"),
        "seed by keyword": ("test_activation_stds", "must honour seed (one layer)"),
        "seed by position": ("test_activation_stds", "must honour seed given by position"),
        "a list as x": ("test_activation_stds", "must accept a list as x"),
        "He keeps a deep ReLU stack's scale": ("test_activation_stds", "He must keep the scale"),
        "Glorot lets a deep ReLU stack shrink": ("test_activation_stds", "Glorot must let a deep ReLU stack"),
        "an unknown scheme raises ValueError": ("test_activation_stds", "an unknown scheme must raise ValueError"),
        "the input array is not modified": ("test_activation_stds", "must not change its input"),
    },
    "dead_fraction": {
        "dead = every sample <= 0 (0 counts)": ("test_dead_fraction", "exactly 0 counts as dead"),
        "units are columns": ("test_dead_fraction", "units are columns, not rows"),
        "results 0 and 1": ("test_dead_fraction", "all units dead must give 1"),
        "a single sample (one row)": ("test_dead_fraction", "must handle a single sample (one row)"),
        "wide and tall arrays": ("test_dead_fraction", "(wide array: more units than samples)"),
        "a float (Python or 0-d) comes back": ("test_dead_fraction", "a list of integers must give a float"),
        "a list of integers": ("test_dead_fraction", "a list of integers: a unit is dead"),
        "a list of lists": (FORMS, "dead_fraction must accept a list of lists"),
        "the input array is not modified": ("test_dead_fraction", "dead_fraction modified its input array"),
    },
}

CLAUSES = {"01_activation_basics": A1, "02_gradients": A2}

# What a contract could be read to promise and no test reaches, with the reason.
NOT_TESTED = {
    "01_activation_basics": {
        "dtypes other than float64 and int (float32, float16) keep their precision":
            "the contract asks for a float ndarray, not for the input's dtype; float64 is what every test uses",
        "inputs beyond magnitude 1e4 (up to 1.8e308)": "the contract bounds stability at 1e4",
        "nan and inf inputs": "the contract does not say what they give (NumPy's propagation is the natural answer)",
    },
    "02_gradients": {
        "dtypes other than float64 and int": "as in 01",
        "inputs beyond magnitude 1e4": "the contract bounds stability at 1e4",
        "dead_fraction: integer overflow of counts": "the count is a NumPy sum of booleans (int64): it cannot "
                                                    "overflow for an array that fits in memory",
        "the derive-it check: code written to switch TensorFlow back on": "deliberate circumvention in the "
                                                                         "student's own process (SECURITY.md)",
    },
}
