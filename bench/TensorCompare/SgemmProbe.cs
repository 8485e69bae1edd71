using System.Diagnostics;
using System.Globalization;
using Quanta.Core.Kernels.Onnx;
using Quanta.Core.Threading;

/// <summary>
/// GFLOP/s of the graph executor's SGEMM on the product shapes of the compared models (MiniLM's linear layers with a
/// packed weight, ResNet-18's 3×3 convolutions with packed filters). Each shape runs repeatedly for a share of the time
/// and the best run is kept: on a shared machine the best of many short runs is the least disturbed one.
/// </summary>
internal static class SgemmProbe
{
    public static int Run(int threads, double seconds)
    {
        var r = new Random(1);
        float[] Rand(long n) { var v = new float[n]; for (long i = 0; i < n; i++) v[i] = (float)(r.NextDouble() - 0.5); return v; }
        using var pool = threads > 1 ? new WorkerPool(threads) : null;
        var cases = new List<(string Name, long Macs, Action<WorkerPool?> Run)>();
        foreach (var (m, k, n) in new[] { (16, 384, 384), (16, 384, 1536), (512, 384, 384), (512, 384, 1536), (512, 1536, 384) })
        {
            var a = Rand((long)m * k);
            var w = SgemmPackedOperand.PackB(Rand((long)k * n), k, n, n, false);
            var c = new float[m * n];
            var bias = Rand(n);
            cases.Add(($"linear m{m} k{k} n{n} (packed B)", (long)m * n * k, p => SgemmParallel.Multiply(p, m, a, k, false, w, c, n, bias, false)));
        }
        foreach (var (ch, hw, oc) in new[] { (64, 56, 64), (128, 28, 128), (256, 14, 256), (512, 7, 512) })
        {
            var shape = new Conv2dShape(ch, hw, hw, 3, 3, 1, 1, 1, 1, 1, 1, hw, hw);
            var w = SgemmPackedOperand.PackA(Rand((long)oc * shape.Rows), oc, shape.Rows, shape.Rows, false);
            var x = Rand((long)ch * hw * hw);
            var y = new float[(long)oc * shape.Plane];
            var bias = Rand(oc);
            cases.Add(($"conv3x3 {ch}x{hw}x{hw} -> {oc} (im2col, packed filters)", (long)oc * shape.Plane * shape.Rows,
                p => SgemmConv.Forward(p, w, x, shape, y, bias, true)));
            int batch = 16;
            var xb = Rand((long)batch * ch * hw * hw);
            var yb = new float[(long)batch * oc * shape.Plane];
            var sb = new float[SgemmConv.BatchScratchLength(shape, oc, batch)];
            cases.Add(($"conv3x3 {ch}x{hw}x{hw} -> {oc} batch {batch}", (long)batch * oc * shape.Plane * shape.Rows,
                p => SgemmConv.ForwardBatch(p, w, xb, ch * hw * hw, batch, shape, yb, oc * shape.Plane, bias, true, sb)));
        }
        double each = seconds / 2;
        Console.Out.WriteLine($"| shape | GFLOP/s 1 thread | GFLOP/s {threads} threads |");
        Console.Out.WriteLine("| --- | ---: | ---: |");
        foreach (var (name, macs, run) in cases)
        {
            double Best(WorkerPool? p)
            {
                run(p);
                double best = double.MaxValue;
                var total = Stopwatch.StartNew();
                do
                {
                    long t0 = Stopwatch.GetTimestamp();
                    run(p);
                    best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
                }
                while (total.Elapsed.TotalSeconds < each);
                return 2.0 * macs / best / 1e9;
            }
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {Best(null):F1} | {Best(pool):F1} |"));
        }
        return 0;
    }
}
