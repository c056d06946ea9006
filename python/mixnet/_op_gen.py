"""Generates the op functions of mx.nd and mx.sym (and their random, linalg, contrib, image
and _internal submodules) from the C++ registry, with real signatures and docstrings.

Each function is compiled from source, as MXNet did, so that `inspect.signature` and `help`
show the op's inputs and parameters; its body is one call into the C++ core."""
import keyword
import sys
import types

from . import _core
from .base import _Null

# MXNet's module for an op name's prefix (the prefix is dropped there).
_NAMESPACES = (
    ("_random_", "random"), ("_sample_", "random"), ("_linalg_", "linalg"),
    ("_contrib_", "contrib"), ("_image_", "image"), ("_internal_", "_internal"),
)


def namespace_of(name):
    """(submodule, function name) for an op name: ('random', 'uniform') for _random_uniform;
    '' is the top-level module. Other names with a leading '_' go to _internal, unchanged."""
    for prefix, ns in _NAMESPACES:
        if name.startswith(prefix):
            return ns, name[len(prefix):]
    if name.startswith("_"):
        return "_internal", name
    return "", name


def _doc(info, array_type):
    lines = [info["doc"] or info["name"], "", "Parameters", "----------"]
    for inp in info["inputs"]:
        name = inp.lstrip("*").rstrip("?")
        kind = f"{array_type}[]" if inp.startswith("*") else array_type
        lines.append(f"{name} : {kind}" + (", optional" if inp.endswith("?") else ""))
    for pname, ptype, default, pdoc in info["params"]:
        opt = f", optional, default={default}" if default is not None else ", required"
        lines.append(f"{pname} : {ptype}{opt}")
        if pdoc:
            lines.append(f"    {pdoc}")
    if array_type == "NDArray":
        lines += ["out : NDArray, optional", "    The output array.", "",
                  "Returns", "-------", "out : NDArray or list of NDArrays"]
    else:  # a Symbol holds all the outputs
        lines += ["name : str, optional", "    The node's name.",
                  "attr : dict of str to str, optional", "    Attributes of the node.", "",
                  "Returns", "-------", f"out : {array_type}"]
    return "\n".join(lines)


def _signature_parts(info):
    """(parameter list source, inputs tuple source, attrs tuple source, variadic name)."""
    params, inputs, attrs = [], [], []
    variadic = None
    for inp in info["inputs"]:
        name = inp.lstrip("*").rstrip("?")
        if inp.startswith("*"):
            variadic = name
            params.insert(0, "*" + name)
            inputs.append(name)
        else:
            params.append(f"{name}=None")
            inputs.append(name)
    for pname, _ptype, _default, _pdoc in info["params"]:
        if keyword.iskeyword(pname) or pname in inputs:
            continue  # still settable through **kwargs
        params.append(f"{pname}=_Null")
        attrs.append(f"{pname!r}, {pname}")
    return params, inputs, attrs, variadic


def make_function(info, func_name, template, env):
    """Compiles `func_name` for op `info` from `template`, a format string given
    {name, params, inputs, attrs, num_args} and run in `env` (which holds _op)."""
    params, inputs, attrs, variadic = _signature_parts(info)
    num_args = ""
    if variadic and any(p[0] == "num_args" for p in info["params"]):
        num_args = f"    if num_args is _Null:\n        num_args = len({variadic})\n"
    src = template.format(
        name=func_name, params=", ".join(params),
        inputs="(" + "".join(f"{i}, " for i in inputs) + ")",
        attrs="(" + "".join(f"{a}, " for a in attrs) + ")",
        num_args=num_args)
    env = dict(env, _Null=_Null)
    exec(compile(src, f"<mixnet op {info['name']}>", "exec"), env)  # noqa: S102
    fn = env[func_name]
    fn.__doc__ = _doc(info, env.get("_array_type", "NDArray"))
    return fn


# mx.nd: inputs are NDArrays; the result is one NDArray or a list.
ND_TEMPLATE = """def {name}({params}, out=None, name=None, **kwargs):
{num_args}    return _invoke(_op, {inputs}, {attrs}, out, kwargs or None)
"""

# mx.sym: inputs are Symbols (missing ones become variables NAME_INPUT); returns a Symbol.
SYM_TEMPLATE = """def {name}({params}, name=None, attr=None, **kwargs):
{num_args}    return _invoke(_op, _input_names, {inputs}, {attrs}, name, attr, kwargs or None)
"""


def make_modules(package, label):
    """{namespace: module} for `package` (a module object) and its generated submodules
    random, linalg, contrib, image and _internal (created, registered in sys.modules)."""
    modules = {"": package}
    for ns in ("random", "linalg", "contrib", "image", "_internal"):
        full_name = f"{package.__name__}.{ns}"
        mod = sys.modules.get(full_name)
        if mod is None:
            mod = types.ModuleType(full_name, f"{label}.{ns}: generated op functions")
            sys.modules[full_name] = mod
        setattr(package, ns, mod)
        modules[ns] = mod
    return modules


def input_names(info):
    """The names of an op's inputs, as the generated functions' `inputs` tuple orders them."""
    return tuple(inp.lstrip("*").rstrip("?") for inp in info["inputs"])


def populate(modules, template, make_env, module_name):
    """Defines every op in `modules` (a dict namespace -> module): aliases too, each under its
    own name. `make_env(handle)` gives the names the template's body uses."""
    for info in _core.list_op_info():
        handle = _core.get_op(info["name"])
        env = make_env(handle)
        for op_name in [info["name"]] + list(info["aliases"]):
            ns, fname = namespace_of(op_name)
            if not fname.isidentifier() or keyword.iskeyword(fname):
                continue
            mod = modules.get(ns)
            if mod is None:
                continue
            fn = make_function(info, fname, template, env)
            fn.__module__ = module_name + ("." + ns if ns else "")
            setattr(mod, fname, fn)
            # MXNet also keeps every op, prefixed name included, in _internal.
            if ns != "_internal" and "_internal" in modules and op_name.startswith("_"):
                setattr(modules["_internal"], op_name, fn)
