// mx.nd.NDArray: the C++ NDArray as a Python class. Arithmetic and the properties every
// training loop touches are C++ methods (one call, no Python frame); the rest of MXNet's
// NDArray methods are attached by mixnet/ndarray/ndarray.py on top of the generated op
// functions.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <charconv>
#include <cstring>
#include <string>
#include <vector>

#include "bind.h"
#include "mixnet/base/error.h"
#include "mixnet/engine/engine.h"
#include "mixnet/op/invoke.h"
#include "ndarray_common.h"

namespace mixnet::python {

std::string ScalarString(nb::handle v) {
  if (PyFloat_Check(v.ptr())) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof(buf), PyFloat_AsDouble(v.ptr()));
    return std::string(buf, r.ptr);
  }
  if (PyBool_Check(v.ptr())) return v.ptr() == Py_True ? "1" : "0";
  if (PyLong_Check(v.ptr())) return std::to_string(PyLong_AsLongLong(v.ptr()));
  return AttrString(v);  // NumPy scalars print as numbers
}

bool IsScalar(nb::handle v) {
  if (PyFloat_Check(v.ptr()) || PyLong_Check(v.ptr())) return true;
  static nb::handle number = nb::object(nb::module_::import_("numbers").attr("Number")).release();
  return PyObject_IsInstance(v.ptr(), number.ptr()) == 1;
}

NDArray* AsNDArray(nb::handle h) {
  NDArray* a = nullptr;
  return nb::try_cast<NDArray*>(h, a) ? a : nullptr;
}

namespace {

/*! \brief One Python operator: the array op, the scalar op, and the reversed scalar op. */
struct Arith {
  const op::OpDef* array;
  const op::OpDef* scalar;
  const op::OpDef* rscalar;  // scalar OP array; null when OP commutes (use `scalar`)
};

Arith MakeArith(const char* array, const char* scalar, const char* rscalar = nullptr) {
  return Arith{op::GetOp(array), op::GetOp(scalar), rscalar ? op::GetOp(rscalar) : nullptr};
}

/*! \brief self OP other (reflected: other OP self); `out` for the in-place forms. */
nb::object Apply(const Arith& f, const NDArray& self, nb::handle other, bool reflected,
                 const NDArray* out) {
  std::span<const NDArray> outs =
      out ? std::span<const NDArray>(out, 1) : std::span<const NDArray>();
  if (NDArray* o = AsNDArray(other)) {
    const NDArray in[2] = {reflected ? *o : self, reflected ? self : *o};
    auto r = CallOp(f.array, in, {}, outs);
    return out ? nb::none() : nb::cast(std::move(r[0]));
  }
  if (!IsScalar(other)) return nb::borrow(Py_NotImplemented);
  const op::OpDef* op = reflected && f.rscalar ? f.rscalar : f.scalar;
  auto r = CallOp(op, std::span<const NDArray>(&self, 1), {{"scalar", ScalarString(other)}}, outs);
  return out ? nb::none() : nb::cast(std::move(r[0]));
}

template <typename... Extra>
void DefArith(nb::class_<NDArray>& cls, const char* name, const char* rname, const char* iname,
              const Arith* f) {
  cls.def(name, [f](const NDArray& a, nb::handle b) { return Apply(*f, a, b, false, nullptr); });
  if (rname) {
    cls.def(rname, [f](const NDArray& a, nb::handle b) { return Apply(*f, a, b, true, nullptr); });
  }
  if (iname) {
    cls.def(iname, [f](nb::handle self, nb::handle b) -> nb::object {
      const NDArray& a = nb::cast<const NDArray&>(self);
      nb::object r = Apply(*f, a, b, false, &a);
      return r.is(nb::handle(Py_NotImplemented)) ? r : nb::borrow(self);
    });
  }
}

}  // namespace

/*! \brief Copies the array into a new NumPy array (waiting for it, interruptibly). */
nb::object AsNumpy(const NDArray& a) {
  MX_CHECK(a.dtype() != DType::kBFloat16, TypeError)
      << "asnumpy: NumPy has no bfloat16; astype('float32') first";
  static nb::handle empty = nb::object(NumpyModule().attr("empty")).release();
  nb::object out = empty(ShapeToTuple(a.shape()), DTypeToNumpy(a.dtype()));
  if (a.Size() == 0) return out;
  WaitForArray(a);
  Py_buffer view;
  if (PyObject_GetBuffer(out.ptr(), &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) != 0)
    throw nb::python_error();
  {
    nb::gil_scoped_release release;
    a.SyncCopyToHost(view.buf, static_cast<size_t>(a.Size()));
  }
  PyBuffer_Release(&view);
  return out;
}

namespace {
/*! \brief A new array holding a copy of a C-contiguous buffer of items of `t`. */
NDArray CopyBuffer(nb::handle src, DType t, Context ctx) {
  Py_buffer view;
  if (PyObject_GetBuffer(src.ptr(), &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_ND) != 0)
    throw nb::python_error();
  std::vector<int64_t> dims(view.shape, view.shape + view.ndim);
  NDArray out;
  try {
    MX_CHECK(static_cast<size_t>(view.itemsize) == DTypeSize(t), TypeError)
        << "array: buffer items of " << view.itemsize << " bytes for dtype " << DTypeName(t);
    out = NDArray::FromHost(view.buf, Shape(std::span<const int64_t>(dims)), t, ctx);
  } catch (...) {
    PyBuffer_Release(&view);
    throw;
  }
  PyBuffer_Release(&view);
  return out;
}
}  // namespace

NDArray HostToNDArray(nb::handle value, DType dtype, Context ctx) {
  static nb::handle asarray = nb::object(NumpyModule().attr("asarray")).release();
  const DType host = dtype == DType::kBFloat16 ? DType::kFloat32 : dtype;
  NDArray out = CopyBuffer(asarray(value, DTypeToNumpy(host), "C"), host, ctx);
  if (host == dtype) return out;
  static const op::OpDef* const cast = op::GetOp("Cast");
  return CallOp(cast, {&out, 1}, {{"dtype", DTypeName(dtype)}})[0];
}

namespace {
void BindNDArray(nb::module_& m) {
  static const Arith add = MakeArith("broadcast_add", "_plus_scalar");
  static const Arith sub = MakeArith("broadcast_sub", "_minus_scalar", "_rminus_scalar");
  static const Arith mul = MakeArith("broadcast_mul", "_mul_scalar");
  static const Arith div = MakeArith("broadcast_div", "_div_scalar", "_rdiv_scalar");
  static const Arith pow = MakeArith("broadcast_power", "_power_scalar", "_rpower_scalar");
  static const Arith mod = MakeArith("broadcast_mod", "_mod_scalar", "_rmod_scalar");
  static const Arith eq = MakeArith("broadcast_equal", "_equal_scalar");
  static const Arith ne = MakeArith("broadcast_not_equal", "_not_equal_scalar");
  static const Arith gt = MakeArith("broadcast_greater", "_greater_scalar");
  static const Arith ge = MakeArith("broadcast_greater_equal", "_greater_equal_scalar");
  static const Arith lt = MakeArith("broadcast_lesser", "_lesser_scalar");
  static const Arith le = MakeArith("broadcast_lesser_equal", "_lesser_equal_scalar");
  static const op::OpDef* const negative = op::GetOp("negative");
  static const op::OpDef* const abs = op::GetOp("abs");

  nb::class_<NDArray> cls(m, "NDArray",
                          "An n-dimensional array on a context, computed asynchronously by the "
                          "engine (mx.nd.NDArray).");
  cls.def_prop_ro("shape", [](const NDArray& a) { return ShapeToTuple(a.shape()); })
      .def_prop_ro("dtype", [](const NDArray& a) { return DTypeToNumpy(a.dtype()); })
      .def_prop_ro("context", &NDArray::ctx)
      .def_prop_ro("ctx", &NDArray::ctx)
      .def_prop_ro("size", &NDArray::Size)
      .def_prop_ro("ndim", [](const NDArray& a) { return a.shape().ndim(); })
      .def_prop_ro("stype", [](const NDArray&) { return "default"; })
      .def("__len__",
           [](const NDArray& a) {
             MX_CHECK(a.shape().ndim() > 0, TypeError) << "len() of a 0-d NDArray";
             return a.shape()[0];
           })
      .def("asnumpy", &AsNumpy, "A NumPy copy (waits for the array).")
      .def("wait_to_read", [](const NDArray& a) { WaitForArray(a); })
      .def("wait_to_write", [](const NDArray& a) { WaitForArray(a, /*for_write=*/true); })
      .def("_describe", &NDArray::Describe)
      .def(
          "copyto",
          [](const NDArray& a, nb::handle other) -> nb::object {
            if (NDArray* dst = AsNDArray(other)) {
              if (dst->SharesStorageWith(a) && dst->byte_offset() == a.byte_offset()) {
                return nb::borrow(other);  // MXNet warns and does nothing
              }
              a.CopyTo(*dst);
              return nb::borrow(other);
            }
            return nb::cast(a.Copy(ToContext(other)));
          },
          nb::arg("other"),
          "Copies this array into `other` (an NDArray of the same shape; the dtype may differ) "
          "and returns it, or into a new array on `other` (a Context).")
      .def(
          "copy", [](const NDArray& a) { return a.Copy(a.ctx()); },
          "A new array with a copy of the content, on the same context.")
      .def(
          "as_in_context",
          [](nb::handle self, nb::handle ctx) -> nb::object {
            const NDArray& a = nb::cast<const NDArray&>(self);
            const Context c = ToContext(ctx);
            return a.ctx() == c ? nb::borrow(self) : nb::cast(a.Copy(c));
          },
          nb::arg("context"), "This array if it is on `context`, else a copy there.")
      .def(
          "_reshape_view",
          [](const NDArray& a, std::vector<int64_t> codes, bool reverse) {
            return a.Reshape(std::span<const int64_t>(codes), reverse);
          },
          nb::arg("shape"), nb::arg("reverse") = false,
          "A view with a new shape, MXNet's codes 0, -1, -2, -3, -4 allowed.")
      .def(
          "_fill", [](const NDArray& a, double v) { a.Fill(v); }, nb::arg("value"),
          "Sets every element to `value` (asynchronously).")
      .def("_shares_memory_with", &NDArray::SharesStorageWith, nb::arg("other"))
      .def("__hash__", [](nb::handle self) { return reinterpret_cast<intptr_t>(self.ptr()); })
      .def("__neg__",
           [](const NDArray& a) {
             return CallOp(negative, {&a, 1})[0];
           })
      .def("__abs__", [](const NDArray& a) {
        return CallOp(abs, {&a, 1})[0];
      });
  DefArith(cls, "__add__", "__radd__", "__iadd__", &add);
  DefArith(cls, "__sub__", "__rsub__", "__isub__", &sub);
  DefArith(cls, "__mul__", "__rmul__", "__imul__", &mul);
  DefArith(cls, "__truediv__", "__rtruediv__", "__itruediv__", &div);
  DefArith(cls, "__div__", "__rdiv__", "__idiv__", &div);
  DefArith(cls, "__pow__", "__rpow__", nullptr, &pow);
  DefArith(cls, "__mod__", "__rmod__", "__imod__", &mod);
  DefArith(cls, "__eq__", nullptr, nullptr, &eq);
  DefArith(cls, "__ne__", nullptr, nullptr, &ne);
  DefArith(cls, "__gt__", nullptr, nullptr, &gt);
  DefArith(cls, "__ge__", nullptr, nullptr, &ge);
  DefArith(cls, "__lt__", nullptr, nullptr, &lt);
  DefArith(cls, "__le__", nullptr, nullptr, &le);

  m.def(
      "empty",
      [](nb::handle shape, nb::handle ctx, nb::handle dtype) {
        return NDArray::Empty(ShapeFrom(shape), ToDType(dtype), ToContext(ctx));
      },
      nb::arg("shape"), nb::arg("ctx").none() = nb::none(), nb::arg("dtype").none() = nb::none());
  m.def(
      "full",
      [](nb::handle shape, double value, nb::handle ctx, nb::handle dtype) {
        return NDArray::Full(ShapeFrom(shape), value, ToDType(dtype), ToContext(ctx));
      },
      nb::arg("shape"), nb::arg("val"), nb::arg("ctx").none() = nb::none(),
      nb::arg("dtype").none() = nb::none());
  m.def(
      "from_buffer",
      [](nb::handle src, nb::handle ctx, nb::handle dtype) {
        return CopyBuffer(src, ToDType(dtype), ToContext(ctx));
      },
      nb::arg("source"), nb::arg("ctx").none() = nb::none(), nb::arg("dtype").none() = nb::none(),
      "A new NDArray holding a copy of a C-contiguous buffer of dtype's item size.");
  m.def("waitall", &WaitForAllInterruptibly, "Waits for all pushed work; raises its errors.");
}

}  // namespace
MIXNET_PY_BIND(20, BindNDArray);

}  // namespace mixnet::python
