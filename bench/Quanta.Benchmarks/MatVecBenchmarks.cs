using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Threading;

namespace Quanta.Benchmarks;

/// <summary>
/// Matrix x vector (decode) throughput of every weight format, in GB/s of weights read, next to the machine's
/// memory read bandwidth measured in the same run by <see cref="MemoryReadBenchmarks"/> (same buffer sizes, same
/// thread counts). Weights rotate over enough copies (at least 512 MiB in all) that every call reads from DRAM,
/// as decode does. Shape: 4096 x 4096 (a Llama-class attention projection).
/// Run: dotnet run -c Release --project bench/Quanta.Benchmarks -- --filter '*MatVec*' '*MemoryRead*'
/// </summary>
[Config(typeof(BandwidthConfig))]
public unsafe class MatVecBenchmarks
{
    public const int Rows = 4096, Cols = 4096;
    private const long MinTotalBytes = 512L << 20;

    [ParamsSource(nameof(AllFormats))]
    public WeightFormat Format { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    public static IEnumerable<WeightFormat> AllFormats() => KernelRegistry.Formats;

    private IVecDotKernel _kernel = null!;
    private WorkerPool _pool = null!;
    private byte* _weights;
    private long _matrixBytes;
    private int _copies, _next;
    private float* _x, _y;
    private byte* _scratch;

    /// <summary>Bytes of weights one call reads.</summary>
    public static long WeightBytes(WeightFormat f) => Rows * KernelRegistry.VecDot(f).WeightRowBytes(Cols);

    [GlobalSetup]
    public void Setup()
    {
        _kernel = KernelRegistry.VecDot(Format);
        _pool = new WorkerPool(Threads);
        _matrixBytes = WeightBytes(Format);
        _copies = (int)Math.Max(2, (MinTotalBytes + _matrixBytes - 1) / _matrixBytes);
        _weights = (byte*)NativeMemory.AlignedAlloc((nuint)(_matrixBytes * _copies), 64);
        var codec = CodecRegistry.For(Format);
        var rng = new Random(42);
        var row = new float[Cols];
        long rb = _kernel.WeightRowBytes(Cols);
        // quantize one matrix, then copy it: the bytes are realistic and setup stays fast
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Cols; c++) row[c] = (float)(rng.NextDouble() * 2 - 1);
            codec.Quantize(row, new Span<byte>(_weights + r * rb, (int)rb));
        }
        for (int k = 1; k < _copies; k++)
            Buffer.MemoryCopy(_weights, _weights + k * _matrixBytes, _matrixBytes, _matrixBytes);
        _x = (float*)NativeMemory.AlignedAlloc(Cols * sizeof(float), 64);
        _y = (float*)NativeMemory.AlignedAlloc(Rows * sizeof(float), 64);
        for (int c = 0; c < Cols; c++) _x[c] = (float)(rng.NextDouble() * 2 - 1);
        _scratch = (byte*)NativeMemory.AlignedAlloc((nuint)MatMul.ScratchBytes(_kernel, 1, Cols), 64);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.Dispose();
        NativeMemory.AlignedFree(_weights);
        NativeMemory.AlignedFree(_x);
        NativeMemory.AlignedFree(_y);
        NativeMemory.AlignedFree(_scratch);
    }

    [Benchmark]
    public float MatVec()
    {
        byte* w = _weights + _next * _matrixBytes;
        _next = (_next + 1) % _copies;
        MatMul.Vector(_kernel, w, Rows, Cols, _x, _y, _scratch, _pool);
        return _y[0];
    }
}

/// <summary>
/// The anchor: plain vector reads of a 512 MiB buffer split across the same thread counts, in 4096 x 4096 x 4-byte
/// chunks (the F32 matrix size), so its GB/s is the memory system's read bandwidth in this run.
/// </summary>
[Config(typeof(BandwidthConfig))]
public unsafe class MemoryReadBenchmarks
{
    public const long ChunkBytes = (long)MatVecBenchmarks.Rows * MatVecBenchmarks.Cols * 4;
    private const int Copies = 8;

    [Params(1, 2)]
    public int Threads { get; set; }

    private WorkerPool _pool = null!;
    private byte* _buf;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _pool = new WorkerPool(Threads);
        _buf = (byte*)NativeMemory.AlignedAlloc((nuint)(ChunkBytes * Copies), 64);
        new Span<byte>(_buf, int.MaxValue / 4).Fill(1);
        for (long i = 0; i < ChunkBytes * Copies; i += 4096) _buf[i] = 1;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.Dispose();
        NativeMemory.AlignedFree(_buf);
    }

    [Benchmark]
    public float ReadChunk()
    {
        byte* p = _buf + _next * ChunkBytes;
        _next = (_next + 1) % Copies;
        var body = new ReadBody { Base = p, Tiles = 256, TileBytes = ChunkBytes / 256 };
        _pool.For(body.Tiles, body);
        return 0;
    }

    private struct ReadBody : IParallelBody
    {
        public byte* Base;
        public int Tiles;
        public long TileBytes;

        public readonly void Execute(int tile)
        {
            float* f = (float*)(Base + tile * TileBytes);
            long n = TileBytes / 4;
            var a0 = System.Runtime.Intrinsics.Vector256<float>.Zero;
            var a1 = a0; var a2 = a0; var a3 = a0;
            for (long i = 0; i + 32 <= n; i += 32)
            {
                a0 += System.Runtime.Intrinsics.Vector256.Load(f + i);
                a1 += System.Runtime.Intrinsics.Vector256.Load(f + i + 8);
                a2 += System.Runtime.Intrinsics.Vector256.Load(f + i + 16);
                a3 += System.Runtime.Intrinsics.Vector256.Load(f + i + 24);
            }
            if (System.Runtime.Intrinsics.Vector256.Sum(a0 + a1 + a2 + a3) == 1.2345f) Base[0] = 0;
        }
    }
}

/// <summary>Short but stable runs, plus a GB/s column computed from the bytes each benchmark reads.</summary>
public class BandwidthConfig : ManualConfig
{
    public BandwidthConfig()
    {
        AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10).WithInvocationCount(32).WithUnrollFactor(1));
        AddColumn(new GBpsColumn());
        AddColumn(StatisticColumn.Median);
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}

/// <summary>GB/s (10^9 bytes per second) of data read per call, from the mean time.</summary>
public sealed class GBpsColumn : IColumn
{
    public string Id => "GBps";
    public string ColumnName => "GB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "gigabytes of weights (or buffer) read per second, from the mean time per call";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } stats) return "-";
        long bytes = benchmarkCase.Descriptor.Type == typeof(MemoryReadBenchmarks)
            ? MemoryReadBenchmarks.ChunkBytes
            : benchmarkCase.Parameters["Format"] is WeightFormat f ? MatVecBenchmarks.WeightBytes(f) : 0;
        return bytes == 0 ? "-" : (bytes / stats.Mean).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
    }
}
