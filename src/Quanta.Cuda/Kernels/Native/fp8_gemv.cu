// One-row product with FP8 E4M3 weights and F32 activations (decode at batch 1): y[n] = (sum_k w[n, k] x[k]) * wScale[0].
// Compiled at run time by NVRTC (Quanta.Cuda.Kernels.Fp8GemvNativeKernel) for sm_89 and later, where one instruction
// (cvt.rn.f16x2.e4m3x2) turns two E4M3 codes into two exact halves. No headers: builtins and inline PTX only.
//
// A block of 4 warps takes 8 rows; its warps split the columns (512-column chunks dealt round-robin, so even the
// 4,096-row products of an 8B model keep 512 blocks of 4 warps streaming); each lane reads 16 codes of each row per
// step (16-byte loads, two steps in flight: 256 bytes of weights per lane) and the matching 16 activations (four
// 16-byte loads, shared by the 8 rows). Products are summed in F32; the lanes' sums meet in a shuffle butterfly and the
// warps' in shared memory, in a fixed order. cols must be a multiple of 16 and
// the rows 16-byte aligned (cols % 16 == 0 with an aligned base). The NaN code 0x7F decodes to NaN (weights hold none).

typedef unsigned int u32;
typedef unsigned char u8;

struct alignas(16) U4
{
    u32 x, y, z, w;
};

struct alignas(16) F4
{
    float x, y, z, w;
};

__device__ __forceinline__ U4 ldg16(const u8* p)
{
    U4 v;
    asm("ld.global.nc.v4.u32 {%0,%1,%2,%3}, [%4];\n" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
    return v;
}

__device__ __forceinline__ F4 ldx(const float* p)
{
    F4 v;
    asm("ld.global.nc.v4.f32 {%0,%1,%2,%3}, [%4];\n" : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "l"(p));
    return v;
}

// four codes (one 32-bit word, little-endian) times x0..x3, added to acc
__device__ __forceinline__ float dot4(u32 codes, float x0, float x1, float x2, float x3, float acc)
{
    float f0, f1, f2, f3;
    asm("{\n"
        " .reg .b16 lo, hi;\n"
        " .reg .b32 h01, h23;\n"
        " .reg .b16 a, b, c, d;\n"
        " mov.b32 {lo, hi}, %4;\n"
        " cvt.rn.f16x2.e4m3x2 h01, lo;\n"
        " cvt.rn.f16x2.e4m3x2 h23, hi;\n"
        " mov.b32 {a, b}, h01;\n"
        " mov.b32 {c, d}, h23;\n"
        " cvt.f32.f16 %0, a;\n"
        " cvt.f32.f16 %1, b;\n"
        " cvt.f32.f16 %2, c;\n"
        " cvt.f32.f16 %3, d;\n"
        "}\n"
        : "=f"(f0), "=f"(f1), "=f"(f2), "=f"(f3)
        : "r"(codes));
    acc = fmaf(f0, x0, acc);
    acc = fmaf(f1, x1, acc);
    acc = fmaf(f2, x2, acc);
    return fmaf(f3, x3, acc);
}

__device__ __forceinline__ float dot16(U4 w, F4 xa, F4 xb, F4 xc, F4 xd, float acc)
{
    acc = dot4(w.x, xa.x, xa.y, xa.z, xa.w, acc);
    acc = dot4(w.y, xb.x, xb.y, xb.z, xb.w, acc);
    acc = dot4(w.z, xc.x, xc.y, xc.z, xc.w, acc);
    return dot4(w.w, xd.x, xd.y, xd.z, xd.w, acc);
}

__device__ __forceinline__ float warp_sum(float v)
{
#pragma unroll
    for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
    return v;
}

#define ROWS 8   // rows per block (FP8GemvNativeKernel.RowsPerBlock)

extern "C" __global__ void __launch_bounds__(128) fp8_gemv(const u8* __restrict__ w, const float* __restrict__ x,
    const float* __restrict__ wScale, float* __restrict__ y, int rows, int cols)
{
    __shared__ float part[4][ROWS];   // [warp][row]
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int r0 = blockIdx.x * ROWS;
    // rows past the end read the last row again (their sums are not written)
    const u8* wr[ROWS];
    float a[ROWS];
#pragma unroll
    for (int i = 0; i < ROWS; i++)
    {
        wr[i] = w + (long long)(r0 + i < rows ? r0 + i : rows - 1) * cols;
        a[i] = 0.f;
    }
    // warp w takes the 512-column chunks w, w + 4, w + 8, ... of the block's rows
    int k = (warp * 32 + lane) * 16;
    for (; k + 2048 < cols; k += 4096)
    {
        U4 p[ROWS], q[ROWS];
#pragma unroll
        for (int i = 0; i < ROWS; i++) p[i] = ldg16(wr[i] + k);
#pragma unroll
        for (int i = 0; i < ROWS; i++) q[i] = ldg16(wr[i] + k + 2048);
        F4 xa = ldx(x + k), xb = ldx(x + k + 4), xc = ldx(x + k + 8), xd = ldx(x + k + 12);
#pragma unroll
        for (int i = 0; i < ROWS; i++) a[i] = dot16(p[i], xa, xb, xc, xd, a[i]);
        xa = ldx(x + k + 2048);
        xb = ldx(x + k + 2052);
        xc = ldx(x + k + 2056);
        xd = ldx(x + k + 2060);
#pragma unroll
        for (int i = 0; i < ROWS; i++) a[i] = dot16(q[i], xa, xb, xc, xd, a[i]);
    }
    for (; k < cols; k += 2048)
    {
        U4 p[ROWS];
#pragma unroll
        for (int i = 0; i < ROWS; i++) p[i] = ldg16(wr[i] + k);
        F4 xa = ldx(x + k), xb = ldx(x + k + 4), xc = ldx(x + k + 8), xd = ldx(x + k + 12);
#pragma unroll
        for (int i = 0; i < ROWS; i++) a[i] = dot16(p[i], xa, xb, xc, xd, a[i]);
    }
#pragma unroll
    for (int i = 0; i < ROWS; i++)
    {
        float v = warp_sum(a[i]);
        if (lane == 0) part[warp][i] = v;
    }
    __syncthreads();
    // the four warps' sums in a fixed order: the result does not depend on timing
    if (threadIdx.x < ROWS && r0 + (int)threadIdx.x < rows)
    {
        int i = threadIdx.x;
        y[r0 + i] = ((part[0][i] + part[1][i]) + (part[2][i] + part[3][i])) * wScale[0];
    }
}
