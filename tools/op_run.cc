// mixnet_op_run: runs one registered operator on arrays read from an MXNet .params file and
// writes its outputs to another, so that tests can compare mixnet's ops with MXNet's.
//
//   mixnet_op_run OP IN.params OUT.params [--train] [key=value ...]
// IN holds the inputs as a list, in the op's input order; OUT gets the outputs as a list.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "mixnet/mixnet.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s OP IN.params OUT.params [--train] [key=value ...]\n", argv[0]);
    return 2;
  }
  try {
    mx::op::AttrDict attrs;
    mx::op::InvokeOptions options;
    for (int i = 4; i < argc; ++i) {
      if (!std::strcmp(argv[i], "--train")) {
        options.is_train = true;
        continue;
      }
      const char* eq = std::strchr(argv[i], '=');
      if (!eq) {
        std::fprintf(stderr, "error: expected key=value, got '%s'\n", argv[i]);
        return 2;
      }
      attrs.emplace_back(std::string(argv[i], static_cast<size_t>(eq - argv[i])),
                         std::string(eq + 1));
    }
    const mx::NDArrayList in = mx::LoadNDArrays(argv[2]);
    const auto out = mx::op::Invoke(argv[1], in.arrays, attrs, {}, options);
    mx::SaveNDArrays(argv[3], out);
    return 0;
  } catch (const mx::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
