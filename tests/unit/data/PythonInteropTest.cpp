//===- PythonInteropTest.cpp - Outside checks of the file formats ---------===//
///
/// \file
/// Python reads our safetensors files with nothing but json, struct and zlib
/// (and PyTorch, when it is installed), and we read a file Python wrote.
/// Skipped where /usr/bin/python3 is missing.
///
//===----------------------------------------------------------------------===//
#include "DataTestUtil.h"

#include "runtime/Safetensors.h"

#include <sys/wait.h>
#include <unistd.h>

using namespace nn;
using namespace nn::testing;

namespace {

const char *kPython = "/usr/bin/python3";

/// Runs `script` with python3 and the given arguments; returns the exit code
/// and collects stdout+stderr in `output`.
int runPython(const ScratchDir &dir, const std::string &script,
              const std::vector<std::string> &args, std::string &output) {
  std::string file = dir.path("check.py");
  writeBytes(file, script);
  std::string cmd = std::string(kPython) + " " + file;
  for (const std::string &a : args)
    cmd += " '" + a + "'";
  cmd += " 2>&1";
  std::FILE *p = ::popen(cmd.c_str(), "r");
  if (!p)
    return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0)
    output.append(buf, n);
  int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char *kReadScript = R"PY(
import json, struct, sys, zlib
path = sys.argv[1]
raw = open(path, 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
assert n % 8 == 0, n
header = json.loads(raw[8:8 + n].decode('utf-8'))
data = raw[8 + n:]
meta = header.pop('__metadata__')
assert meta['epoch'] == '7', meta
assert meta['crc32'] == '%08x' % (zlib.crc32(data) & 0xffffffff), meta
assert sorted(header) == ['fc1.bias', 'fc1.weight', 'w'], sorted(header)
expect = {
    'fc1.weight': ([3, 2], [0.5 * i - 1.0 for i in range(6)]),
    'fc1.bias': ([3], [0.25, -2.0, 1e-3]),
    'w': ([2], [3.5, -7.0]),
}
for name, (shape, values) in expect.items():
    e = header[name]
    assert e['dtype'] == 'F32', e
    assert e['shape'] == shape, e
    b, end = e['data_offsets']
    got = list(struct.unpack('<%df' % len(values), data[b:end]))
    want = list(struct.unpack('<%df' % len(values), struct.pack('<%df' % len(values), *values)))
    assert got == want, (name, got, want)
try:
    import torch
except Exception:
    print('torch: not installed')
    sys.exit(0)
lin = torch.nn.Linear(2, 3)
state = {}
for name in ('fc1.weight', 'fc1.bias'):
    e = header[name]
    b, end = e['data_offsets']
    t = torch.frombuffer(bytearray(data[b:end]), dtype=torch.float32).reshape(e['shape'])
    state[name[4:]] = t
lin.load_state_dict(state)
y = lin(torch.tensor([[1.0, 2.0]]))
# y = W x + b with W = [[-1,-0.5],[0,0.5],[1,1.5]], b = [0.25,-2,1e-3]
want = torch.tensor([[-1.75, -1.0, 4.001]])
assert torch.allclose(y, want), y
print('torch: ok')
)PY";

const char *kWriteScript = R"PY(
import json, struct, sys
vals64 = [1.5, -2.25, 1e-3]
vals16 = [0.5, -65504.0]
data = struct.pack('<3d', *vals64) + struct.pack('<2e', *vals16)
header = {
    '__metadata__': {'format': 'pt', 'who': 'python'},
    'double': {'dtype': 'F64', 'shape': [3], 'data_offsets': [0, 24]},
    'half': {'dtype': 'F16', 'shape': [1, 2], 'data_offsets': [24, 28]},
}
h = json.dumps(header, indent=1).encode('utf-8')
h += b' ' * (-len(h) % 8)
open(sys.argv[1], 'wb').write(struct.pack('<Q', len(h)) + h + data)
)PY";

} // namespace

TEST(PythonInterop, PythonReadsOurSafetensors) {
  if (::access(kPython, X_OK) != 0)
    GTEST_SKIP() << kPython << " is missing: cannot check the file with Python";
  ScratchDir dir;
  TensorMap m;
  Tensor w({3, 2});
  for (int i = 0; i < 6; ++i)
    w[i] = 0.5f * i - 1.0f;
  m["fc1.weight"] = w;
  Tensor b({3});
  b[0] = 0.25f;
  b[1] = -2.0f;
  b[2] = 1e-3f;
  m["fc1.bias"] = b;
  Tensor v({2});
  v[0] = 3.5f;
  v[1] = -7.0f;
  m["w"] = v;
  std::string path = dir.path("model.safetensors");
  writeSafetensors(path, m, {{"epoch", "7"}});
  std::string out;
  int rc = runPython(dir, kReadScript, {path}, out);
  EXPECT_EQ(rc, 0) << out;
  std::printf("python check: %s", out.c_str());
}

TEST(PythonInterop, WeReadPythonsSafetensors) {
  if (::access(kPython, X_OK) != 0)
    GTEST_SKIP() << kPython << " is missing: cannot write a file with Python";
  ScratchDir dir;
  std::string path = dir.path("py.safetensors");
  std::string out;
  ASSERT_EQ(runPython(dir, kWriteScript, {path}, out), 0) << out;
  SafetensorsFile f = readSafetensors(path);
  EXPECT_EQ(f.metadata.at("who"), "python");
  EXPECT_EQ(f.metadata.count("crc32"), 0u);
  EXPECT_EQ(f.tensors.at("double").data,
            (std::vector<float>{1.5f, -2.25f, 1e-3f}));
  EXPECT_EQ(f.tensors.at("half").shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(f.tensors.at("half").data, (std::vector<float>{0.5f, -65504.0f}));
}
