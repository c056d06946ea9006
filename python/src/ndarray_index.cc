// NDArray.__getitem__ / __setitem__ with MXNet 1.x's semantics, parsed in C++ so that a
// training loop's x[i] or x[a:b] is one call.
//
// NOTE [ NDArray indexing ]
// Basic keys (ints, slices, Ellipsis, None) whose elements are contiguous in memory give views
// that share the array's storage (MXNet's rule: from the last axis backwards, once an axis is
// sliced to a proper subset, every earlier axis takes at most one element); other basic keys
// copy through the `slice` op. As in MXNet 1.x, indexing never returns a 0-dim array: a key
// that removes every axis gives shape (1,). Advanced keys (lists, NumPy arrays, NDArrays,
// mixed with ints and slices) gather through `gather_nd` with one index tuple per output
// element, laid out with NumPy's rules (the broadcast index block stays in place when the
// advanced indices are adjacent, else it goes first). That index is computed on the host: an
// NDArray index is therefore read (a sync point), and out-of-range indices raise IndexError at
// the call. Assignments write views directly when the target is contiguous; otherwise the
// value is scattered with `scatter_nd` and merged with `where` into the array (writing it in
// place), so every write stays an engine op ordered with the array's other uses.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "bind.h"
#include "mixnet/base/error.h"
#include "mixnet/op/invoke.h"
#include "ndarray_common.h"

namespace mixnet::python {

namespace {

const op::OpDef* Op(const char* name) {
  return op::GetOp(name);
}

enum class Kind { kInt, kSlice, kNone, kArray };

/*! \brief One item of a key; for slices `obj` is the slice (null: a full `:`). */
struct Item {
  Kind kind;
  int64_t index = 0;
  nb::handle obj;
};

/*! \brief One axis of the array after the key is resolved against the shape. */
struct Axis {
  Kind kind;  // kInt, kSlice or kArray
  int64_t start = 0, step = 1, len = 0;
  nb::handle obj;  // kArray: the index object
};

struct ParsedKey {
  std::vector<Item> items;  // the expanded key: one item per axis, plus the Nones
  bool advanced = false;
};

bool IsArrayIndex(nb::handle h) {
  static nb::handle np_ndarray = nb::object(NumpyModule().attr("ndarray")).release();
  return AsNDArray(h) != nullptr || PyList_Check(h.ptr()) || PyTuple_Check(h.ptr()) ||
         PyRange_Check(h.ptr()) || PyObject_IsInstance(h.ptr(), np_ndarray.ptr()) == 1;
}

Item ParseItem(nb::handle h) {
  if (h.is_none()) return Item{Kind::kNone};
  if (PyLong_CheckExact(h.ptr())) return Item{Kind::kInt, PyLong_AsLongLong(h.ptr())};
  if (PySlice_Check(h.ptr())) return Item{Kind::kSlice, 0, h};
  if (IsArrayIndex(h)) return Item{Kind::kArray, 0, h};
  MX_CHECK(!PyBool_Check(h.ptr()) && PyIndex_Check(h.ptr()), IndexError)
      << "NDArray indices must be integers, slices, Ellipsis, None, lists, NumPy arrays or "
         "NDArrays, got "
      << nb::str(h.type()).c_str();
  const Py_ssize_t v = PyNumber_AsSsize_t(h.ptr(), PyExc_IndexError);  // np.int64 and friends
  if (v == -1 && PyErr_Occurred()) throw nb::python_error();
  return Item{Kind::kInt, v};
}

/*! \brief The key with its Ellipsis expanded and trailing axes filled with `:`. */
ParsedKey ParseKey(nb::handle key, int ndim) {
  ParsedKey k;
  int ellipsis = -1, axes = 0;
  auto add = [&](nb::handle h) {
    if (h.ptr() == Py_Ellipsis) {
      MX_CHECK(ellipsis < 0, IndexError) << "an index can only have a single ellipsis ('...')";
      ellipsis = static_cast<int>(k.items.size());
      return;
    }
    Item it = ParseItem(h);
    if (it.kind != Kind::kNone) ++axes;
    k.advanced |= it.kind == Kind::kArray;
    k.items.push_back(it);
  };
  if (PyTuple_Check(key.ptr())) {
    for (nb::handle h : nb::borrow<nb::tuple>(key))
      add(h);
  } else {
    add(key);
  }
  MX_CHECK(axes <= ndim, IndexError)
      << "too many indices (" << axes << ") for array with " << ndim << " dimensions";
  const std::vector<Item> fill(static_cast<size_t>(ndim - axes), Item{Kind::kSlice});
  k.items.insert(ellipsis < 0 ? k.items.end() : k.items.begin() + ellipsis, fill.begin(),
                 fill.end());
  return k;
}

/*! \brief The axes a key addresses (Nones left out), ints bounds-checked. */
std::vector<Axis> ResolveAxes(const ParsedKey& k, const Shape& shape) {
  std::vector<Axis> axes;
  for (const Item& it : k.items) {
    if (it.kind == Kind::kNone) continue;
    const int d = static_cast<int>(axes.size());
    const int64_t n = shape[d];
    Axis a{it.kind};
    if (it.kind == Kind::kInt) {
      MX_CHECK(it.index >= -n && it.index < n, IndexError)
          << "index " << it.index << " is out of bounds for axis " << d << " with size " << n;
      a.start = it.index < 0 ? it.index + n : it.index;
      a.len = 1;
    } else if (it.kind == Kind::kSlice) {
      if (!it.obj.is_valid()) {
        a.len = n;
      } else {
        Py_ssize_t start, stop, step;
        if (PySlice_Unpack(it.obj.ptr(), &start, &stop, &step) < 0) throw nb::python_error();
        a.len = PySlice_AdjustIndices(n, &start, &stop, step);
        a.start = start;
        a.step = step;
      }
    } else {
      a.obj = it.obj;
    }
    axes.push_back(a);
  }
  return axes;
}

Shape MakeShape(const std::vector<int64_t>& dims) {
  return Shape(std::span<const int64_t>(dims));
}

/*! \brief MXNet's test for a basic key whose elements are one contiguous run. */
bool IsContiguous(const std::vector<Axis>& axes, const Shape& shape) {
  int64_t total = 1;
  for (const Axis& a : axes)
    total *= a.len;
  if (total <= 1) return true;
  bool subset = false;
  for (int d = static_cast<int>(axes.size()) - 1; d >= 0; --d) {
    const Axis& a = axes[d];
    if (a.len > 1 && a.step != 1) return false;
    if (subset && a.len > 1) return false;
    if (a.len < shape[d]) subset = true;
  }
  return true;
}

/*! \brief The array `axes` select, keeping every axis (an int's as length 1). */
NDArray SelectBasic(const NDArray& self, const std::vector<Axis>& axes) {
  const Shape& shape = self.shape();
  std::vector<int64_t> sliced;
  for (const Axis& a : axes)
    sliced.push_back(a.len);
  if (IsContiguous(axes, shape)) {
    int64_t begin = 0, total = 1;
    for (size_t d = 0; d < axes.size(); ++d) {
      begin = begin * shape[static_cast<int>(d)] + axes[d].start;
      total *= axes[d].len;
    }
    if (total == 0) begin = 0;
    const NDArray flat = self.Reshape(Shape{self.Size()});
    return flat.Slice(begin, begin + total).Reshape(MakeShape(sliced));
  }
  std::string b = "(", e = "(", s = "(";
  for (const Axis& a : axes) {
    const int64_t stop = a.start + a.step * a.len;
    b += std::to_string(a.start) + ",";
    e += (stop < 0 ? std::string("None") : std::to_string(stop)) + ",";  // past the front
    s += std::to_string(a.step) + ",";
  }
  static const op::OpDef* const slice = Op("slice");
  return CallOp(slice, {&self, 1}, {{"begin", b + ")"}, {"end", e + ")"}, {"step", s + ")"}})[0];
}

/*! \brief The shape a basic key gives: ints dropped, Nones inserted, at least (1,). */
std::vector<int64_t> BasicResultShape(const ParsedKey& k, const std::vector<Axis>& axes) {
  std::vector<int64_t> dims;
  size_t d = 0;
  for (const Item& it : k.items) {
    if (it.kind == Kind::kNone) {
      dims.push_back(1);
    } else if (axes[d++].kind != Kind::kInt) {
      dims.push_back(axes[d - 1].len);
    }
  }
  if (dims.empty()) dims.push_back(1);
  return dims;
}

/*! \brief An advanced index read on the host as int64 (NDArrays are waited for). */
struct HostIndex {
  std::vector<int64_t> dims;
  nb::object values;  // a C-contiguous int64 NumPy array
  const int64_t* data = nullptr;
};

HostIndex ToHostIndex(const Axis& a) {
  static nb::handle asarray = nb::object(NumpyModule().attr("asarray")).release();
  static nb::handle int64 = nb::object(NumpyModule().attr("int64")).release();
  HostIndex h;
  if (a.kind == Kind::kInt) {
    h.values = asarray(nb::make_tuple(a.start), int64, "C");
  } else {
    NDArray* nd = AsNDArray(a.obj);
    nb::object src = nd ? AsNumpy(*nd) : asarray(a.obj);
    MX_CHECK(!src.attr("dtype").attr("kind").equal(nb::str("b")), IndexError)
        << "boolean array indices are not supported (as in MXNet 1.x): use the indices of the "
           "true elements";
    h.values = asarray(src, int64, "C");
  }
  for (nb::handle d : nb::borrow<nb::tuple>(h.values.attr("shape")))
    h.dims.push_back(nb::cast<int64_t>(d));
  h.data =
      reinterpret_cast<const int64_t*>(nb::cast<intptr_t>(h.values.attr("ctypes").attr("data")));
  return h;
}

std::string DimsString(const std::vector<int64_t>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + (dims.size() == 1 ? ",)" : ")");
}

/*! \brief The gather_nd index of an advanced key and where its output axes come from. */
struct AdvancedIndex {
  NDArray index;                   // (M, O...) int64
  std::vector<int64_t> out_dims;   // gather_nd's output shape: O... + shape[M:]
  std::vector<int64_t> none_axes;  // where the key's Nones go in the result
};

AdvancedIndex BuildAdvancedIndex(const NDArray& self, const ParsedKey& k,
                                 const std::vector<Axis>& axes) {
  const Shape& shape = self.shape();
  const int ndim = shape.ndim();
  std::vector<HostIndex> host(static_cast<size_t>(ndim));
  std::vector<int> adv;  // axes indexed by arrays or ints
  for (int d = 0; d < ndim; ++d) {
    if (axes[d].kind == Kind::kSlice) continue;
    adv.push_back(d);
    host[d] = ToHostIndex(axes[d]);
  }
  // NumPy broadcasting of the advanced indices: the block's shape.
  std::vector<int64_t> block;
  for (int d : adv) {
    const std::vector<int64_t>& dims = host[d].dims;
    if (dims.size() > block.size()) block.insert(block.begin(), dims.size() - block.size(), 1);
    for (size_t i = 0; i < dims.size(); ++i) {
      int64_t& b = block[block.size() - dims.size() + i];
      MX_CHECK(b == dims[i] || b == 1 || dims[i] == 1, IndexError)
          << "shape mismatch: indexing arrays could not be broadcast together with shapes "
          << DimsString(dims) << " and " << DimsString(block);
      if (b == 1) b = dims[i];
    }
  }
  // Adjacent in the key (Nones count as gaps, as in MXNet): the block stays in place.
  std::vector<int> adv_key_pos;
  for (size_t i = 0, d = 0; i < k.items.size(); ++i) {
    if (k.items[i].kind == Kind::kNone) continue;
    if (axes[d++].kind != Kind::kSlice) adv_key_pos.push_back(static_cast<int>(i));
  }
  bool adjacent = true;
  for (size_t i = 1; i < adv_key_pos.size(); ++i)
    adjacent &= adv_key_pos[i] == adv_key_pos[i - 1] + 1;
  // Trailing full slices are left to gather_nd (its output keeps shape[M:]).
  int m = ndim;
  while (m > 0 && axes[m - 1].kind == Kind::kSlice && axes[m - 1].start == 0 &&
         axes[m - 1].step == 1 && axes[m - 1].len == shape[m - 1])
    --m;
  // Output axes O: sliced axes in order, the block at the first advanced axis (or first).
  std::vector<int64_t> o;
  std::vector<int> pos(static_cast<size_t>(m), -1);  // a sliced axis' place in O
  int block_pos = adjacent ? -1 : 0;
  if (!adjacent) o = block;
  for (int d = 0; d < m; ++d) {
    if (axes[d].kind != Kind::kSlice) {
      if (block_pos < 0) {
        block_pos = static_cast<int>(o.size());
        o.insert(o.end(), block.begin(), block.end());
      }
      continue;
    }
    pos[d] = static_cast<int>(o.size());
    o.push_back(axes[d].len);
  }
  int64_t count = 1;
  for (int64_t v : o)
    count *= v;
  // One index tuple per element of O, counting through O like an odometer.
  std::vector<int64_t> tuples(static_cast<size_t>(m * count));
  std::vector<int64_t> at(o.size(), 0);
  const int nb = static_cast<int>(block.size());
  for (int64_t j = 0; j < count; ++j) {
    for (int d = 0; d < m; ++d) {
      int64_t v;
      if (axes[d].kind == Kind::kSlice) {
        v = axes[d].start + axes[d].step * at[pos[d]];
      } else {
        const HostIndex& h = host[d];
        const int nd = static_cast<int>(h.dims.size());
        int64_t flat = 0;
        for (int i = 0; i < nd; ++i) {
          const int64_t b = at[block_pos + nb - nd + i];
          flat = flat * h.dims[i] + (h.dims[i] == 1 ? 0 : b);
        }
        v = h.data[flat];
        MX_CHECK(v >= -shape[d] && v < shape[d], IndexError)
            << "index " << v << " is out of bounds for axis " << d << " with size " << shape[d];
      }
      tuples[static_cast<size_t>(d * count + j)] = v;
    }
    for (int i = static_cast<int>(o.size()) - 1; i >= 0 && ++at[i] == o[i]; --i)
      at[i] = 0;
  }
  AdvancedIndex r;
  std::vector<int64_t> index_dims{m};
  index_dims.insert(index_dims.end(), o.begin(), o.end());
  r.index = NDArray::FromHost(tuples.data(), MakeShape(index_dims), DType::kInt64, self.ctx());
  r.out_dims = o;
  for (int d = m; d < ndim; ++d)
    r.out_dims.push_back(shape[d]);
  // MXNet's placement of the Nones: counting the axes before each in the result.
  int64_t before = adjacent ? 0 : nb;
  bool block_seen = false;
  for (size_t i = 0, d = 0; i < k.items.size(); ++i) {
    if (k.items[i].kind == Kind::kNone) {
      r.none_axes.push_back(before + static_cast<int64_t>(r.none_axes.size()));
      continue;
    }
    if (axes[d++].kind == Kind::kSlice) {
      ++before;
    } else if (adjacent && !block_seen) {
      before += nb;
      block_seen = true;
    }
  }
  return r;
}

/*! \brief () or `:`, the keys a 0-dim array takes. */
bool IsWholeKey(nb::handle key) {
  if (PyTuple_Check(key.ptr())) return PyTuple_GET_SIZE(key.ptr()) == 0;
  if (!PySlice_Check(key.ptr())) return false;
  nb::handle k = key;
  return k.attr("start").is_none() && k.attr("stop").is_none() && k.attr("step").is_none();
}

nb::object Wrap(NDArray a) {
  return nb::cast(std::move(a));
}

nb::object GetItem(nb::handle self_h, nb::handle key) {
  const NDArray& self = nb::cast<const NDArray&>(self_h);
  const Shape& shape = self.shape();
  const int ndim = shape.ndim();
  // The loop's cases first: x[i] and x[a:b].
  if (PyLong_CheckExact(key.ptr()) && ndim > 0) {
    NDArray row = self.At(PyLong_AsLongLong(key.ptr()));
    return Wrap(ndim == 1 ? row.Reshape(Shape{1}) : std::move(row));
  }
  if (PySlice_Check(key.ptr()) && ndim > 0 && nb::borrow(key).attr("step").is_none()) {
    Py_ssize_t start, stop, step;
    if (PySlice_Unpack(key.ptr(), &start, &stop, &step) < 0) throw nb::python_error();
    const int64_t len = PySlice_AdjustIndices(shape[0], &start, &stop, step);
    return Wrap(self.Slice(start, start + len));
  }
  if (ndim == 0) {
    MX_CHECK(IsWholeKey(key), IndexError) << "a 0-dim NDArray can only be indexed with () or ':'";
    return nb::borrow(self_h);
  }
  const ParsedKey k = ParseKey(key, ndim);
  const std::vector<Axis> axes = ResolveAxes(k, shape);
  if (!k.advanced) {
    return Wrap(SelectBasic(self, axes).Reshape(MakeShape(BasicResultShape(k, axes))));
  }
  AdvancedIndex idx = BuildAdvancedIndex(self, k, axes);
  static const op::OpDef* const gather = Op("gather_nd");
  const NDArray in[2] = {self, idx.index};
  NDArray out = CallOp(gather, in)[0];
  if (idx.none_axes.empty()) return Wrap(std::move(out));
  std::vector<int64_t> dims = idx.out_dims;
  for (int64_t a : idx.none_axes)
    dims.insert(dims.begin() + a, 1);
  return Wrap(out.Reshape(MakeShape(dims)));
}

/*!
 * \brief `value` as an array of `dims` on self's context and dtype: scalars filled, host data
 * copied, NDArrays converted, then leading 1-axes dropped and broadcast as MXNet does.
 */
NDArray PrepareValue(const NDArray& self, nb::handle value, const std::vector<int64_t>& dims) {
  const Shape target = MakeShape(dims);
  if (IsScalar(value)) {
    return NDArray::Full(target, nb::cast<double>(nb::float_(value)), self.dtype(), self.ctx());
  }
  NDArray v;
  if (NDArray* nd = AsNDArray(value)) {
    v = nd->AsInContext(self.ctx());
    if (v.dtype() != self.dtype()) {
      static const op::OpDef* const cast = Op("Cast");
      v = CallOp(cast, {&v, 1}, {{"dtype", DTypeName(self.dtype())}})[0];
    }
  } else {
    v = HostToNDArray(value, self.dtype(), self.ctx());
  }
  if (v.shape() == target) return v;
  std::vector<int64_t> vd(v.shape().begin(), v.shape().end());
  while (vd.size() > dims.size() && vd.front() == 1)
    vd.erase(vd.begin());
  MX_CHECK(vd.size() <= dims.size(), ValueError)
      << "__setitem__: cannot broadcast a value of shape " << v.shape() << " to the indexed shape "
      << target;
  vd.insert(vd.begin(), dims.size() - vd.size(), 1);
  v = v.Reshape(MakeShape(vd));
  if (v.shape() == target) return v;
  if (v.Size() == 0) return v.Reshape(target);
  static const op::OpDef* const broadcast_to = Op("broadcast_to");
  return CallOp(broadcast_to, {&v, 1}, {{"shape", DimsString(dims)}})[0];
}

/*! \brief self[index] = value for a gather_nd index: scatter, then merge in place. */
void ScatterInto(const NDArray& self, const AdvancedIndex& idx, const NDArray& value) {
  static const op::OpDef* const scatter = Op("scatter_nd");
  static const op::OpDef* const where = Op("where");
  const std::string shape =
      DimsString(std::vector<int64_t>(self.shape().begin(), self.shape().end()));
  const NDArray ones = NDArray::Ones(value.shape(), self.dtype(), self.ctx());
  const NDArray vin[2] = {value, idx.index};
  const NDArray min[2] = {ones, idx.index};
  const NDArray scattered = CallOp(scatter, vin, {{"shape", shape}})[0];
  const NDArray mask = CallOp(scatter, min, {{"shape", shape}})[0];
  const NDArray win[3] = {mask, scattered, self};
  CallOp(where, win, {}, {&self, 1});
}

void SetItem(const NDArray& self, nb::handle key, nb::handle value) {
  const Shape& shape = self.shape();
  const int ndim = shape.ndim();
  if (ndim == 0) {
    MX_CHECK(IsWholeKey(key), IndexError) << "a 0-dim NDArray can only be indexed with () or ':'";
    if (IsScalar(value)) {
      self.Fill(nb::cast<double>(nb::float_(value)));
    } else {
      PrepareValue(self, value, {}).CopyTo(self);
    }
    return;
  }
  if (self.Size() == 0) return;
  const ParsedKey k = ParseKey(key, ndim);
  const std::vector<Axis> axes = ResolveAxes(k, shape);
  if (!k.advanced) {
    std::vector<int64_t> indexed;
    for (const Axis& a : axes)
      indexed.push_back(a.len);
    // The value broadcasts to what self[key] would give (without the Nones' axes).
    std::vector<int64_t> visible;
    for (const Axis& a : axes)
      if (a.kind != Kind::kInt) visible.push_back(a.len);
    if (visible.empty()) visible.push_back(1);
    if (IsContiguous(axes, shape)) {
      const NDArray view = SelectBasic(self, axes);
      if (IsScalar(value)) {
        view.Fill(nb::cast<double>(nb::float_(value)));
        return;
      }
      if (NDArray* nd = AsNDArray(value)) {
        if (nd->SharesStorageWith(view) && nd->byte_offset() == view.byte_offset() &&
            nd->shape() == view.shape())
          return;  // x[:] = x
      }
      PrepareValue(self, value, visible).Reshape(view.shape()).CopyTo(view);
      return;
    }
    std::vector<Axis> as_slices = axes;  // an int stays, as an axis of length 1
    for (Axis& a : as_slices)
      a.kind = Kind::kSlice;
    AdvancedIndex idx = BuildAdvancedIndex(self, k, as_slices);
    const NDArray v = PrepareValue(self, value, visible).Reshape(MakeShape(idx.out_dims));
    ScatterInto(self, idx, v);
    return;
  }
  AdvancedIndex idx = BuildAdvancedIndex(self, k, axes);
  ScatterInto(self, idx, PrepareValue(self, value, idx.out_dims));
}

void BindIndexing(nb::module_&) {
  nb::handle cls = nb::type<NDArray>();
  cls.attr("__getitem__") = nb::cpp_function(GetItem, nb::is_method(), nb::scope(cls),
                                             nb::name("__getitem__"), nb::arg("key"),
                                             "x[key]: a view where the elements are contiguous, "
                                             "else a new array (NOTE [ NDArray indexing ]).");
  cls.attr("__setitem__") = nb::cpp_function(
      SetItem, nb::is_method(), nb::scope(cls), nb::name("__setitem__"), nb::arg("key"),
      nb::arg("value"), "x[key] = value: a scalar, NDArray or array-like, broadcast.");
}

}  // namespace
MIXNET_PY_BIND(21, BindIndexing);

}  // namespace mixnet::python
