// mx.autograd: the recording flags, backward/grad, and the NDArray methods of autograd
// (attach_grad, grad, backward, detach), attached to the NDArray class defined in ndarray.cc.
// Backward releases the GIL: it pushes the gradient graph and may run a Python Function's
// backward, which takes the GIL back.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <string>
#include <vector>

#include "bind.h"
#include "graph.h"
#include "mixnet/autograd/autograd.h"
#include "mixnet/base/error.h"

namespace mixnet::python {

namespace {

using autograd::GradReq;

std::vector<GradReq> GradReqsFrom(nb::handle h, size_t n) {
  if (nb::isinstance<nb::str>(h)) return {GradReqFrom(h)};
  std::vector<GradReq> reqs;
  for (nb::handle r : nb::borrow<nb::sequence>(h))
    reqs.push_back(GradReqFrom(r));
  MX_CHECK(reqs.size() == n, ValueError)
      << "mark_variables: " << n << " variables but " << reqs.size() << " grad_reqs";
  return reqs;
}

void Backward(nb::handle heads, nb::handle head_grads, bool retain_graph, bool train_mode) {
  const std::vector<NDArray> h = ArraysFrom(heads, "backward: heads");
  const std::vector<NDArray> g = ArraysFrom(head_grads, "backward: head_grads", true);
  MX_CHECK(g.empty() || g.size() == h.size(), ValueError)
      << "backward: " << h.size() << " heads but " << g.size() << " head_grads";
  nb::gil_scoped_release release;
  autograd::Backward(h, g, retain_graph, train_mode);
}

nb::list Grad(nb::handle heads, nb::handle variables, nb::handle head_grads,
              nb::handle retain_graph, bool create_graph, bool train_mode) {
  const std::vector<NDArray> h = ArraysFrom(heads, "grad: heads");
  const std::vector<NDArray> v = ArraysFrom(variables, "grad: variables");
  const std::vector<NDArray> g = ArraysFrom(head_grads, "grad: head_grads", true);
  MX_CHECK(g.empty() || g.size() == h.size(), ValueError)
      << "grad: " << h.size() << " heads but " << g.size() << " head_grads";
  const int retain = retain_graph.is_none() ? -1 : static_cast<int>(nb::cast<bool>(retain_graph));
  std::vector<NDArray> out;
  {
    nb::gil_scoped_release release;
    out = autograd::Grad(h, v, g, create_graph, retain, train_mode);
  }
  return ArrayList(out);
}

/*!
 * \brief mx.autograd.Function: a C++ Function whose Forward and Backward call the Python
 * object's forward(*inputs) and backward(*output_grads). Missing output gradients are given
 * to Python as zeros of the output's shape, as MXNet does.
 */
class PyFunction : public autograd::Function {
 public:
  explicit PyFunction(nb::object self) : self_(std::move(self)) {}
  ~PyFunction() override {
    nb::gil_scoped_acquire acquire;  // the tape may be freed by a thread without the GIL
    self_.reset();
  }

  std::vector<NDArray> Forward(std::span<const NDArray> inputs) override {
    nb::gil_scoped_acquire acquire;
    std::vector<NDArray> outs = Call("forward", inputs, "outputs", false);
    for (const NDArray& o : outs)
      outputs_.push_back({o.shape(), o.dtype(), o.ctx()});
    return outs;
  }

  std::vector<NDArray> Backward(std::span<const NDArray> output_grads) override {
    std::vector<NDArray> grads(output_grads.begin(), output_grads.end());
    for (size_t i = 0; i < grads.size() && i < outputs_.size(); ++i) {
      if (grads[i].is_none()) {
        grads[i] = NDArray::Zeros(outputs_[i].shape, outputs_[i].dtype, outputs_[i].ctx);
      }
    }
    nb::gil_scoped_acquire acquire;
    return Call("backward", grads, "input gradients", true);
  }

 private:
  struct OutputInfo {
    Shape shape;
    DType dtype;
    Context ctx;
  };

  std::vector<NDArray> Call(const char* method, std::span<const NDArray> args, const char* what,
                            bool none_ok) {
    nb::list l;
    for (const NDArray& a : args)
      l.append(nb::cast(a));
    nb::object r = self_.attr(method)(*nb::tuple(l));
    const std::string context = std::string("autograd.Function.") + method + ": " + what;
    return ArraysFrom(r, context.c_str(), none_ok);
  }

  nb::object self_;
  std::vector<OutputInfo> outputs_;
};

nb::list CallFunction(nb::object self, nb::handle inputs) {
  const std::vector<NDArray> in = ArraysFrom(inputs, "autograd.Function: inputs");
  auto f = std::make_shared<PyFunction>(std::move(self));
  return ArrayList((*f)(in));
}

/*! \brief Adds `fn` as method `name` of the NDArray class (a property when `property`). */
template <typename F, typename... Extra>
void AddNDArrayMethod(const char* name, F&& fn, const Extra&... extra) {
  nb::handle cls = nb::type<NDArray>();
  nb::object f = nb::cpp_function(std::forward<F>(fn), nb::is_method(), nb::name(name), extra...);
  nb::setattr(cls, name, f);
}

void BindAutograd(nb::module_& root) {
  nb::module_ m = root.def_submodule("autograd", "mx.autograd's C++ side");
  m.def("is_recording", &autograd::IsRecording);
  m.def("is_training", &autograd::IsTraining);
  m.def("set_recording", &autograd::SetRecording, nb::arg("is_recording"),
        "Sets the recording flag of this thread; returns the previous value.");
  m.def("set_training", &autograd::SetTraining, nb::arg("train_mode"),
        "Sets the training flag of this thread; returns the previous value.");
  m.def(
      "mark_variables",
      [](nb::handle variables, nb::handle gradients, nb::handle grad_reqs) {
        // The variables are marked in place: the Python objects' own arrays.
        std::vector<NDArray*> ptrs;
        for (nb::handle v : nb::borrow<nb::sequence>(variables))
          ptrs.push_back(nb::cast<NDArray*>(v));
        std::vector<NDArray> vars;
        for (NDArray* p : ptrs)
          vars.push_back(*p);
        const std::vector<NDArray> grads = ArraysFrom(gradients, "mark_variables: gradients");
        MX_CHECK(grads.size() == vars.size(), ValueError)
            << "mark_variables: " << vars.size() << " variables but " << grads.size()
            << " gradients";
        autograd::MarkVariables(vars, grads, GradReqsFrom(grad_reqs, vars.size()));
        for (size_t i = 0; i < ptrs.size(); ++i)
          *ptrs[i] = vars[i];
      },
      nb::arg("variables"), nb::arg("gradients"), nb::arg("grad_reqs"));
  m.def("backward", &Backward, nb::arg("heads"), nb::arg("head_grads").none(),
        nb::arg("retain_graph"), nb::arg("train_mode"));
  m.def("grad", &Grad, nb::arg("heads"), nb::arg("variables"), nb::arg("head_grads").none(),
        nb::arg("retain_graph").none(), nb::arg("create_graph"), nb::arg("train_mode"));
  m.def("call_function", &CallFunction, nb::arg("function"), nb::arg("inputs"),
        "Runs a Python autograd.Function's forward on `inputs`, recording one tape node whose "
        "gradient calls its backward.");

  AddNDArrayMethod(
      "attach_grad",
      [](NDArray& self, const std::string& grad_req, nb::handle stype) {
        MX_CHECK(stype.is_none() || nb::cast<std::string>(stype) == "default", NotImplementedError)
            << "attach_grad: only dense gradients (stype='default'), got stype="
            << nb::str(stype).c_str();
        autograd::AttachGrad(&self, autograd::GradReqFromString(grad_req));
      },
      nb::arg("grad_req") = "write", nb::arg("stype").none() = nb::none(),
      "Attaches a zero gradient buffer; the array becomes a variable of recorded graphs.");
  nb::object property = nb::module_::import_("builtins").attr("property");
  nb::setattr(nb::type<NDArray>(), "grad",
              property(nb::cpp_function(
                  [](const NDArray& self) -> nb::object {
                    GradReq req;
                    NDArray g = autograd::VariableGrad(self, &req);
                    return g.is_none() ? nb::none() : nb::cast(std::move(g));
                  },
                  nb::is_method())));
  AddNDArrayMethod(
      "backward",
      [](const NDArray& self, nb::handle out_grad, bool retain_graph, bool train_mode) {
        Backward(nb::cast(self), out_grad, retain_graph, train_mode);
      },
      nb::arg("out_grad").none() = nb::none(), nb::arg("retain_graph") = false,
      nb::arg("train_mode") = true,
      "Computes the gradients of this array with respect to the variables it was recorded from.");
  AddNDArrayMethod(
      "detach", [](const NDArray& self) { return autograd::Detach(self); },
      "The same data, outside of any recorded graph.");
}

}  // namespace
MIXNET_PY_BIND(40, BindAutograd);

}  // namespace mixnet::python
