// MXNet's `kvstore` argument (gluon.Trainer, Module.init_optimizer / fit), for the bindings
// that take it.
#pragma once

#include <memory>
#include <string>

#include "bind.h"
#include "mixnet/kvstore/kvstore.h"

namespace mixnet::python {

/*!
 * \brief A kind's name (into *kind), None/False ("none"), or an mx.kv.KVStore (its C++ store,
 * into *object); TypeError naming `what` for anything else.
 */
void KVStoreArg(nb::handle kvstore, const char* what, std::string* kind,
                std::shared_ptr<kvstore::KVStore>* object);
/*! \brief MXNet's compression_params dict as the store takes it (None: empty). */
op::AttrDict CompressionParams(nb::handle params, const char* what);

}  // namespace mixnet::python
