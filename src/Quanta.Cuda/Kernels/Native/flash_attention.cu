// Causal prefill attention in one pass over the keys (FlashAttention-2 style), on the tensor cores through
// mma.sync m16n8k16 (BF16 inputs, F32 accumulators): no score matrix is written. Compiled at run time by NVRTC
// (Quanta.Cuda.Kernels.FlashAttentionKernel), for sm_80 and later. No headers: builtins and inline PTX only.
//
// Inputs (the executor's prefill buffers):
//   qkv      F32 token rows of the fused QKV product, row t at qkv + t * qkvStride, query head h at columns [h*HD, h*HD+HD)
//   keys     BF16 K [kvHeads, keyRows, HD]   (gathered from the paged cache, zeros at positions >= length up to padded)
//   valuesT  BF16 V^T [kvHeads, HD, keyRows]
//   out      F32 token rows [tokens, heads*HD]
// Token t sits at position firstPos + t and attends keys [lo, firstPos + t], lo = max(0, pos - window + 1) with a
// sliding window, else 0. Scores are q.k * scale (soft-capped: softCap * tanh(s / softCap) when softCap > 0).
//
// Work split: query rows are grouped per KV head, row r = t * G + j for query head kvh * G + j (G = heads / kvHeads),
// so one key/value stream serves a whole group. A block of 4 warps takes 64 rows of one KV head (blockIdx.y), each
// warp 16 rows; the block walks the keys in tiles of 64 up to its last row's position, each tile loaded once into
// shared memory for all 4 warps (cp.async, two stages: the next tile loads while this one is used), and each warp
// skips the tiles past its own last row. Blocks run longest rows first.
// Per key block: S = Q K^T (Q held in registers as A fragments), online softmax (running max and sum per row, the
// sum of the unrounded F32 exponentials, as the executor's unfused path sums them), P rounded to BF16 and
// O += P V with P taken straight from the S accumulators (the C fragment of two 8-key tiles is the A fragment of a
// 16-key step). At the end O / sum goes to the token rows.
//
// Index permutations (any permutation of the inner dimension leaves a dot product unchanged, as long as both operands
// use the same one): in the head dimension, thread tid of a quad owns dims u*32 + tid*8 + [0, 8) of k-steps 2u and
// 2u+1, so each K row is read with 16-byte loads; in the key dimension, logical column j of 8-key tile 4u + h maps to
// key u*32 + (j/2)*8 + h*2 + j%2, so each V^T row is read with 16-byte loads as well.

typedef unsigned int u32;
typedef unsigned short u16;

#define NEG_INF __int_as_float(0xff800000)
#define LOG2E 1.4426950408889634f

// F32 -> BF16 bits, round to nearest even, quiet NaN (Quanta.Cuda.Kernels.NumberBits.ToBf16)
__device__ __forceinline__ u32 bf16_bits(float f)
{
    u32 u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 64u;
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

__device__ __forceinline__ u32 pack_bf16(float lo, float hi) { return bf16_bits(lo) | (bf16_bits(hi) << 16); }

__device__ __forceinline__ void mma_bf16(float* c, u32 a0, u32 a1, u32 a2, u32 a3, u32 b0, u32 b1)
{
    asm(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

struct alignas(16) U4
{
    u32 x, y, z, w;
};

__device__ __forceinline__ int imin(int a, int b) { return a < b ? a : b; }
__device__ __forceinline__ int imax(int a, int b) { return a > b ? a : b; }

__device__ __forceinline__ float quad_max(float v)
{
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
    return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}

__device__ __forceinline__ float quad_sum(float v)
{
    v += __shfl_xor_sync(0xffffffffu, v, 1);
    return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

// async 16-byte copy global -> shared (sm_80+), bypassing L1
__device__ __forceinline__ void cp_async16(void* smemDst, const void* gmemSrc)
{
    u32 a;
    asm volatile("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }\n" : "=r"(a) : "l"(smemDst));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(a), "l"(gmemSrc) : "memory");
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }

// this thread's two columns of each 8-column output tile of one of its rows (half 0: o[.][0..1], half 1: o[.][2..3]),
// times the row's 1 / sum
template <int DT>
__device__ __forceinline__ void store_row(float* dst, const float (*o)[4], int half, float inv)
{
#pragma unroll
    for (int dt = 0; dt < DT; dt++)
    {
        dst[dt * 8] = o[dt][2 * half] * inv;
        dst[dt * 8 + 1] = o[dt][2 * half + 1] * inv;
    }
}

// Shared-memory tiles of 64 keys, two stages (the next tile loads while this one is used). Row strides are 64 bytes
// more than a multiple of 128 so the two rows one 8-lane phase of a 16-byte load touches fall in different banks.
template <int HD>
struct Tiles
{
    static constexpr int KStride = HD + 32;       // elements per key row of K
    static constexpr int VStride = 64 + 32;       // elements per head-dimension row of V^T
    static constexpr int KElems = 64 * KStride;
    static constexpr int VElems = HD * VStride;
    static constexpr int StageElems = KElems + VElems;
    static constexpr int Bytes = 2 * StageElems * 2;   // FlashAttentionKernel.SharedBytes computes the same
};

template <int HD>
__device__ __forceinline__ void load_tile(u16* stage, const u16* kBase, const u16* vBase, int kb, int keyRows, int padded)
{
    constexpr int KC = HD / 8;   // 16-byte chunks per key row
    u16* sk = stage;
    u16* sv = stage + Tiles<HD>::KElems;
#pragma unroll
    for (int i = threadIdx.x; i < 64 * KC; i += 128)
    {
        int key = i / KC, c = i - key * KC;
        int row = imin(kb + key, padded - 1);
        cp_async16(sk + key * Tiles<HD>::KStride + c * 8, kBase + (long long)row * HD + c * 8);
    }
#pragma unroll
    for (int i = threadIdx.x; i < HD * 8; i += 128)
    {
        int d = i >> 3, c = i & 7;
        int k0 = imin(kb + c * 8, padded - 8);   // past padded every P is 0: any finite row will do
        cp_async16(sv + d * Tiles<HD>::VStride + c * 8, vBase + (long long)d * keyRows + k0);
    }
}

template <int HD>
__device__ __forceinline__ void flash_attention(const float* __restrict__ qkv, const u16* __restrict__ keys,
    const u16* __restrict__ valuesT, float* __restrict__ out, int tokens, int firstPos, int heads, int kvHeads,
    int qkvStride, int keyRows, int padded, int window, float scale, float softCap)
{
    extern __shared__ u16 smem[];   // dynamic: 16-byte aligned
    constexpr int KS = HD / 16;   // k-steps of the score product
    constexpr int DT = HD / 8;    // 8-column tiles of the output
    const int g = heads / kvHeads, rowsTotal = tokens * g;
    const int kvh = blockIdx.y;
    const int tile = gridDim.x - 1 - blockIdx.x;   // longest rows first
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int b0 = tile * 64;
    const int r0 = b0 + warp * 16;
    const bool active = r0 < rowsTotal;
    const int gid = lane >> 2, tid = lane & 3;
    const int ra = r0 + gid, rb = ra + 8;
    const bool va = ra < rowsTotal, vb = rb < rowsTotal;
    const int ta = va ? ra / g : 0, tb = vb ? rb / g : 0;
    const int ha = kvh * g + (va ? ra - ta * g : 0), hb = kvh * g + (vb ? rb - tb * g : 0);
    const int posA = va ? firstPos + ta : -1, posB = vb ? firstPos + tb : -1;
    const int loA = window > 0 ? imax(0, posA - window + 1) : 0, loB = window > 0 ? imax(0, posB - window + 1) : 0;
    // the block's key range (all warps load it together) and this warp's part of it
    const int blockKeyEnd = firstPos + (imin(b0 + 63, rowsTotal - 1)) / g + 1;   // exclusive
    const int blockKeyStart = window > 0 ? imax(0, firstPos + b0 / g - window + 1) & ~63 : 0;
    const int warpKeyEnd = active ? firstPos + (imin(r0 + 15, rowsTotal - 1)) / g + 1 : 0;
    const int warpKeyStart = window > 0 && active ? imax(0, firstPos + r0 / g - window + 1) : 0;

    // Q as A fragments: k-step 2u + s holds dims u*32 + tid*8 + s*4 + [0, 2) (a0/a1) and + [2, 4) (a2/a3)
    u32 q[KS][4];
    {
        const float* qa = qkv + (long long)ta * qkvStride + ha * HD;
        const float* qb = qkv + (long long)tb * qkvStride + hb * HD;
#pragma unroll
        for (int ks = 0; ks < KS; ks++)
        {
            int d = (ks >> 1) * 32 + tid * 8 + (ks & 1) * 4;
            float x0 = va ? qa[d] : 0.f, x1 = va ? qa[d + 1] : 0.f, x2 = va ? qa[d + 2] : 0.f, x3 = va ? qa[d + 3] : 0.f;
            float y0 = vb ? qb[d] : 0.f, y1 = vb ? qb[d + 1] : 0.f, y2 = vb ? qb[d + 2] : 0.f, y3 = vb ? qb[d + 3] : 0.f;
            q[ks][0] = pack_bf16(x0, x1);
            q[ks][1] = pack_bf16(y0, y1);
            q[ks][2] = pack_bf16(x2, x3);
            q[ks][3] = pack_bf16(y2, y3);
        }
    }

    const u16* kBase = keys + (long long)kvh * keyRows * HD;
    const u16* vBase = valuesT + (long long)kvh * HD * keyRows;
    const float s2 = scale * LOG2E;
    float o[DT][4];
#pragma unroll
    for (int i = 0; i < DT; i++) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
    float mA = NEG_INF, mB = NEG_INF, lA = 0.f, lB = 0.f;

    const int tiles = (blockKeyEnd - blockKeyStart + 63) / 64;
    load_tile<HD>(smem, kBase, vBase, blockKeyStart, keyRows, padded);
    cp_async_commit();
    for (int it = 0; it < tiles; it++)
    {
        const int kb = blockKeyStart + it * 64;
        if (it + 1 < tiles)
        {
            load_tile<HD>(smem + ((it + 1) & 1) * Tiles<HD>::StageElems, kBase, vBase, kb + 64, keyRows, padded);
            cp_async_commit();
            cp_async_wait<1>();
        }
        else
            cp_async_wait<0>();
        __syncthreads();
        if (active && kb < warpKeyEnd && kb + 64 > warpKeyStart)
        {
            const u16* sk = smem + (it & 1) * Tiles<HD>::StageElems;
            const u16* sv = sk + Tiles<HD>::KElems;
            float s[8][4];
#pragma unroll
            for (int nt = 0; nt < 8; nt++) s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
            // S = Q K^T: this lane feeds key row u*32 + (gid/2)*8 + h*2 + gid%2 of tile 4u + h
#pragma unroll
            for (int nt = 0; nt < 8; nt++)
            {
                const u16* kr = sk + ((nt >> 2) * 32 + (gid >> 1) * 8 + (nt & 3) * 2 + (gid & 1)) * Tiles<HD>::KStride + tid * 8;
#pragma unroll
                for (int u = 0; u < KS / 2; u++)
                {
                    U4 kv = *reinterpret_cast<const U4*>(kr + u * 32);
                    mma_bf16(s[nt], q[2 * u][0], q[2 * u][1], q[2 * u][2], q[2 * u][3], kv.x, kv.y);
                    mma_bf16(s[nt], q[2 * u + 1][0], q[2 * u + 1][1], q[2 * u + 1][2], q[2 * u + 1][3], kv.z, kv.w);
                }
            }
            // scale, cap, mask; this thread's columns of tile 4u + h are keys kb + u*32 + tid*8 + h*2 + [0, 2)
            float mxA = NEG_INF, mxB = NEG_INF;
#pragma unroll
            for (int nt = 0; nt < 8; nt++)
            {
#pragma unroll
                for (int e = 0; e < 2; e++)
                {
                    int key = kb + (nt >> 2) * 32 + tid * 8 + (nt & 3) * 2 + e;
                    float a = s[nt][e], b = s[nt][2 + e];
                    if (softCap > 0.f)
                    {
                        a = softCap * tanhf(a * scale / softCap) * LOG2E;
                        b = softCap * tanhf(b * scale / softCap) * LOG2E;
                    }
                    else
                    {
                        a *= s2;
                        b *= s2;
                    }
                    a = (key > posA || key < loA) ? NEG_INF : a;
                    b = (key > posB || key < loB) ? NEG_INF : b;
                    s[nt][e] = a;
                    s[nt][2 + e] = b;
                    mxA = fmaxf(mxA, a);
                    mxB = fmaxf(mxB, b);
                }
            }
            mxA = quad_max(mxA);
            mxB = quad_max(mxB);
            float nA = fmaxf(mA, mxA), nB = fmaxf(mB, mxB);
            // a row with no visible key yet keeps max -inf: its exponentials are 0 and nothing is rescaled
            float baseA = nA == NEG_INF ? 0.f : nA, baseB = nB == NEG_INF ? 0.f : nB;
            float alphaA = exp2f(mA - baseA), alphaB = exp2f(mB - baseB);
            mA = nA;
            mB = nB;
            float sumA = 0.f, sumB = 0.f;
#pragma unroll
            for (int nt = 0; nt < 8; nt++)
            {
                s[nt][0] = exp2f(s[nt][0] - baseA);
                s[nt][1] = exp2f(s[nt][1] - baseA);
                s[nt][2] = exp2f(s[nt][2] - baseB);
                s[nt][3] = exp2f(s[nt][3] - baseB);
                sumA += s[nt][0] + s[nt][1];
                sumB += s[nt][2] + s[nt][3];
            }
            lA = lA * alphaA + sumA;
            lB = lB * alphaB + sumB;
#pragma unroll
            for (int i = 0; i < DT; i++)
            {
                o[i][0] *= alphaA;
                o[i][1] *= alphaA;
                o[i][2] *= alphaB;
                o[i][3] *= alphaB;
            }
            // O += P V: k-step 2u + s takes tiles 4u + 2s (keys ... + [0, 2)) and 4u + 2s + 1 (keys ... + [2, 4))
#pragma unroll
            for (int u = 0; u < 2; u++)
            {
                u32 pe0 = pack_bf16(s[4 * u][0], s[4 * u][1]), pe1 = pack_bf16(s[4 * u][2], s[4 * u][3]);
                u32 pe2 = pack_bf16(s[4 * u + 1][0], s[4 * u + 1][1]), pe3 = pack_bf16(s[4 * u + 1][2], s[4 * u + 1][3]);
                u32 po0 = pack_bf16(s[4 * u + 2][0], s[4 * u + 2][1]), po1 = pack_bf16(s[4 * u + 2][2], s[4 * u + 2][3]);
                u32 po2 = pack_bf16(s[4 * u + 3][0], s[4 * u + 3][1]), po3 = pack_bf16(s[4 * u + 3][2], s[4 * u + 3][3]);
#pragma unroll
                for (int dt = 0; dt < DT; dt++)
                {
                    U4 vv = *reinterpret_cast<const U4*>(sv + (dt * 8 + gid) * Tiles<HD>::VStride + u * 32 + tid * 8);
                    mma_bf16(o[dt], pe0, pe1, pe2, pe3, vv.x, vv.y);
                    mma_bf16(o[dt], po0, po1, po2, po3, vv.z, vv.w);
                }
            }
        }
        __syncthreads();   // every warp is done with this stage before the next load overwrites it
    }

    if (!active) return;
    lA = quad_sum(lA);
    lB = quad_sum(lB);
    const int rowFloats = heads * HD;
    if (va) store_row<DT>(out + (long long)ta * rowFloats + ha * HD + tid * 2, o, 0, 1.f / lA);
    if (vb) store_row<DT>(out + (long long)tb * rowFloats + hb * HD + tid * 2, o, 1, 1.f / lB);
}

#define FLASH_ENTRY(HD)                                                                                               \
    extern "C" __global__ void __launch_bounds__(128) flash_attention_##HD(const float* qkv, const u16* keys,         \
        const u16* valuesT, float* out, int tokens, int firstPos, int heads, int kvHeads, int qkvStride, int keyRows, \
        int padded, int window, float scale, float softCap)                                                           \
    {                                                                                                                 \
        flash_attention<HD>(qkv, keys, valuesT, out, tokens, firstPos, heads, kvHeads, qkvStride, keyRows, padded,    \
            window, scale, softCap);                                                                                  \
    }

FLASH_ENTRY(64)
FLASH_ENTRY(128)

