//===- Nccl.cpp - libnccl through dlopen ----------------------------------===//
///
/// \file
/// Declares the handful of NCCL types and functions nnc calls, as nccl.h
/// (NCCL 2.x, a stable C ABI) has them, so that nothing needs nccl.h or
/// links against libnccl. Algorithm: dlopen the library, dlsym every entry
/// point of the X-macro table (a missing one makes the library unusable,
/// with its name as the reason), ask its version. The all-to-all is N
/// ncclSend and N ncclRecv in one group, as NCCL's documentation shows it.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/Nccl.h"

#include "ir/Support.h"

#include <dlfcn.h>

#include <cstring>
#include <type_traits>

namespace nn {

namespace {

// nccl.h's types: ncclResult_t and ncclDataType_t are enums (ints), a
// communicator and a stream are pointers, the unique id 128 bytes.
using NcclResult = int;
using NcclComm_t = void *;
using Stream = void *;
struct NcclUniqueId {
  char internal[NcclComm::kIdBytes];
};
constexpr NcclResult kNcclSuccess = 0;
constexpr int kNcclFloat = 7; // ncclFloat32

} // namespace

/// The library's entry points (name, type).
struct NcclApi {
#define NN_NCCL_FNS(X)                                                         \
  X(ncclGetVersion, NcclResult (*)(int *))                                     \
  X(ncclGetUniqueId, NcclResult (*)(NcclUniqueId *))                           \
  X(ncclCommInitRank, NcclResult (*)(NcclComm_t *, int, NcclUniqueId, int))    \
  X(ncclCommDestroy, NcclResult (*)(NcclComm_t))                               \
  X(ncclGetErrorString, const char *(*)(NcclResult))                           \
  X(ncclGroupStart, NcclResult (*)())                                          \
  X(ncclGroupEnd, NcclResult (*)())                                            \
  X(ncclSend,                                                                  \
    NcclResult (*)(const void *, size_t, int, int, NcclComm_t, Stream))        \
  X(ncclRecv, NcclResult (*)(void *, size_t, int, int, NcclComm_t, Stream))    \
  X(ncclAllGather,                                                             \
    NcclResult (*)(const void *, void *, size_t, int, NcclComm_t, Stream))
#define NN_NCCL_FIELD(name, type) std::type_identity_t<type> name = nullptr;
  NN_NCCL_FNS(NN_NCCL_FIELD)
#undef NN_NCCL_FIELD
  void *lib = nullptr;
  ~NcclApi() {
    if (lib)
      dlclose(lib);
  }
};

namespace {

void check(const NcclApi &a, NcclResult r, const char *call) {
  if (r == kNcclSuccess)
    return;
  const char *text = a.ncclGetErrorString(r);
  throw UserError(std::string("nnc: error: NCCL ") + call +
                  " failed: " + (text ? text : "error " + std::to_string(r)));
}

void *ptr(CudaDevicePtr p) { return reinterpret_cast<void *>(p); }

} // namespace

std::string ncclVersionText(int code) {
  // NCCL_VERSION(X, Y, Z): X*1000 + Y*100 + Z up to 2.8, X*10000 + Y*100 + Z
  // from 2.9 on.
  int major = code >= 10000 ? code / 10000 : code / 1000;
  int minor = code >= 10000 ? code % 10000 / 100 : code % 1000 / 100;
  return std::to_string(major) + "." + std::to_string(minor) + "." +
         std::to_string(code % 100);
}

NcclLibrary loadNccl(const std::string &path) {
  NcclLibrary l;
  l.path = path;
  auto a = std::make_shared<NcclApi>();
  a->lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!a->lib) {
    const char *why = dlerror();
    l.error = "cannot load " + path + (why ? std::string(": ") + why : "");
    return l;
  }
#define NN_NCCL_LOOKUP(name, type)                                             \
  a->name = reinterpret_cast<type>(dlsym(a->lib, #name));                      \
  if (!a->name) {                                                              \
    l.error = path + " has no " #name;                                         \
    return l;                                                                  \
  }
  NN_NCCL_FNS(NN_NCCL_LOOKUP)
#undef NN_NCCL_LOOKUP
  int code = 0;
  if (a->ncclGetVersion(&code) != kNcclSuccess) {
    l.error = path + ": ncclGetVersion failed";
    return l;
  }
  l.version = ncclVersionText(code);
  l.api = std::move(a);
  return l;
}

std::string NcclComm::newId(const NcclLibrary &lib) {
  NN_ASSERT(lib.api, "NCCL used without the library: " + lib.error);
  NcclUniqueId id;
  check(*lib.api, lib.api->ncclGetUniqueId(&id), "ncclGetUniqueId");
  return std::string(id.internal, sizeof id.internal);
}

NcclComm::NcclComm(const NcclLibrary &lib, const std::string &id, int n,
                   int rank)
    : api(lib.api), ranks(n) {
  NN_ASSERT(api, "NCCL used without the library: " + lib.error);
  NN_ASSERT(id.size() == kIdBytes, "an NCCL unique id of the wrong size");
  NcclUniqueId u;
  std::memcpy(u.internal, id.data(), kIdBytes);
  check(*api, api->ncclCommInitRank(&comm, n, u, rank), "ncclCommInitRank");
}

NcclComm::~NcclComm() {
  // A destructor cannot report a failure; the process is ending.
  if (comm)
    api->ncclCommDestroy(comm);
}

void NcclComm::allToAll(CudaDevicePtr send, CudaDevicePtr recv, size_t count,
                        void *stream) {
  const size_t bytes = count * sizeof(float);
  check(*api, api->ncclGroupStart(), "ncclGroupStart");
  for (int r = 0; r < ranks; ++r) {
    size_t at = static_cast<size_t>(r) * bytes;
    NcclResult s =
        api->ncclSend(ptr(send + at), count, kNcclFloat, r, comm, stream);
    NcclResult v =
        api->ncclRecv(ptr(recv + at), count, kNcclFloat, r, comm, stream);
    if (s != kNcclSuccess || v != kNcclSuccess) {
      api->ncclGroupEnd(); // close the group; the first error is reported
      check(*api, s != kNcclSuccess ? s : v,
            s != kNcclSuccess ? "ncclSend" : "ncclRecv");
    }
  }
  check(*api, api->ncclGroupEnd(), "ncclGroupEnd (the all-to-all)");
}

void NcclComm::allGather(CudaDevicePtr send, CudaDevicePtr recv, size_t count,
                         void *stream) {
  check(
      *api,
      api->ncclAllGather(ptr(send), ptr(recv), count, kNcclFloat, comm, stream),
      "ncclAllGather");
}

} // namespace nn
