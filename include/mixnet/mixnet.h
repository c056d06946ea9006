/*!
 * \file mixnet.h
 * \brief The mixnet C++ API in one include.
 *
 * A five-minute tour:
 * \code
 *   #include <mixnet/mixnet.h>
 *
 *   // Arrays live on a context and carry a dtype; creation returns at once.
 *   mx::NDArray x = mx::NDArray::Arange(0, 12);             // float32, cpu(0)
 *   mx::NDArray m = x.Reshape({3, -1});                      // view: (3, 4), MXNet codes
 *   m.Slice(1, 2).Fill(0);                                   // writes through the view
 *   std::vector<float> v = x.ToVector<float>();              // a sync point: waits
 *
 *   // Custom work goes through the dependency engine: declare what you read and write.
 *   mx::NDArray out = mx::NDArray::Zeros({1});
 *   mx::Engine::Get()->PushSync([x, out](mx::RunContext) {
 *     out.Data<float>()[0] = x.Data<float>()[5];
 *   }, x.ctx(), {x.var()}, {out.var()}, mx::FnProperty::kNormal, 0, "pick");
 *   out.WaitToRead();                                        // errors in "pick" surface here
 *
 *   // MXNet 1.x .params files, byte for byte.
 *   mx::SaveNDArrays("w.params", std::vector{x}, std::vector<std::string>{"arg:x"});
 *   mx::NDArrayList back = mx::LoadNDArrays("w.params");
 * \endcode
 *
 * Layers (each a folder under include/mixnet and src/): base (types, errors), storage
 * (allocators), engine (scheduling), ndarray (arrays, serialization), op (the operator
 * registry: op::Invoke by name, and the typed functions of the generated mixnet/op/ops.h).
 * See docs/design.md.
 */
#pragma once

#include "mixnet/autograd/autograd.h"
#include "mixnet/base/context.h"
#include "mixnet/base/dtype.h"
#include "mixnet/base/error.h"
#include "mixnet/base/shape.h"
#include "mixnet/engine/engine.h"
#include "mixnet/initializer/initializer.h"
#include "mixnet/metric/metric.h"
#include "mixnet/ndarray/ndarray.h"
#include "mixnet/ndarray/serialize.h"
#include "mixnet/op/invoke.h"
#include "mixnet/op/random.h"
#include "mixnet/optimizer/lr_scheduler.h"
#include "mixnet/optimizer/optimizer.h"
#include "mixnet/storage/storage.h"

/*! \brief `mx::` is the short name users write, as `mx.` in Python. */
namespace mx = mixnet;
