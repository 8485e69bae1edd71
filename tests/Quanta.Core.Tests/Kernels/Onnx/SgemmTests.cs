using System.Diagnostics;
using System.Runtime.Intrinsics;
using Quanta.Core.Kernels.Onnx;
using Xunit.Abstractions;

namespace Quanta.Core.Tests.Kernels.Onnx;

[Trait("Category", "Kernels")]
public unsafe class SgemmTests(ITestOutputHelper output)
{
    private static int[] Paths()
    {
        var p = new List<int> { 0 };
        if (Vector128.IsHardwareAccelerated) p.Add(1);
        if (Vector256.IsHardwareAccelerated) p.Add(2);
        if (Vector512.IsHardwareAccelerated) p.Add(3);
        return p.ToArray();
    }

    private static float[] Random(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    private static void Check(int seed, int path, int m, int n, int k, bool ta, bool tb, bool acc)
    {
        var rng = new Random(seed);
        int lda = (ta ? m : k) + rng.Next(3), ldb = (tb ? k : n) + rng.Next(3), ldc = n + rng.Next(3);
        var a = Random(rng, (ta ? k : m) * lda);
        var b = Random(rng, (tb ? n : k) * ldb);
        var c0 = Random(rng, m * ldc);
        var expected = (float[])c0.Clone();
        var actual = (float[])c0.Clone();
        Sgemm.MultiplyReference(m, n, k, a, lda, ta, b, ldb, tb, expected, ldc, acc);
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = actual)
            Sgemm.Multiply(path, m, n, k, pa, lda, ta, pb, ldb, tb, pc, ldc, acc);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < ldc; j++)
        {
            int x = i * ldc + j;
            float tol = 1e-5f * k + 1e-5f;
            if (j >= n) Assert.True(actual[x] == c0[x], $"seed {seed}: padding column {j} of row {i} was written");
            else Assert.True(Math.Abs(actual[x] - expected[x]) <= tol,
                $"seed {seed} path {path} m={m} n={n} k={k} ta={ta} tb={tb} acc={acc}: C[{i},{j}] {actual[x]} vs reference {expected[x]}");
        }
    }

    [Fact]
    public void Every_path_matches_the_scalar_reference_on_small_and_odd_shapes()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        foreach (int path in Paths())
            for (int t = 0; t < 150; t++)
                Check(seed + t, path, rng.Next(1, 40), rng.Next(1, 80), rng.Next(0, 300), rng.Next(2) == 1, rng.Next(2) == 1, rng.Next(2) == 1);
    }

    [Fact]
    public void Every_path_matches_the_scalar_reference_on_large_shapes_crossing_block_edges()
    {
        int seed = Environment.TickCount;
        foreach (int path in Paths())
        {
            Check(seed, path, 100, 1100, 300, false, false, false);
            Check(seed + 1, path, 197, 65, 513, true, true, true);
            Check(seed + 2, path, 1, 300, 1, false, true, false);
        }
    }

    [Fact]
    public void Reports_single_thread_speed_for_512_cubed()
    {
        const int N = 512;
        var rng = new Random(1);
        var a = Random(rng, N * N);
        var b = Random(rng, N * N);
        var c = new float[N * N];
        Sgemm.Multiply(N, N, N, a, N, false, b, N, false, c, N, false);
        var sw = Stopwatch.StartNew();
        int reps = 0;
        while (sw.ElapsedMilliseconds < 300 || reps < 2)
        {
            Sgemm.Multiply(N, N, N, a, N, false, b, N, false, c, N, false);
            reps++;
        }
        double gflops = 2.0 * N * N * N * reps / sw.Elapsed.TotalSeconds / 1e9;
        output.WriteLine($"Sgemm 512x512x512, 1 thread, path {Sgemm.DefaultPath}: {gflops:F1} GFLOP/s ({reps} reps)");
        // Spot check one element against a direct dot product.
        double s = 0;
        for (int p = 0; p < N; p++) s += a[7 * N + p] * b[p * N + 300];
        Assert.True(Math.Abs(c[7 * N + 300] - s) < 1e-3, $"C[7,300] {c[7 * N + 300]} vs {s}");
    }
}
