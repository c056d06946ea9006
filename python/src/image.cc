// mx.image and gluon's vision transforms: the codecs and augmentation kernels of
// mixnet/io/image.h on NDArrays (HWC, or NHWC batches; uint8 or float32), plus
// image_encode/image_decode on NumPy arrays with cv2's conventions for mx.recordio.
#include <nanobind/ndarray.h>
#include <nanobind/stl/array.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "bind.h"
#include "mixnet/autograd/autograd.h"
#include "mixnet/base/error.h"
#include "mixnet/io/image.h"
#include "mixnet/symbol/trace.h"

namespace mixnet::python {
namespace {

using io::ImageT;

/*! \brief Images of an HWC (one) or NHWC (a batch) CPU array, waited for. */
struct Batch {
  bool batched;
  int64_t n, h, w, c;
};

Batch CheckImages(const NDArray& a, const char* fn) {
  MX_CHECK(a.ctx().dev_type != DeviceType::kGPU, NotImplementedError)
      << fn << ": GPU arrays are not supported by this build";
  const Shape& s = a.shape();
  MX_CHECK(s.ndim() == 3 || s.ndim() == 4, ValueError)
      << fn << ": expected an HWC image or an NHWC batch, got shape " << s;
  MX_CHECK(a.dtype() == DType::kUint8 || a.dtype() == DType::kFloat32, TypeError)
      << fn << ": expected uint8 or float32 data, got " << DTypeName(a.dtype());
  WaitForArray(a);
  const int o = s.ndim() - 3;
  return {s.ndim() == 4, o ? s[0] : 1, s[o], s[o + 1], s[o + 2]};
}

/*! \brief out = f(image) for each image of `a` (same dtype); f returns an ImageT<T>. */
template <typename F>
NDArray MapImages(const NDArray& a, const char* fn, F&& f) {
  const Batch b = CheckImages(a, fn);
  auto run = [&]<typename T>(T*) {
    const T* src = static_cast<const T*>(a.RawData());
    std::vector<ImageT<T>> outs;
    {
      nb::gil_scoped_release release;
      for (int64_t i = 0; i < b.n; ++i) {
        ImageT<T> img(b.h, b.w, b.c);
        std::copy_n(src + i * b.h * b.w * b.c, img.data.size(), img.data.data());
        outs.push_back(f(std::move(img)));
        MX_CHECK(outs.back().data.size() == outs.front().data.size(), ValueError)
            << fn << ": images of one batch must give outputs of one shape";
      }
    }
    const ImageT<T>& o = outs.front();
    std::vector<int64_t> dims = {o.height, o.width, o.channels};
    if (b.batched) dims.insert(dims.begin(), b.n);
    NDArray out = NDArray::Empty(Shape(std::span<const int64_t>(dims)), a.dtype(), a.ctx());
    T* dst = static_cast<T*>(out.RawData());
    for (const ImageT<T>& img : outs)
      dst = std::copy(img.data.begin(), img.data.end(), dst);
    return out;
  };
  if (a.dtype() == DType::kUint8) return run(static_cast<uint8_t*>(nullptr));
  return run(static_cast<float*>(nullptr));
}

io::ColorOp ColorOpFrom(const std::string& name) {
  if (name == "brightness") return io::ColorOp::kBrightness;
  if (name == "contrast") return io::ColorOp::kContrast;
  if (name == "saturation") return io::ColorOp::kSaturation;
  MX_CHECK(name == "hue", ValueError) << "color jitter: unknown adjustment '" << name
                                      << "' (brightness, contrast, saturation or hue)";
  return io::ColorOp::kHue;
}

io::Image ImageFromNumpy(const nb::ndarray<const uint8_t, nb::c_contig, nb::device::cpu>& a) {
  MX_CHECK(a.ndim() == 2 || a.ndim() == 3, ValueError)
      << "image_encode: expected an HxW or HxWxC uint8 array, got " << a.ndim() << " dims";
  io::Image img(static_cast<int64_t>(a.shape(0)), static_cast<int64_t>(a.shape(1)),
                a.ndim() == 3 ? static_cast<int64_t>(a.shape(2)) : 1);
  std::memcpy(img.data.data(), a.data(), img.data.size());
  return img;
}

nb::object NumpyFromImage(io::Image img, bool squeeze_grey) {
  auto* keep = new std::vector<uint8_t>(std::move(img.data));
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<std::vector<uint8_t>*>(p); });
  const size_t shape[3] = {static_cast<size_t>(img.height), static_cast<size_t>(img.width),
                           static_cast<size_t>(img.channels)};
  const size_t ndim = squeeze_grey && img.channels == 1 ? 2 : 3;
  return nb::cast(nb::ndarray<nb::numpy, uint8_t>(keep->data(), ndim, shape, owner));
}

/*! \brief Bytes of any buffer (bytes, bytearray, memoryview, a uint8 NumPy array). */
nb::bytes AsBytes(nb::handle buf) {
  if (PyBytes_Check(buf.ptr())) return nb::borrow<nb::bytes>(buf);
  PyObject* b = PyBytes_FromObject(buf.ptr());
  if (b == nullptr) throw nb::python_error();
  return nb::steal<nb::bytes>(b);
}

std::span<const uint8_t> BytesSpan(const nb::bytes& b) {
  return {reinterpret_cast<const uint8_t*>(b.c_str()), b.size()};
}

void BindImage(nb::module_& m) {
  m.def(
      "image_encode",
      [](nb::ndarray<const uint8_t, nb::c_contig, nb::device::cpu> img, const std::string& fmt,
         int quality) {
        io::Image im = ImageFromNumpy(img);
        std::vector<uint8_t> out;
        {
          nb::gil_scoped_release release;
          out = io::ImEncode(im, fmt, quality, /*is_rgb=*/false);
        }
        return nb::bytes(reinterpret_cast<const char*>(out.data()), out.size());
      },
      nb::arg("img"), nb::arg("img_fmt") = ".jpg", nb::arg("quality") = 95,
      "Encodes an HxWxC uint8 array in BGR order (cv2's) as JPEG or PNG bytes.");
  m.def(
      "image_decode",
      [](nb::handle obj, int flag) {
        const nb::bytes buf = AsBytes(obj);
        io::Image img;
        {
          nb::gil_scoped_release release;
          img = io::ImDecode(BytesSpan(buf), flag, /*to_rgb=*/false);
        }
        return NumpyFromImage(std::move(img), /*squeeze_grey=*/true);
      },
      nb::arg("buf"), nb::arg("flag") = 1,
      "Decodes JPEG or PNG bytes (or any buffer) to an HxWxC uint8 array in BGR order "
      "(cv2.imdecode's).");
  m.def(
      "_image_imdecode",
      [](nb::handle obj, int flag, bool to_rgb) {
        const nb::bytes buf = AsBytes(obj);
        io::Image img;
        {
          nb::gil_scoped_release release;
          img = io::ImDecode(BytesSpan(buf), flag, to_rgb);
        }
        return NDArray::FromHost(img.data.data(), Shape{img.height, img.width, img.channels},
                                 DType::kUint8);
      },
      nb::arg("buf"), nb::arg("flag") = 1, nb::arg("to_rgb") = true);
  m.def(
      "_image_resize",
      [](const NDArray& src, int64_t w, int64_t h, int interp) {
        return MapImages(src, "imresize", [&](auto img) {
          return io::ImResize(img, w, h, static_cast<io::Interp>(interp));
        });
      },
      nb::arg("src"), nb::arg("w"), nb::arg("h"), nb::arg("interp") = 1);
  m.def(
      "_image_crop",
      [](const NDArray& src, int64_t x0, int64_t y0, int64_t w, int64_t h) {
        return MapImages(src, "crop", [&](auto img) { return io::ImCrop(img, x0, y0, w, h); });
      },
      nb::arg("src"), nb::arg("x0"), nb::arg("y0"), nb::arg("w"), nb::arg("h"));
  m.def(
      "_image_flip",
      [](const NDArray& src, bool horizontal) {
        return MapImages(src, "flip", [&](auto img) {
          io::ImFlip(&img, horizontal);
          return img;
        });
      },
      nb::arg("src"), nb::arg("horizontal") = true);
  m.def(
      "_image_color",
      [](const NDArray& src, const std::string& op, float alpha) {
        const io::ColorOp kind = ColorOpFrom(op);
        return MapImages(src, "color jitter", [&](auto img) {
          io::AdjustColor(&img, kind, alpha);
          return img;
        });
      },
      nb::arg("src"), nb::arg("op"), nb::arg("alpha"));
  m.def(
      "_image_lighting",
      [](const NDArray& src, std::array<float, 3> alpha, std::array<float, 3> eigval,
         std::array<std::array<float, 3>, 3> eigvec) {
        const float vec[3][3] = {{eigvec[0][0], eigvec[0][1], eigvec[0][2]},
                                 {eigvec[1][0], eigvec[1][1], eigvec[1][2]},
                                 {eigvec[2][0], eigvec[2][1], eigvec[2][2]}};
        return MapImages(src, "lighting", [&](auto img) {
          io::AddLighting(&img, alpha.data(), eigval.data(), vec);
          return img;
        });
      },
      nb::arg("src"), nb::arg("alpha"), nb::arg("eigval"), nb::arg("eigvec"));
  m.def(
      "_image_to_tensor",
      [](const NDArray& src) {
        const Batch b = CheckImages(src, "to_tensor");
        std::vector<int64_t> dims = {b.c, b.h, b.w};
        if (b.batched) dims.insert(dims.begin(), b.n);
        NDArray out =
            NDArray::Empty(Shape(std::span<const int64_t>(dims)), DType::kFloat32, src.ctx());
        float* dst = static_cast<float*>(out.RawData());
        const int64_t size = b.h * b.w * b.c;
        nb::gil_scoped_release release;
        for (int64_t i = 0; i < b.n; ++i) {
          if (src.dtype() == DType::kUint8) {
            io::HwcToChw(static_cast<const uint8_t*>(src.RawData()) + i * size, b.h, b.w, b.c,
                         dst + i * size);
          } else {
            io::HwcToChw(static_cast<const float*>(src.RawData()) + i * size, b.h, b.w, b.c,
                         dst + i * size);
          }
        }
        return out;
      },
      nb::arg("src"));
  m.def(
      "_image_normalize",
      [](const NDArray& src, std::vector<float> mean, std::vector<float> std) {
        MX_CHECK(src.dtype() == DType::kFloat32, TypeError)
            << "normalize: expected float32 CHW data, got " << DTypeName(src.dtype());
        const Shape& s = src.shape();
        MX_CHECK(s.ndim() == 3 || s.ndim() == 4, ValueError)
            << "normalize: expected a CHW tensor or an NCHW batch, got shape " << s;
        WaitForArray(src);
        const int o = s.ndim() - 3;
        const int64_t n = o ? s[0] : 1, c = s[o], plane = s[o + 1] * s[o + 2];
        NDArray out = NDArray::FromHost(src.RawData(), s, DType::kFloat32, src.ctx());
        out.WaitToWrite();
        float* data = static_cast<float*>(out.RawData());
        nb::gil_scoped_release release;
        for (int64_t i = 0; i < n; ++i)
          io::NormalizeChw(data + i * c * plane, c, plane, mean, std);
        return out;
      },
      nb::arg("src"), nb::arg("mean"), nb::arg("std"));
  // The kernels are not ops: a hybridized block's trace or autograd would not see them, so
  // transforms that have an op form use it there.
  m.def("_image_kernels_usable",
        [] { return sym::TraceScope::Current() == nullptr && !autograd::IsRecording(); });
  m.def(
      "_image_random",
      [](int64_t n, bool normal) {
        nb::gil_scoped_release release;
        return io::RandomDraws(n, normal);
      },
      nb::arg("n"), nb::arg("normal") = false,
      "n draws (uniform in [0, 1) or standard normal) from the generator of mx.random.seed.");
}

}  // namespace

MIXNET_PY_BIND(63, BindImage);

}  // namespace mixnet::python
