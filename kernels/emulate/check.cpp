// Runs every kernel in kernels/ under the CPU emulation (cuda_emu.hpp) on fresh random
// inputs and compares it with a double-precision reference: every output element written
// (outputs are poisoned with NaN first), relative error ||out - ref|| / ||ref|| within the
// precision's tolerance. The launch shapes follow each kernel's stated contract, as the
// CUDA backend (src/calibration/cuda.rs) launches them, at sizes that exercise the tails
// (rows not filling a block, columns not filling an unrolled pass, a last partial chunk).
//
// Build and run (tests/kernels.rs does this):
//   g++ -std=c++20 -O1 -pthread -Wno-unknown-pragmas -I kernels/emulate/include
//       kernels/emulate/check.cpp -o check && ./check SEED
// Prints one line per kernel and size; exit code 1 on any mismatch.
#include "cuda_emu.hpp"

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include <cuda_bf16.h>
#include <mma.h>

namespace copy_k {
#include "../copy.cu"
}
namespace decode_k {
#include "../decode.cu"
}
namespace attention_k {
#include "../attention.cu"
}
namespace matmul_k {
#include "../matmul_wmma.cu"
}

static std::mt19937_64 rng;
static int failures = 0, checks = 0;
constexpr float SENTINEL = -12345.5f;

static float uniform() { return std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng); }

// Round to the nearest bf16 (ties to even): its 16-bit word.
static std::uint16_t to_bf16(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return std::uint16_t(u >> 16);
}
static double from_bf16(std::uint16_t h) {
    const std::uint32_t u = std::uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// Outputs are allocated with GUARD elements past their end, set to a sentinel that no
// kernel may touch; `kept` checks them and drops them.
constexpr size_t GUARD = 64;

template <class T>
static std::vector<T> guarded(size_t n, T poison, T sentinel) {
    std::vector<T> v(n + GUARD, sentinel);
    std::fill(v.begin(), v.begin() + n, poison);
    return v;
}

template <class T>
static bool kept(const std::string& what, std::vector<T>& v, T sentinel) {
    const size_t n = v.size() - GUARD;
    for (size_t i = n; i < v.size(); ++i)
        if (std::memcmp(&v[i], &sentinel, sizeof(T)) != 0) {
            std::printf("FAIL %s: wrote past the end of its output (element %zu)\n", what.c_str(), i);
            ++checks;
            ++failures;
            return false;
        }
    v.resize(n);
    return true;
}

// Every element written and within `tol` of the reference in relative norm.
static void compare(const std::string& what, const std::vector<float>& got,
                    const std::vector<double>& want, double tol) {
    ++checks;
    double num = 0, den = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (std::isnan(got[i])) {
            std::printf("FAIL %s: element %zu not written (NaN)\n", what.c_str(), i);
            ++failures;
            return;
        }
        num += (got[i] - want[i]) * (got[i] - want[i]);
        den += want[i] * want[i];
    }
    const double rel = std::sqrt(num / std::max(den, 1e-300));
    const bool ok = rel <= tol;
    std::printf("%s %s: %zu elements, relative error %.2e (tolerance %.0e)\n",
                ok ? "ok  " : "FAIL", what.c_str(), got.size(), rel, tol);
    failures += !ok;
}

static void check_copy() {
    const unsigned long long n4 = 1000;  // float4 elements: more than one grid pass
    std::vector<float4> src(n4);
    for (auto& v : src) v = {uniform(), uniform(), uniform(), uniform()};
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float4 sentinel{-1.5f, -2.5f, -3.5f, -4.5f};
    auto dst = guarded(n4, float4{nan, nan, nan, nan}, sentinel);
    emu::launch(dim3{2}, dim3{256}, copy_k::copy_f4, (const float4*)src.data(), dst.data(), n4);
    if (!kept("copy_f4", dst, sentinel)) return;
    std::vector<float> got;
    std::vector<double> want;
    for (size_t i = 0; i < n4; ++i)
        for (float* p : {&dst[i].x, &dst[i].y, &dst[i].z, &dst[i].w}) got.push_back(*p);
    for (size_t i = 0; i < n4; ++i)
        for (float v : {src[i].x, src[i].y, src[i].z, src[i].w}) want.push_back(v);
    compare("copy_f4 n4=1000", got, want, 0.0);
}

template <int B>
static void check_decode(void (*kernel)(const uint4*, const float4*, float*, int, int)) {
    // 37 rows: 5 blocks of 8 warps, the last 3 warps idle; 2344 columns = 293 chunks of 8:
    // unrolled passes and a tail.
    const int rows = 37, cols = 2344;
    std::vector<uint4> w(size_t(rows) * cols / 8);
    auto* wh = reinterpret_cast<std::uint16_t*>(w.data());
    for (size_t i = 0; i < size_t(rows) * cols; ++i) wh[i] = to_bf16(uniform());
    std::vector<float4> x(static_cast<size_t>(B) * cols / 4);
    auto* xf = reinterpret_cast<float*>(x.data());
    for (size_t i = 0; i < size_t(B) * cols; ++i) xf[i] = uniform();
    const std::string name = "gemv_bf16_b" + std::to_string(B) + " 37x2344";
    auto y = guarded(static_cast<size_t>(B) * rows, std::numeric_limits<float>::quiet_NaN(), SENTINEL);
    const unsigned blocks = (rows * 32 + 255) / 256;
    emu::launch(dim3{blocks}, dim3{256}, kernel, (const uint4*)w.data(), (const float4*)x.data(),
                y.data(), rows, cols);
    if (!kept(name, y, SENTINEL)) return;
    std::vector<double> want(y.size());
    for (int b = 0; b < B; ++b)
        for (int r = 0; r < rows; ++r) {
            double s = 0;
            for (int c = 0; c < cols; ++c)
                s += from_bf16(wh[size_t(r) * cols + c]) * double(xf[size_t(b) * cols + c]);
            want[size_t(b) * rows + r] = s;
        }
    compare(name, y, want, 1e-5);
}

static void check_attention(int pairs, int seq, int chunk) {
    const int d = 128;
    std::vector<uint2> k(size_t(pairs) * seq * d / 4), v(k.size());
    auto* kh = reinterpret_cast<std::uint16_t*>(k.data());
    auto* vh = reinterpret_cast<std::uint16_t*>(v.data());
    for (size_t i = 0; i < size_t(pairs) * seq * d; ++i) {
        kh[i] = to_bf16(uniform());
        vh[i] = to_bf16(uniform());
    }
    std::vector<float4> q(size_t(pairs) * d / 4);
    auto* qf = reinterpret_cast<float*>(q.data());
    // Scores of a few units, so the softmax is far from uniform.
    for (size_t i = 0; i < size_t(pairs) * d; ++i) qf[i] = 4.0f * uniform();
    const int chunks = (seq + chunk - 1) / chunk;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const std::string name = "kv_attention pairs=" + std::to_string(pairs) +
                             " seq=" + std::to_string(seq) + " chunk=" + std::to_string(chunk);
    auto part = guarded(size_t(pairs) * chunks * (d + 2), nan, SENTINEL);
    auto out = guarded(size_t(pairs) * d, nan, SENTINEL);
    emu::launch(dim3{unsigned(chunks), unsigned(pairs)}, dim3{32 * WARPS},
                attention_k::kv_attention_split, (const uint2*)k.data(), (const uint2*)v.data(),
                (const float4*)q.data(), part.data(), seq, chunk);
    if (!kept(name + " (split)", part, SENTINEL)) return;
    emu::launch(dim3{unsigned(pairs)}, dim3{unsigned(d)}, attention_k::kv_combine,
                (const float*)part.data(), out.data(), chunks);
    if (!kept(name, out, SENTINEL)) return;
    std::vector<double> want(out.size());
    for (int p = 0; p < pairs; ++p) {
        std::vector<double> s(seq);
        double mx = -1e300;
        for (int t = 0; t < seq; ++t) {
            double dot = 0;
            for (int i = 0; i < d; ++i)
                dot += double(qf[size_t(p) * d + i]) * from_bf16(kh[(size_t(p) * seq + t) * d + i]);
            s[t] = dot / std::sqrt(double(d));
            mx = std::max(mx, s[t]);
        }
        double norm = 0;
        for (double& e : s) norm += (e = std::exp(e - mx));
        for (int i = 0; i < d; ++i) {
            double acc = 0;
            for (int t = 0; t < seq; ++t) acc += s[t] * from_bf16(vh[(size_t(p) * seq + t) * d + i]);
            want[size_t(p) * d + i] = acc / norm;
        }
    }
    compare(name, out, want, 1e-5);
}

static void check_matmul(int n) {
    std::vector<__nv_bfloat16> a(size_t(n) * n), b(size_t(n) * n);
    for (auto& e : a) e.bits = to_bf16(uniform());
    for (auto& e : b) e.bits = to_bf16(uniform());
    const std::string name = "matmul_wmma_bf16 n=" + std::to_string(n);
    auto c = guarded(size_t(n) * n, std::numeric_limits<float>::quiet_NaN(), SENTINEL);
    const unsigned tiles = unsigned(n / 16) * unsigned(n / 16);
    emu::launch(dim3{(tiles * 32 + 255) / 256}, dim3{256}, matmul_k::matmul_wmma_bf16,
                (const __nv_bfloat16*)a.data(), (const __nv_bfloat16*)b.data(), c.data(), n);
    if (!kept(name, c, SENTINEL)) return;
    std::vector<double> want(c.size());
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
            double s = 0;
            for (int k = 0; k < n; ++k)
                s += from_bf16(a[size_t(i) * n + k].bits) * from_bf16(b[size_t(k) * n + j].bits);
            want[size_t(i) * n + j] = s;
        }
    compare(name, c, want, 1e-5);
}

int main(int argc, char** argv) {
    const unsigned long long seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1;
    rng.seed(seed);
    std::printf("seed %llu\n", seed);
    check_copy();
    check_decode<1>(decode_k::gemv_bf16_b1);
    check_decode<2>(decode_k::gemv_bf16_b2);
    check_decode<4>(decode_k::gemv_bf16_b4);
    check_decode<8>(decode_k::gemv_bf16_b8);
    check_decode<16>(decode_k::gemv_bf16_b16);
    check_decode<32>(decode_k::gemv_bf16_b32);
    check_decode<64>(decode_k::gemv_bf16_b64);
    check_attention(3, 300, 64);  // a last chunk of 44 positions
    check_attention(2, 7, 256);   // one chunk, fewer positions than a block has warps x 2
    check_attention(1, 3, 1);     // chunks of one position: three warps hold nothing
    check_matmul(48);
    std::printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
