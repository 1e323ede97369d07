//===- DeviceReduce.cpp - The gradients summed on the GPUs ----------------===//
///
/// \file
/// Algorithm: the MPI path's fixed-order reduce-scatter and all-gather
/// (runtime/DataParallel.cpp), on the GPUs. Each rank copies its gradients,
/// device to device, into one buffer of N equal slices (zero padded); NCCL
/// sends slice j to rank j (an all-to-all of grouped ncclSend/ncclRecv);
/// rank j adds the N slices it received in rank order, in double, rank r
/// weighted by n_r / B, rounded once to float (codegen/cuda/CudaSliceSum.h:
/// the bits of sumInRankOrder); ncclAllGather hands every rank every summed
/// slice, which become the update program's "dp.grad.<param>" leaves,
/// device to device. No sum depends on NCCL's choice of rings or trees, so
/// a run gives the same bits every time, and the same as the MPI path.
/// Whether NCCL is used is agreed by all ranks (an MPI all-gather of one
/// flag each): a rank without libnccl sends everyone to the MPI path.
///
//===----------------------------------------------------------------------===//

#include "runtime/DeviceReduce.h"

#include "ir/Support.h"
#include "runtime/CudaExecutor.h"
#include "runtime/DataParallel.h"
#include "runtime/Distributed.h"

#include "codegen/cuda/CudaSliceSum.h"
#include "codegen/cuda/Nccl.h"
#include "codegen/cuda/Nvrtc.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace nn {

std::string gradientPathNote(const std::string &ncclVersion,
                             const std::string &why) {
  if (why.empty())
    return "data-parallel: gradients summed with NCCL " + ncclVersion +
           " on the GPUs";
  return "data-parallel: gradients summed through MPI on host buffers (" + why +
         ")";
}

std::string requestedNcclLibrary(std::string &why) {
  if (const char *on = std::getenv("NNC_NCCL"); on && std::string(on) == "0") {
    why = "NNC_NCCL=0";
    return "";
  }
  const char *path = std::getenv("NNC_NCCL_LIBRARY");
  return path && *path ? path : "libnccl.so.2";
}

std::string ncclInTheWorld(const std::string &blocks, size_t block) {
  int ranks = static_cast<int>(blocks.size() / block), without = 0;
  for (int r = 0; r < ranks; ++r) {
    std::string_view mine(blocks.data() + r * block, block);
    without += mine[0] != 1;
    for (int q = 0; q < r && mine[0] == 1; ++q)
      if (mine.substr(1) ==
          std::string_view(blocks.data() + q * block + 1, block - 1))
        return "ranks " + std::to_string(q) + " and " + std::to_string(r) +
               " share a GPU; NCCL needs one GPU per rank";
  }
  if (without > 0)
    return std::to_string(without) + " of " + std::to_string(ranks) +
           " ranks cannot use NCCL";
  return "";
}

namespace {

/// Why this rank cannot sum with NCCL ("" when it can), and the library.
std::string ncclOnThisRank(Executor &gradExec, Executor &updExec,
                           NcclLibrary &lib) {
  if (!cudaBuffers(gradExec) || !cudaBuffers(updExec))
    return "the executors keep no device buffers";
  std::string why;
  std::string path = requestedNcclLibrary(why);
  if (path.empty())
    return why;
  lib = loadNccl(path);
  return lib.error;
}

} // namespace

#ifdef NNC_HAVE_CUDA_BACKEND

namespace {

class NcclReduce : public DeviceReduce {
public:
  NcclReduce(std::unique_ptr<CudaContext> c, const NcclLibrary &lib,
             const std::string &id, CudaBuffers &g, CudaBuffers &u,
             std::vector<std::string> params, std::vector<size_t> sizes);
  ~NcclReduce() override;
  void sum(bool ran, const std::vector<double> &weights) override;

private:
  CudaBuffers &grads, &update;
  std::vector<std::string> params;
  std::vector<size_t> sizes; // each parameter's values
  int ranks = 0;
  size_t slice = 0; // floats per rank's slice
  std::unique_ptr<CudaContext> ctx;
  std::unique_ptr<NcclComm> comm;
  CudaSource src;
  void *module = nullptr, *fn = nullptr;
  // The padded gradients, the received slices, this rank's summed slice,
  // every summed slice, the ranks' weights (doubles).
  CudaDevicePtr send = 0, recv = 0, mine = 0, all = 0, weightBuf = 0;
};

NcclReduce::NcclReduce(std::unique_ptr<CudaContext> c, const NcclLibrary &lib,
                       const std::string &id, CudaBuffers &g, CudaBuffers &u,
                       std::vector<std::string> ps, std::vector<size_t> ss)
    : grads(g), update(u), params(std::move(ps)), sizes(std::move(ss)),
      ranks(world().size), ctx(std::move(c)) {
  size_t total = 0;
  for (size_t s : sizes)
    total += s;
  slice = (total + ranks - 1) / ranks;
  src = printSliceSum(ranks);
  NvrtcOptions no;
  no.arch = ctx->arch();
  module = ctx->loadModule(compileCuda(src, no).cubin);
  fn = ctx->kernel(module, src.kernels.at(0).name);
  size_t bytes = slice * sizeof(float);
  send = ctx->alloc(bytes * ranks, "the gradients to send");
  recv = ctx->alloc(bytes * ranks, "the gradient slices received");
  mine = ctx->alloc(bytes, "the summed gradient slice");
  all = ctx->alloc(bytes * ranks, "the summed gradients");
  weightBuf = ctx->alloc(sizeof(double) * ranks, "the ranks' weights");
  ctx->synchronize("allocating the gradient buffers");
  comm = std::make_unique<NcclComm>(lib, id, ranks, world().rank);
}

NcclReduce::~NcclReduce() {
  // A destructor cannot report failures; the process is ending.
  try {
    comm.reset();
    for (CudaDevicePtr p : {send, recv, mine, all, weightBuf})
      ctx->free(p);
    ctx->unloadModule(module);
  } catch (const std::exception &) {
  }
}

void NcclReduce::sum(bool ran, const std::vector<double> &weights) {
  NN_ASSERT(weights.size() == static_cast<size_t>(ranks), "one weight a rank");
  size_t at = 0;
  if (ran) {
    for (size_t i = 0; i < params.size(); ++i) {
      grads.copyOutput("grad." + params[i], send + at * sizeof(float));
      at += sizes[i];
    }
  } else {
    ctx->fill32(send, 0, slice * ranks);
  }
  ctx->copyToDevice(weightBuf, weights.data(), sizeof(double) * ranks);
  comm->allToAll(send, recv, slice, ctx->rawStream());
  long long width = static_cast<long long>(slice);
  void *args[] = {&mine, &recv, &weightBuf, &width};
  const CudaKernel &k = src.kernels.at(0);
  CudaLaunchDims d = cudaLaunchDims(k, width);
  ctx->launch(fn, d.grid, d.block, args, k.name);
  comm->allGather(mine, all, slice, ctx->rawStream());
  ctx->synchronize("the gradients' sum with NCCL");
  at = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    update.setLeaf(kGradLeafPrefix + params[i], all + at * sizeof(float));
    at += sizes[i];
  }
}

/// This rank's GPU's UUID, 16 bytes ("" when there is no context).
std::string uuidOf(const std::unique_ptr<CudaContext> &c) {
  return c ? c->deviceUuid() : std::string(16, '\0');
}

} // namespace

#endif // NNC_HAVE_CUDA_BACKEND

std::unique_ptr<DeviceReduce>
makeDeviceReduce(const std::string &backend, const Graph &grads,
                 const std::vector<std::string> &params, Executor &gradExec,
                 Executor &updExec) {
  const World &w = world();
  if (w.size <= 1 || backend != "cuda")
    return nullptr;
  NcclLibrary lib;
  std::string why = ncclOnThisRank(gradExec, updExec, lib);
#ifdef NNC_HAVE_CUDA_BACKEND
  std::unique_ptr<CudaContext> ctx;
  if (why.empty())
    ctx = CudaContext::open(cudaBuffers(gradExec)->deviceOrdinal());
  std::string uuid = uuidOf(ctx);
#else
  std::string uuid(16, '\0');
#endif
  // Every rank takes the same path: each says whether it can, and which GPU
  // it has.
  std::string mine = std::string(1, why.empty() ? 1 : 0) + uuid;
  std::string worldWhy = ncclInTheWorld(allGatherBytes(mine), mine.size());
  if (why.empty())
    why = worldWhy;
  if (w.rank == 0)
    std::fprintf(stderr, "nnc: %s\n",
                 gradientPathNote(lib.version, why).c_str());
  if (!worldWhy.empty())
    return nullptr;
#ifdef NNC_HAVE_CUDA_BACKEND
  std::vector<size_t> sizes;
  for (const std::string &p : params)
    for (const Output &o : grads.outputs)
      if (o.name == "grad." + p)
        sizes.push_back(static_cast<size_t>(grads[o.node].type.numel()));
  NN_ASSERT(sizes.size() == params.size(), "a parameter without a gradient");
  // Rank 0's unique id, to every rank.
  std::string id =
      allGatherBytes(w.rank == 0 ? NcclComm::newId(lib)
                                 : std::string(NcclComm::kIdBytes, '\0'))
          .substr(0, NcclComm::kIdBytes);
  return std::make_unique<NcclReduce>(std::move(ctx), lib, id,
                                      *cudaBuffers(gradExec),
                                      *cudaBuffers(updExec), params, sizes);
#else
  NN_UNREACHABLE("CUDA executors in a build without the CUDA backend");
#endif
}

} // namespace nn
