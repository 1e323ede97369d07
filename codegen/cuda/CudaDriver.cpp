//===- CudaDriver.cpp - libcuda through dlopen ----------------------------===//
///
/// \file
/// The one file that includes cuda.h, for its types only: nothing links
/// against libcuda. The driver is opened with dlopen("libcuda.so.1"); every
/// entry point is looked up with cuGetProcAddress (so each call gets the
/// ABI version this header describes, as of CUDA 12.0), and every call's
/// result is checked.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaDriver.h"

#include "ir/Support.h"

#include <cuda.h>
#include <dlfcn.h>

#include <mutex>

namespace nn {

namespace {

/// The driver's entry points, as this header declares them.
struct Api {
#define NN_CU_FN(name) decltype(&::name) name = nullptr;
#define NN_CU_FNS(X)                                                           \
  X(cuInit)                                                                    \
  X(cuDeviceGetCount) X(cuDeviceGet) X(cuDeviceGetName)                        \
      X(cuDeviceGetAttribute) X(cuDevicePrimaryCtxRetain) X(                   \
          cuDevicePrimaryCtxRelease) X(cuCtxSetCurrent) X(cuMemAlloc)          \
          X(cuMemFree) X(cuMemAllocHost) X(cuMemFreeHost) X(cuMemcpyHtoDAsync) \
              X(cuMemcpyDtoHAsync) X(cuMemcpyDtoDAsync) X(cuMemsetD8Async) X(  \
                  cuMemsetD32Async) X(cuStreamCreate) X(cuStreamDestroy)       \
                  X(cuStreamSynchronize) X(cuModuleLoadData) X(cuModuleUnload) \
                      X(cuModuleGetFunction) X(cuLaunchKernel)                 \
                          X(cuStreamBeginCapture) X(cuStreamEndCapture)        \
                              X(cuGraphInstantiate) X(cuGraphLaunch)           \
                                  X(cuGraphExecDestroy) X(cuGraphDestroy)      \
                                      X(cuGetErrorName) X(cuGetErrorString)    \
                                          X(cuEventCreate) X(cuEventRecord)    \
                                              X(cuEventElapsedTime)            \
                                                  X(cuEventDestroy)            \
                                                      X(cuDeviceGetUuid)
  NN_CU_FNS(NN_CU_FN)
#undef NN_CU_FN
};

/// Driver entry points are looked up as of this CUDA version.
constexpr int kApiVersion = 12000;

struct Loaded {
  Api api;
  std::string error; // why the driver cannot be used; "" when it can
};

/// The base name of a driver function: "cuMemAlloc" for the macro-renamed
/// "cuMemAlloc_v2" (cuGetProcAddress takes base names).
const Loaded &driver() {
  static Loaded l;
  static std::once_flag once;
  std::call_once(once, [] {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      l.error = "cannot load the CUDA driver libcuda.so.1";
      return;
    }
    using GetProc = CUresult (*)(const char *, void **, int, cuuint64_t,
                                 CUdriverProcAddressQueryResult *);
    using GetProcV1 = CUresult (*)(const char *, void **, int, cuuint64_t);
    auto getV2 = reinterpret_cast<GetProc>(dlsym(lib, "cuGetProcAddress_v2"));
    auto getV1 = reinterpret_cast<GetProcV1>(dlsym(lib, "cuGetProcAddress"));
    if (!getV2 && !getV1) {
      l.error = "the CUDA driver is too old (no cuGetProcAddress)";
      return;
    }
    auto lookup = [&](const char *name, void **fn) {
      *fn = nullptr;
      CUresult r;
      if (getV2) {
        CUdriverProcAddressQueryResult status;
        r = getV2(name, fn, kApiVersion, CU_GET_PROC_ADDRESS_DEFAULT, &status);
      } else {
        r = getV1(name, fn, kApiVersion, CU_GET_PROC_ADDRESS_DEFAULT);
      }
      if (r != CUDA_SUCCESS || !*fn)
        l.error = std::string("the CUDA driver has no ") + name;
    };
    // The base names, before cuda.h's macros rename them to _v2 etc.
#define NN_CU_LOOKUP(name)                                                     \
  lookup(#name, reinterpret_cast<void **>(&l.api.name));
    NN_CU_FNS(NN_CU_LOOKUP)
#undef NN_CU_LOOKUP
    if (!l.error.empty())
      return;
    CUresult r = l.api.cuInit(0);
    if (r != CUDA_SUCCESS) {
      const char *s = nullptr;
      l.api.cuGetErrorName(r, &s);
      l.error = std::string("cuInit failed: ") + (s ? s : "unknown error");
      return;
    }
    int count = 0;
    if (l.api.cuDeviceGetCount(&count) != CUDA_SUCCESS || count < 1)
      l.error = "the CUDA driver sees no device";
  });
  return l;
}

const Api &api() {
  const Loaded &l = driver();
  NN_ASSERT(l.error.empty(), "CUDA driver used without a device: " + l.error);
  return l.api;
}

std::string errorText(CUresult r) {
  const char *name = nullptr, *text = nullptr;
  api().cuGetErrorName(r, &name);
  api().cuGetErrorString(r, &text);
  return std::string(name ? name : "CUDA error " + std::to_string(r)) +
         (text ? std::string(": ") + text : "");
}

/// Throws UserError for a failed driver call (a device problem: out of
/// memory, a kernel fault, a lost device is not something nnc's input
/// caused, but neither is it a bug in nnc's logic; the message names the
/// call and the context).
void check(CUresult r, const char *call, const std::string &context = "") {
  if (r == CUDA_SUCCESS)
    return;
  throw UserError("nnc: error: CUDA " + std::string(call) + " failed" +
                  (context.empty() ? "" : " (" + context + ")") + ": " +
                  errorText(r));
}

CUstream stream(void *s) { return static_cast<CUstream>(s); }

} // namespace

std::string cudaUnavailableReason() { return driver().error; }

std::string cudaDefaultArch() {
  if (!cudaUnavailableReason().empty())
    return "sm_90";
  CUdevice dev;
  int major = 0, minor = 0;
  if (api().cuDeviceGet(&dev, 0) != CUDA_SUCCESS ||
      api().cuDeviceGetAttribute(&major,
                                 CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                                 dev) != CUDA_SUCCESS ||
      api().cuDeviceGetAttribute(&minor,
                                 CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                                 dev) != CUDA_SUCCESS)
    return "sm_90";
  return "sm_" + std::to_string(major) + std::to_string(minor);
}

int cudaDeviceCount() {
  int count = 0;
  if (!cudaUnavailableReason().empty() ||
      api().cuDeviceGetCount(&count) != CUDA_SUCCESS)
    return 0;
  return count;
}

std::unique_ptr<CudaContext> CudaContext::open(int ordinal) {
  std::string why = cudaUnavailableReason();
  if (!why.empty())
    throw UserError("nnc: error: no CUDA device found (" + why + ")");
  const Api &a = api();
  std::unique_ptr<CudaContext> c(new CudaContext());
  CUdevice dev;
  check(a.cuDeviceGet(&dev, ordinal), "cuDeviceGet",
        "device " + std::to_string(ordinal));
  c->device = dev;
  char buf[256] = {0};
  check(a.cuDeviceGetName(buf, sizeof buf - 1, dev), "cuDeviceGetName");
  c->name = buf;
  CUuuid uuid;
  check(a.cuDeviceGetUuid(&uuid, dev), "cuDeviceGetUuid");
  c->uuid.assign(uuid.bytes, sizeof uuid.bytes);
  int major = 0, minor = 0;
  check(a.cuDeviceGetAttribute(
            &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev),
        "cuDeviceGetAttribute");
  check(a.cuDeviceGetAttribute(
            &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev),
        "cuDeviceGetAttribute");
  check(a.cuDeviceGetAttribute(&c->sms,
                               CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev),
        "cuDeviceGetAttribute");
  check(a.cuDeviceGetAttribute(&c->clockKHz, CU_DEVICE_ATTRIBUTE_CLOCK_RATE,
                               dev),
        "cuDeviceGetAttribute");
  c->archName = "sm_" + std::to_string(major) + std::to_string(minor);
  c->major = major;
  c->minor = minor;
  CUcontext ctx;
  check(a.cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain");
  c->ctx = ctx;
  check(a.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
  CUstream s;
  check(a.cuStreamCreate(&s, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  c->stream = s;
  return c;
}

double CudaContext::fp32PeakGflops() const {
  // fp32 lanes per multiprocessor: 64 on Volta, Turing and the A100, 128
  // from sm_86 on (GA10x, Ada, Hopper, Blackwell).
  int lanes = major < 8 || (major == 8 && minor == 0) ? 64 : 128;
  return static_cast<double>(sms) * lanes * 2 * clockKHz / 1e6;
}

double CudaContext::tf32PeakGflops() const {
  int perClock = major >= 9 ? 2048 : major == 8 && minor == 0 ? 1024
                                   : major == 8                ? 256
                                                               : 0;
  return static_cast<double>(sms) * perClock * clockKHz / 1e6;
}

CudaContext::~CudaContext() {
  // Errors here cannot be reported (a destructor); the process is ending
  // or the executor is being replaced.
  const Api &a = api();
  if (stream) {
    a.cuStreamSynchronize(nn::stream(stream));
    a.cuStreamDestroy(nn::stream(stream));
  }
  if (ctx)
    a.cuDevicePrimaryCtxRelease(device);
}

CudaDevicePtr CudaContext::alloc(size_t bytes, const std::string &what) {
  CUdeviceptr p = 0;
  check(api().cuMemAlloc(&p, bytes ? bytes : 4), "cuMemAlloc",
        std::to_string(bytes) + " bytes for " + what);
  check(api().cuMemsetD8Async(p, 0, bytes ? bytes : 4, nn::stream(stream)),
        "cuMemsetD8Async", what);
  return p;
}

void CudaContext::free(CudaDevicePtr p) {
  if (p)
    check(api().cuMemFree(p), "cuMemFree");
}

void *CudaContext::allocHost(size_t bytes) {
  void *p = nullptr;
  check(api().cuMemAllocHost(&p, bytes ? bytes : 4), "cuMemAllocHost",
        std::to_string(bytes) + " bytes");
  return p;
}

void CudaContext::freeHost(void *p) {
  if (p)
    check(api().cuMemFreeHost(p), "cuMemFreeHost");
}

void CudaContext::copyToDevice(CudaDevicePtr dst, const void *src,
                               size_t bytes) {
  if (bytes)
    check(api().cuMemcpyHtoDAsync(dst, src, bytes, nn::stream(stream)),
          "cuMemcpyHtoDAsync");
}

void CudaContext::copyToHost(void *dst, CudaDevicePtr src, size_t bytes) {
  if (bytes)
    check(api().cuMemcpyDtoHAsync(dst, src, bytes, nn::stream(stream)),
          "cuMemcpyDtoHAsync");
}

void CudaContext::copyOnDevice(CudaDevicePtr dst, CudaDevicePtr src,
                               size_t bytes) {
  if (bytes && dst != src)
    check(api().cuMemcpyDtoDAsync(dst, src, bytes, nn::stream(stream)),
          "cuMemcpyDtoDAsync");
}

void CudaContext::fill32(CudaDevicePtr dst, uint32_t word, size_t count) {
  if (count)
    check(api().cuMemsetD32Async(dst, word, count, nn::stream(stream)),
          "cuMemsetD32Async");
}

void *CudaContext::loadModule(const std::string &cubin) {
  CUmodule m;
  check(api().cuModuleLoadData(&m, cubin.data()), "cuModuleLoadData",
        "the cubin compiled for " + archName + " on " + name);
  return m;
}

void CudaContext::unloadModule(void *module) {
  if (module)
    check(api().cuModuleUnload(static_cast<CUmodule>(module)),
          "cuModuleUnload");
}

void *CudaContext::kernel(void *module, const std::string &kname) {
  CUfunction f;
  check(api().cuModuleGetFunction(&f, static_cast<CUmodule>(module),
                                  kname.c_str()),
        "cuModuleGetFunction", kname);
  return f;
}

void CudaContext::launch(void *fn, unsigned grid, unsigned block, void **args,
                         const std::string &kname) {
  if (grid == 0)
    return;
  check(api().cuLaunchKernel(static_cast<CUfunction>(fn), grid, 1, 1, block, 1,
                             1, 0, nn::stream(stream), args, nullptr),
        "cuLaunchKernel", "kernel " + kname);
}

void CudaContext::synchronize(const std::string &what) {
  check(api().cuStreamSynchronize(nn::stream(stream)), "cuStreamSynchronize",
        what);
}

void CudaContext::beginCapture() {
  check(api().cuStreamBeginCapture(nn::stream(stream),
                                   CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
        "cuStreamBeginCapture");
}

void *CudaContext::endCapture() {
  CUgraph g = nullptr;
  check(api().cuStreamEndCapture(nn::stream(stream), &g), "cuStreamEndCapture");
  CUgraphExec exec = nullptr;
  CUresult r = api().cuGraphInstantiate(&exec, g, 0);
  api().cuGraphDestroy(g);
  check(r, "cuGraphInstantiate");
  return exec;
}

void CudaContext::launchGraph(void *exec) {
  check(api().cuGraphLaunch(static_cast<CUgraphExec>(exec), nn::stream(stream)),
        "cuGraphLaunch");
}

void CudaContext::destroyGraph(void *exec) {
  if (exec)
    check(api().cuGraphExecDestroy(static_cast<CUgraphExec>(exec)),
          "cuGraphExecDestroy");
}

void *CudaContext::recordEvent() {
  CUevent e;
  check(api().cuEventCreate(&e, CU_EVENT_DEFAULT), "cuEventCreate");
  check(api().cuEventRecord(e, nn::stream(stream)), "cuEventRecord");
  return e;
}

float CudaContext::elapsedMs(void *start, void *end) {
  float ms = 0;
  check(api().cuEventElapsedTime(&ms, static_cast<CUevent>(start),
                                 static_cast<CUevent>(end)),
        "cuEventElapsedTime");
  return ms;
}

void CudaContext::destroyEvent(void *event) {
  if (event)
    check(api().cuEventDestroy(static_cast<CUevent>(event)), "cuEventDestroy");
}

} // namespace nn
