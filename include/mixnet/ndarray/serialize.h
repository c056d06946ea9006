/*!
 * \file serialize.h
 * \brief MXNet 1.x NDArray list files (`.params`, `.nd`): mx.nd.save / mx.nd.load.
 *
 * Writes the V2 record format (V3 only for 0-dim arrays, which V2 cannot express); reads V3,
 * V2, V1 and the original legacy record. Layout: ../shared/FORMATS.md. Every read is bounds
 * checked against the bytes that remain, so a truncated or corrupt file raises ValueError
 * naming the file and the byte offset instead of crashing or allocating a claimed size.
 */
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mixnet/ndarray/ndarray.h"

namespace mixnet {

/*! \brief Arrays and (for dicts) their names; names is empty for a plain list. */
struct NDArrayList {
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
};

/*! \brief Writes a list (no names) or a dict (one name per array). Waits for the arrays. */
void SaveNDArrays(const std::string& path, std::span<const NDArray> arrays,
                  std::span<const std::string> names = {});
/*! \brief The same bytes as SaveNDArrays, in memory. */
std::string SaveNDArraysToBytes(std::span<const NDArray> arrays,
                                std::span<const std::string> names = {});

/*! \brief Reads a file; arrays are placed on `ctx` (saved contexts are not restored). */
NDArrayList LoadNDArrays(const std::string& path, Context ctx = Context::cpu());
/*! \brief Reads from memory; `source_name` names the buffer in error messages. */
NDArrayList LoadNDArraysFromBytes(std::string_view bytes, Context ctx = Context::cpu(),
                                  std::string_view source_name = "<bytes>");

}  // namespace mixnet
